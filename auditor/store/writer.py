"""The crawl's store writes in a process of their own, so the crawl keeps its core and its GIL.

Why a process and not the writer thread it replaces: SQLite releases the GIL while it steps a
statement, and takes it back for every row it binds — ≈30 link rows a page, so on a fast site the
writer thread asks for the GIL thousands of times a second and the reactor thread waits for it
each time. Measured on the 5,000-page bench site (bench/README.md, "Store writes in a process"):
the reactor thread was busy 63 % of the crawl and the downloads took 31 ms on average against a
loopback server that answers in 2 ms, with no core saturated — the reactor was waiting for the
GIL, not working. Here the crawl process only pickles each batch (one C call) and writes it to a
pipe; a second process unpickles and inserts it in one transaction, exactly as the thread did.

What is kept from the thread: one transaction per batch, batches in crawl order (one process, one
FIFO pipe, so the fetch ids are in crawl order), back-pressure (a writer that falls behind fills
the pipe and the crawl's next write waits, instead of batches piling up in memory), the same
retries for a locked database, and the rows that still fail are counted, not fatal.

What is added: nothing is lost if the writer dies. Every batch stays in the crawl process until
the writer has acknowledged its commit; a batch the writer never acknowledged is written in the
crawl process instead (:meth:`WriterProcess.close` and the first write after the writer is gone
both do it). (A batch the writer had committed but not yet acknowledged when it died would be
stored twice: the window is the one write of its acknowledgement, and the writer only dies on
its own when it is killed on its own — a killed crawl closes the pipe and the writer finishes.) A crawl killed with ``kill -9`` closes the pipe; the writer then commits what it had
received and exits, so a ``--resume`` finds more, not less, than with the thread.

The protocol: length-prefixed pickles. In: the database URL (not on the command line, where
``ps`` would show a PostgreSQL password), then one ``dict`` of table → rows per batch, then an
empty frame (done). Out: one frame per batch, ``(rows written, rows failed, message)``. The writer
ignores SIGINT and SIGTERM: the audit's own interrupt handling stops the crawl, which then closes
the pipe; the writer stops when its stdin closes.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import os
import pickle
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any

log = logging.getLogger(__name__)

_HEADER = 4  # bytes of the big-endian frame length
PIPE_BYTES = 1 << 20  # a batch or two in flight (≤10,000 rows, ≈2.5 MB with page bodies, fills it: back-pressure)
SEND_BACKLOG = 2  # pickled batches waiting for the sender thread; then the reactor waits (back-pressure)
ATTEMPTS = 5  # a locked database is retried this many times, as the writer thread did
CLOSE_SECONDS = 600.0  # how long close() waits for the writer to commit what it was sent

Batch = dict[str, list[Any]]


def write_with_retries(store: Any, batch: Batch) -> str | None:
    """Insert ``batch`` in one transaction, retrying a locked database; None, or why it failed."""

    for attempt in range(ATTEMPTS):
        try:
            store.write_rows(batch)
            return None
        except Exception as exc:  # noqa: BLE001 - the crawl goes on; the loss is counted and reported
            if attempt == ATTEMPTS - 1:
                return f"{type(exc).__name__}: {exc}"
            time.sleep(0.2 * (attempt + 1))
    return None  # pragma: no cover - the loop returns


def batch_rows(batch: Batch) -> int:
    return sum(len(rows) for rows in batch.values())


class WriterProcess:
    """The crawl side: :meth:`write` hands a batch over, :meth:`close` waits for all of them.

    ``store`` is the audit's own :class:`~auditor.store.database.EvidenceStore`: its URL tells the
    writer where to write, and it writes whatever the writer did not acknowledge. The reactor
    thread only pickles a batch; a sender thread does the blocking pipe write (a 10,000-row batch
    is bigger than a pipe, and the reactor must not wait while the writer commits the one before),
    and at most :data:`SEND_BACKLOG` pickled batches wait for it — then the reactor waits too.
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.failed_rows = 0
        self.errors: list[str] = []
        self.fallbacks = 0  # batches the crawl process wrote itself (the writer was gone)
        self._unacked: collections.deque[Batch] = collections.deque()
        self._inbox = b""
        self._proc: subprocess.Popen[bytes] | None = None
        self._outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=SEND_BACKLOG)
        self._broken = threading.Event()  # set by the sender when the pipe broke
        self._sender: threading.Thread | None = None
        try:
            proc = subprocess.Popen([sys.executable, "-m", "auditor.store.writer"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
        except OSError as exc:
            log.warning("store writer process could not start (%s): writing in the crawl process", exc)
            return
        assert proc.stdin is not None and proc.stdout is not None
        from auditor.crawl.parsework import enlarge_pipes  # the crawl side only (the writer needs no lxml)

        enlarge_pipes(proc.stdin, proc.stdout, size=PIPE_BYTES)
        os.set_blocking(proc.stdout.fileno(), False)  # acknowledgements are read when there are some
        self._proc = proc
        self._sender = threading.Thread(target=self._send_loop, args=(proc.stdin.fileno(),),
                                        name="govaudit-store-sender", daemon=True)
        self._sender.start()
        self._outbox.put(pickle.dumps(str(store.url)))

    @property
    def alive(self) -> bool:
        return self._proc is not None

    def write(self, batch: Batch) -> None:
        """Hand ``batch`` over (waits only while the writer is :data:`SEND_BACKLOG` batches behind)."""

        self._read_acks()
        if self._proc is None:
            self._write_here(batch)
            return
        self._unacked.append(batch)
        payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        while not self._broken.is_set():
            try:
                self._outbox.put(payload, timeout=1.0)
                return
            except queue.Full:
                continue
        self._gone()  # the pipe broke: this batch and every unacknowledged one are written here

    def close(self) -> None:
        """Wait until the writer has committed everything (or write the rest here), then reap it."""

        proc = self._proc
        if proc is not None:
            self._stop_sender(b"")
            deadline = time.monotonic() + CLOSE_SECONDS
            while self._proc is not None and self._unacked and time.monotonic() < deadline:
                assert proc.stdout is not None
                select.select([proc.stdout], [], [], 1.0)
                self._read_acks()
            if self._proc is not None and self._unacked:
                log.warning("store writer did not finish %d batch(es) in %.0f s: writing them in the crawl process",
                            len(self._unacked), CLOSE_SECONDS)
                proc.kill()  # first: it must not commit a batch this process is about to write
            self._gone()
        while self._unacked:
            self._write_here(self._unacked.popleft())

    # -- crawl side internals ------------------------------------------------------------------
    def _send_loop(self, fd: int) -> None:
        """The sender thread: pickled batches out through the pipe, framed, until told to stop."""

        while (payload := self._outbox.get()) is not None:
            if self._broken.is_set():
                continue  # drained: the batches are still in _unacked
            data = memoryview(len(payload).to_bytes(_HEADER, "big") + payload)
            try:
                while data:
                    data = data[os.write(fd, data):]
            except OSError:
                self._broken.set()

    def _stop_sender(self, last: bytes | None) -> None:
        """Queue ``last`` (the empty "done" frame) and the stop mark, wait for the sender, close stdin."""

        sender, self._sender = self._sender, None
        if sender is None:
            return
        for item in ([last] if last is not None and not self._broken.is_set() else []) + [None]:
            while sender.is_alive():
                try:
                    self._outbox.put(item, timeout=1.0)
                    break
                except queue.Full:
                    continue
        sender.join()
        proc = self._proc
        if proc is not None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def _read_acks(self) -> None:
        proc = self._proc
        if proc is None:
            return
        assert proc.stdout is not None
        ended = False
        while True:
            try:
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
            except BlockingIOError:
                break
            except OSError:
                ended = True
                break
            if not chunk:
                ended = True
                break
            self._inbox += chunk
        while len(self._inbox) >= _HEADER:
            size = int.from_bytes(self._inbox[:_HEADER], "big")
            if len(self._inbox) < _HEADER + size:
                break
            frame, self._inbox = self._inbox[_HEADER:_HEADER + size], self._inbox[_HEADER + size:]
            _written, failed, message = pickle.loads(frame)
            if self._unacked:
                self._unacked.popleft()
            if failed:
                self.failed_rows += failed
                self.errors.append(message)
                log.error("storing a batch of crawl rows failed: %s", message)
        if ended or self._broken.is_set():
            self._gone()

    def _gone(self) -> None:
        """The writer is not there any more (or must not be): reap it, and write here every batch
        it did not acknowledge."""

        proc = self._proc
        if proc is None:
            return
        if self._sender is not None:
            self._broken.set()  # the sender drops what is queued; _unacked still holds it
            self._stop_sender(None)
        self._proc = None
        with contextlib.suppress(OSError):
            assert proc.stdin is not None
            proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if self._unacked:
            self.fallbacks += len(self._unacked)
            log.warning("store writer process ended: %d batch(es) written in the crawl process", len(self._unacked))
        while self._unacked:
            self._write_here(self._unacked.popleft())

    def _write_here(self, batch: Batch) -> None:
        message = write_with_retries(self.store, batch)
        if message is not None:
            self.failed_rows += batch_rows(batch)
            self.errors.append(message)
            log.error("storing a batch of crawl rows failed: %s", message)


def main() -> None:
    """The writer: batches in on stdin, one acknowledgement per committed batch out on stdout."""

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the crawl closes our pipe
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # so does a group's TERM: we finish what we were sent
    logging.disable(logging.CRITICAL)  # failures go back in the acknowledgements
    # a 10,000-row batch unpickles into 10,000 tuples that all die together once committed: with
    # the default young-generation threshold (700) the collector would scan them 14 times a batch
    gc.set_threshold(50_000, 10, 10)
    out: Any = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library printing to stdout must not corrupt the frames
    inp = sys.stdin.buffer

    def frame() -> bytes | None:
        head = inp.read(_HEADER)
        if len(head) < _HEADER:
            return None
        size = int.from_bytes(head, "big")
        payload = inp.read(size)
        return payload if len(payload) == size else None

    first = frame()
    if not first:
        return
    from auditor.store.database import EvidenceStore

    store = EvidenceStore(pickle.loads(first), prepare=False)
    try:
        while (payload := frame()):  # None: the crawl is gone; b"": it is done
            batch: Batch = pickle.loads(payload)
            message = write_with_retries(store, batch)
            n = batch_rows(batch)
            if out is None:
                continue  # the crawl is gone: what it sent is still committed, nobody to tell
            ack = pickle.dumps((0, n, message) if message else (n, 0, None))
            try:
                out.write(len(ack).to_bytes(_HEADER, "big") + ack)
                out.flush()
            except OSError:  # BrokenPipeError: the crawl died (kill -9) with batches in our pipe
                out = None
    finally:
        with contextlib.suppress(Exception):
            store.close()


if __name__ == "__main__":
    main()
