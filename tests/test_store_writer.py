"""The crawl's store writer process (``auditor.store.writer``): everything handed to it is stored
once, in order, whatever happens to it.

Real processes and a real SQLite file: batches are written through :class:`WriterProcess` and read
back from the database. The writer is killed between batches and in the middle of a stream of
them; a batch that cannot be stored (a constraint the database enforces) is counted and the ones
after it are not lost; a crawl process killed with ``kill -9`` still gets what it had sent
committed by the writer it leaves behind.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from auditor.model import FetchRecord, LinkEdge
from auditor.store.database import EvidenceStore
from auditor.store.writer import WriterProcess
from tests.support.postgres import postgres_url  # noqa: F401 - session fixture

AS_OF = "2026-11-22"


def _batch(store: EvidenceStore, run_id: str, n: int) -> dict:
    """One page's rows for page ``n``: a fetch, a page, 30 edges — as the pipeline hands them over."""

    url = f"http://h/p{n}.html"
    store.add_fetch(run_id, FetchRecord(url, "page", status=200))
    store.add_page(run_id, url, url, 200, "text/html", "utf-8", 1, f"页面 {n}", "html", b"<html></html>", {})
    store.add_links(run_id, [LinkEdge(url, f"http://h/t{n}-{i}.html", position=i) for i in range(30)])
    return store.take_buffered()


def _stored(db: Path, run_id: str) -> tuple[list[str], int, list[str]]:
    with sqlite3.connect(db) as conn:
        pages = [u for (u,) in conn.execute("select url from pages where run_id=? order by id", (run_id,))]
        edges = conn.execute("select count(*) from links where run_id=?", (run_id,)).fetchone()[0]
        fetches = [u for (u,) in conn.execute("select url from fetches where run_id=? order by id", (run_id,))]
    return pages, edges, fetches


def _store(tmp_path: Path) -> tuple[EvidenceStore, str, Path]:
    db = tmp_path / "w.sqlite"
    store = EvidenceStore(db)
    return store, store.start_run("h", "http://h/", AS_OF, {}, "t"), db


def test_batches_are_stored_in_the_order_they_were_handed_over(tmp_path: Path) -> None:
    store, run_id, db = _store(tmp_path)
    writer = WriterProcess(store)
    assert writer.alive
    for n in range(40):
        writer.write(_batch(store, run_id, n))
    writer.close()
    pages, edges, fetches = _stored(db, run_id)
    expected = [f"http://h/p{n}.html" for n in range(40)]
    assert pages == expected and fetches == expected  # ids in crawl order
    assert edges == 40 * 30
    assert writer.fallbacks == 0 and writer.failed_rows == 0
    store.close()


def test_a_writer_killed_mid_stream_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    store, run_id, db = _store(tmp_path)
    writer = WriterProcess(store)
    for n in range(10):
        writer.write(_batch(store, run_id, n))
    assert writer._proc is not None
    deadline = time.monotonic() + 30
    while _stored(db, run_id)[0] != [f"http://h/p{n}.html" for n in range(10)] and time.monotonic() < deadline:
        time.sleep(0.05)  # all ten committed: the kill lands between batches
    writer._read_acks()
    os.kill(writer._proc.pid, signal.SIGKILL)
    writer._proc.wait()
    for n in range(10, 25):  # the first of these finds the pipe broken: from then on, written here
        writer.write(_batch(store, run_id, n))
    writer.close()
    pages, edges, _ = _stored(db, run_id)
    assert pages == [f"http://h/p{n}.html" for n in range(25)]
    assert edges == 25 * 30


def test_batches_sent_but_not_acknowledged_are_written_by_the_crawl(tmp_path: Path) -> None:
    """The writer stopped (SIGSTOP) with batches in its pipe, then killed: none of those were
    committed by it, so the crawl process writes every one of them, in order, once."""

    store, run_id, db = _store(tmp_path)
    writer = WriterProcess(store)
    assert writer._proc is not None
    time.sleep(0.5)  # connected and waiting
    os.kill(writer._proc.pid, signal.SIGSTOP)
    for n in range(3):
        writer.write(_batch(store, run_id, n))
    assert _stored(db, run_id)[0] == []
    os.kill(writer._proc.pid, signal.SIGKILL)
    writer._proc.wait()
    writer.close()
    assert _stored(db, run_id)[0] == ["http://h/p0.html", "http://h/p1.html", "http://h/p2.html"]
    assert writer.fallbacks == 3
    store.close()


def test_a_batch_the_database_refuses_is_counted_and_the_next_ones_are_stored(tmp_path: Path) -> None:
    store, run_id, db = _store(tmp_path)
    writer = WriterProcess(store)
    writer.write(_batch(store, run_id, 0))
    bad = _batch(store, run_id, 1)
    bad["pages"][0]["url"] = None  # NOT NULL: the whole transaction is refused, five times
    writer.write(bad)
    writer.write(_batch(store, run_id, 2))
    writer.close()
    pages, edges, _ = _stored(db, run_id)
    assert pages == ["http://h/p0.html", "http://h/p2.html"]
    assert edges == 60
    assert writer.failed_rows == 32 and writer.errors and "IntegrityError" in writer.errors[0]
    store.close()


