"""A real PostgreSQL server for tests: ``scripts/pg.sh`` on a free loopback port, once per session.

``.ci/run`` starts one and exports ``GOVAUDIT_TEST_PG``; without it the fixture starts its own in a
temporary folder and stops it at the end. Skipped (with the reason) only when the PostgreSQL server
binaries are not installed.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def postgres_binaries() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or bool(shutil.which("pg_ctl") and shutil.which("initdb"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql://govaudit@127.0.0.1:PORT/govaudit`` of a running server (trust auth, loopback only)."""

    given = os.environ.get("GOVAUDIT_TEST_PG")
    if given:
        yield given
        return
    if not postgres_binaries():
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql): distributed fleet tests skipped")
    # not under pytest's tmp folder: that is root-only (0700), and as root the server runs as `postgres`
    folder = Path(tempfile.mkdtemp(prefix="govaudit-test-pg-"))
    os.chmod(folder, 0o755)
    env = {**os.environ, "GOVAUDIT_PG_DIR": str(folder / "cluster"), "GOVAUDIT_PG_PORT": str(_free_port())}
    started = subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "start"], env=env, capture_output=True, text=True,
                             timeout=120)
    if started.returncode != 0:
        pytest.fail(f"scripts/pg.sh start failed: {started.stderr[-2000:]}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg.sh"), "destroy"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
