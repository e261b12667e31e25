"""Starting one audit process per site: a fresh ``govaudit check`` interpreter, or a fork of a warm one.

A fleet site's audit used to spend about half its time before the first request: starting Python,
importing Scrapy/Twisted/SQLAlchemy/openpyxl, loading every plugin entry point, validating the rule
declarations against their JSON Schema and compiling the report template — the same work for every
one of a province's 800 sites (bench/README.md "Fleet speed" has the profile).

``fork`` (the default on Linux) keeps the rule of one process per audit but pays that work once:
:mod:`multiprocessing`'s **forkserver** — a single-threaded server process started once per fleet
worker with :data:`PRELOAD` imported — forks a child per audit, and the child runs ``govaudit check``'s
own entry point (:func:`auditor.cli.main.main`). Twisted's reactor cannot restart in one interpreter,
but the forkserver never installs one (it only imports modules; :mod:`auditor.fleet.preload` checks
that ``twisted.internet.reactor`` was not imported), so every forked child installs and runs a reactor
of its own, exactly as a fresh interpreter would. The server is single-threaded, so forking it is
safe where forking the multi-threaded fleet worker would not be.

``exec`` is the plain ``subprocess`` of ``python -m auditor.cli.main check …`` (any platform).

Either way the audit dies with its supervisor: the exec'd child has ``PR_SET_PDEATHSIG`` towards the
worker; a forked child has it towards the forkserver, which exits as soon as the worker that started
it is gone (multiprocessing's "alive" pipe reaches EOF) — ``kill -9`` of a worker still takes its
audits with it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from typing import Any, Protocol

PRELOAD = ["auditor.fleet.preload"]
LAUNCHERS = ("fork", "exec")
_lock = threading.Lock()
_context: Any = None


def default_launcher() -> str:
    return "fork" if sys.platform.startswith("linux") else "exec"


class Audit(Protocol):
    """What the runner needs of a started audit (a ``Popen`` or a forked :class:`Forked`)."""

    pid: int

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Forked:
    """A forked audit, with the ``Popen`` calls the runner uses."""

    def __init__(self, proc: multiprocessing.process.BaseProcess) -> None:
        self.proc = proc
        self.pid = int(proc.pid or 0)

    def wait(self, timeout: float | None = None) -> int:
        self.proc.join(timeout)
        if self.proc.exitcode is None:
            raise subprocess.TimeoutExpired(["govaudit", "check"], timeout or 0)
        return int(self.proc.exitcode)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, AttributeError):
            self.proc.kill()


def _forkserver() -> Any:
    global _context
    with _lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


def start(argv: list[str], log_path: str, env: dict[str, str], launcher: str) -> Audit:
    """Start ``govaudit check`` with ``argv`` (the words after ``govaudit``), output to ``log_path``."""

    if launcher == "fork" and sys.platform.startswith("linux"):
        proc = _forkserver().Process(target=_child, args=(argv, log_path, env), name="govaudit-check", daemon=False)
        proc.start()
        return Forked(proc)
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "auditor.cli.main", *argv], stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **env},
                                preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)


def _tie_to_supervisor() -> None:  # pragma: no cover - runs in the child
    """Die with the fleet worker that asked for this audit.

    The forkserver outlives its clients while any forked child holds the "alive" pipe multiprocessing
    hands every child (so a child could use the server itself): the audit closes its copy, so the
    worker's death is the pipe's EOF, the forkserver exits, and ``PR_SET_PDEATHSIG`` kills the audit."""

    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None  # type: ignore[union-attr]
    die_with_parent()
    parent = multiprocessing.parent_process()  # the worker (the forkserver is only our OS parent)
    if parent is not None and parent.pid:
        try:
            os.kill(parent.pid, 0)
        except ProcessLookupError:
            os._exit(128 + signal.SIGKILL)  # it died before the tie was made


def _child(argv: list[str], log_path: str, env: dict[str, str]) -> None:  # pragma: no cover - runs in the child
    """The forked audit: stdout/stderr into its log, the fleet's environment, then ``govaudit``'s own
    entry point — the same code path, exit codes and no-traceback rule as a ``govaudit check`` process."""

    _tie_to_supervisor()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace", line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="replace", line_buffering=True)
    os.environ.update(env)
    sys.argv = ["govaudit", *argv]
    from auditor.cli.main import main

    code: Any = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    finally:
        # multiprocessing ends its children with os._exit: run what a normal interpreter exit would
        atexit._run_exitfuncs()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    sys.exit(code)