def test_a_crawl_killed_with_kill_9_leaves_its_sent_batches_committed(tmp_path: Path) -> None:
    """The crawl process dies; its writer sees the pipe close, commits what it had received and
    exits (with the thread, those batches died with the process)."""

    store, run_id, db = _store(tmp_path)
    store.close()
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from tests.test_store_writer import _batch
        from auditor.store.database import EvidenceStore
        from auditor.store.writer import WriterProcess
        store = EvidenceStore({str(db)!r})
        writer = WriterProcess(store)
        for n in range(20):
            writer.write(_batch(store, {run_id!r}, n))
        while not writer._outbox.empty():  # handed to the pipe (not still queued in this process)
            time.sleep(0.01)
        time.sleep(0.2)  # the sender's last os.write
        print(writer._proc.pid, flush=True)
        time.sleep(60)
    """)
    crawl = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert crawl.stdout is not None
    writer_pid = int(crawl.stdout.readline())
    os.kill(crawl.pid, signal.SIGKILL)
    crawl.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(writer_pid, 0)
        except ProcessLookupError:
            break
        try:  # a zombie once it has exited (its parent is gone; init reaps it)
            if Path(f"/proc/{writer_pid}/stat").read_text().split()[2] == "Z":
                break
        except OSError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the writer did not exit after its crawl died")
    pages, edges, _ = _stored(db, run_id)
    assert pages == [f"http://h/p{n}.html" for n in range(20)]
    assert edges == 20 * 30


def test_auto_moves_from_the_thread_to_the_process_in_order(tmp_path: Path, monkeypatch) -> None:
    """``auto`` (the default on two CPUs): the thread writes a small crawl's rows; past
    ``PROCESS_AFTER_ROWS`` the thread finishes its queue and the process takes over — every page
    stored once, in the order handed over, with its journal row in the same transaction."""

    from types import SimpleNamespace

    import auditor.crawl.pipeline as pl
    from auditor.crawl.journal import CrawlJournal
    from auditor.crawl.journal import group as journal_group
    from tests.support.pipeline import bare_pipeline

    monkeypatch.setattr(pl, "PROCESS_AFTER_ROWS", 400)
    store, run_id, db = _store(tmp_path)
    pipe = bare_pipeline(monkeypatch, store, run_id, rows=64, seconds=3600, writer="auto")
    pipe.open_spider()
    assert pipe._writer is not None and pipe._process is None  # the thread first
    journal = CrawlJournal()
    for n in range(40):
        url = f"http://h/p{n}.html"
        request = SimpleNamespace(url=url, method="GET", meta={"ga_purpose": "page", "ga_depth": 1})
        journal.fetched(url, request)
        items = [pl.FetchItem(FetchRecord(url, "page", status=200)),
                 pl.PageItem(url, url, 200, "text/html", "utf-8", 1, "t", "html", b"<html></html>"),
                 pl.LinksItem(url, rows=[(url, f"http://h/t{n}-{i}.html", "", "content", "a", i, "href", None)
                                         for i in range(30)])]
        for g in journal_group(items, journal):
            pipe.process_item(g)
        if n == 5:
            assert pipe._process is None  # 6 × 33 rows: still below 400
    assert pipe._process is not None and pipe._writer is None  # moved over
    pipe.close_spider()
    summary = pipe.summary()
    assert summary["mode"] == "process" and summary["process_after_rows"] >= 400
    assert summary["rows"] == 40 * 33 and summary["failed_rows"] == 0
    pages, edges, fetches = _stored(db, run_id)
    assert pages == fetches == [f"http://h/p{n}.html" for n in range(40)]
    assert edges == 40 * 30
    with sqlite3.connect(db) as conn:
        done = conn.execute("select count(*) from crawl_journal where run_id=? and state='done'", (run_id,)).fetchone()[0]
    assert done == 40
    store.close()


def test_the_writer_process_writes_to_postgresql(postgres_url: str) -> None:  # noqa: F811
    """The database URL goes through the pipe (never the command line: a password would show in
    ``ps``); link rows, buffered as tuples, reach psycopg's named parameters as mappings."""

    store = EvidenceStore("postgresql+psycopg://" + postgres_url.split("://", 1)[1])
    try:
        run_id = store.start_run("h", "http://h/", AS_OF, {}, "t")
        writer = WriterProcess(store)
        assert writer._proc is not None
        with open(f"/proc/{writer._proc.pid}/cmdline", "rb") as f:
            assert b"postgresql" not in f.read()
        for n in range(5):
            writer.write(_batch(store, run_id, n))
        writer.close()
        assert writer.fallbacks == 0 and writer.failed_rows == 0
        assert [p["url"] for p in store.iter_pages(run_id, with_body=False)] == [f"http://h/p{n}.html" for n in range(5)]
        assert store.count("links", run_id) == 5 * 30
        assert {e["target_url"] for e in store.iter_links(run_id, source_url="http://h/p3.html")} == \
            {f"http://h/t3-{i}.html" for i in range(30)}
    finally:
        store.close()
