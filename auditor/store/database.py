"""The evidence store: every run, fetch, page, link, verdict, finding and error, as rows.

SQLite through SQLAlchemy Core by default (one file); any SQLAlchemy URL works, so PostgreSQL can
back it for the provincial mode. Rows are per (run, thing) — never one latest-only row — so a
month's audit can be compared with the last (peer-lessons.md: GSA's mistake).

Writes are batched and transactional: a batch is all in or all out, and a run row is created
``running`` first and marked ``complete``/``partial`` only at the end, so an interrupted audit
leaves a consistent run, marked ``interrupted`` by the next command that opens the store. During the crawl the item pipeline
(:mod:`auditor.crawl.pipeline`) commits every few hundred rows or seconds, so a killed audit keeps what
it fetched up to its last seconds.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from auditor.model import Basis, FetchRecord, Finding, LinkEdge, LinkResult, Severity, Verdict

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("site", String(255), nullable=False, index=True),
    Column("start_url", Text, nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("status", String(16), nullable=False),  # running | complete | partial | failed
    Column("options", JSON, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("stats", JSON),
    Column("coverage", JSON),
    Column("score", JSON),
    Column("tool_version", String(32)),
    Column("pid", Integer),
)

fetches = Table(
    "fetches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("method", String(8), nullable=False),
    Column("final_url", Text),
    Column("status", Integer),
    Column("content_type", String(255)),
    Column("size", Integer),
    Column("elapsed", Float),
    Column("error_kind", String(32)),
    Column("error", Text),
    Column("redirects", JSON),
    Column("headers", JSON),
    Column("depth", Integer),
    Column("fingerprint", String(40)),
    Column("title", Text),
    Column("fetched_at", Float),
    # facts the link-judging stage re-reads (auditor.linkjudge.judge_run); added columns, see _MIGRATIONS
    Column("attempts", Integer),
    Column("error_like", Integer),
    Column("body_hash", String(32)),
    Column("latency", Float),
    Index("ix_fetches_run_url", "run_id", "url"),
)

pages = Table(
    "pages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("url", Text, nullable=False),
    Column("final_url", Text, nullable=False),
    Column("status", Integer),
    Column("content_type", String(255)),
    Column("encoding", String(32)),
    Column("depth", Integer),
    Column("title", Text),
    Column("kind", String(16)),  # html | pdf | docx | xlsx | other
    Column("body", LargeBinary),  # zlib-compressed raw bytes as received
    Column("headers", JSON),
    Index("ix_pages_run_url", "run_id", "url"),
)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("source_url", Text, nullable=False),
    Column("target_url", Text, nullable=False),
    Column("anchor", Text),
    Column("region", String(16)),
    Column("tag", String(16)),
    Column("position", Integer),
    Column("attribute", String(32)),  # which attribute held the URL (href, srcset, refresh, url…)
    Column("fragment", Text),  # the "#…" of a navigation link, checked against the target's anchors
    # set only on a *reference* row: this run's edges of source_url are those stored under origin_run
    # (an incremental re-audit's unchanged page; auditor.store.edges expands it for every reader)
    Column("origin_run", String(32)),
    Index("ix_links_run_target", "run_id", "target_url"),
    Index("ix_links_run_source", "run_id", "source_url"),
)
LINK_COLUMNS = tuple(c.name for c in links.c if c.name != "id")  # a buffered edge row's tuple order (add_links)
# partial: only reference rows are in it, so it costs a full audit's edge inserts nothing
# (source_url last: a reader joining an origin edge to its reference finds it in one probe)
ix_links_run_origin = Index("ix_links_run_origin", links.c.run_id, links.c.origin_run, links.c.source_url,
                            sqlite_where=links.c.origin_run.is_not(None), postgresql_where=links.c.origin_run.is_not(None))

link_results = Table(
    "link_results",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("target_url", Text, primary_key=True),
    Column("verdict", String(16), nullable=False),
    Column("reason", String(32)),
    Column("status", Integer),
    Column("final_url", Text),
    Column("on_site", Integer),
    Column("detail", JSON),
)

skips = Table(
    "skips",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("reason", String(32), nullable=False),  # out_of_scope | max_depth | max_pages | robots | budget ...
)

findings = Table(
    "findings",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("id", String(16), primary_key=True),
    Column("rule", String(64), nullable=False, index=True),
    Column("severity", String(8), nullable=False),
    Column("url", Text),
    Column("source_url", Text),
    Column("column_name", Text),
    Column("message_zh", Text),
    Column("message_en", Text),
    Column("evidence", JSON),
    Column("basis", JSON),
    Column("remediation_zh", Text),
    Column("remediation_en", Text),
    Column("plugin", String(64)),
    Column("key", Text),
)

errors = Table(
    "errors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False, index=True),
    Column("stage", String(32), nullable=False),  # crawl | check | probe | report
    Column("plugin", String(64)),
    Column("url", Text),
    Column("message", Text, nullable=False),
    Column("detail", Text),
    Column("at", Float),
)

records = Table(
    "records",
    metadata,
    # Derived records (documents, probe results, availability samples…) keyed by kind; checks
    # and plugins store what they derive here instead of growing the schema for every family.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), index=True),
    Column("site", String(255), index=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("key", Text),
    Column("data", JSON, nullable=False),
    Column("at", Float),
)


# Columns added after a table first shipped: (table, column, SQL type). create_all() never alters an
# existing table, so a store written by an older version gets them with ALTER TABLE (NULL in old rows).
_MIGRATIONS = (
    ("fetches", "attempts", "INTEGER"),
    ("fetches", "error_like", "INTEGER"),
    ("fetches", "body_hash", "VARCHAR(32)"),
    ("fetches", "latency", "FLOAT"),
    ("links", "attribute", "VARCHAR(32)"),
    ("links", "fragment", "TEXT"),
    ("links", "origin_run", "VARCHAR(32)"),
)
_MIGRATED_INDEXES = (ix_links_run_origin,)  # indexes on migrated columns (create_all skips existing tables)


def compress(body: bytes) -> bytes:
    return zlib.compress(body, 3)


def decompress(blob: bytes | None) -> bytes:
    return zlib.decompress(blob) if blob else b""


def default_db_path() -> Path:
    """Where audits are kept unless ``--db`` says otherwise (XDG data home)."""

    base = os.environ.get("GOVAUDIT_HOME") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "govaudit"
    )
    return Path(base) / "audits.sqlite"


def _db_url(db: str | Path) -> str:
    text = str(db)
    return text if "://" in text else f"sqlite:///{Path(text).expanduser().resolve()}"


class EvidenceStore:
    """Buffered writer and streaming reader over the evidence tables."""

    BATCH = 2000

    def __init__(self, db: str | Path | None = None, *, prepare: bool = True):
        """``prepare=False``: only connect (no schema creation, migration or dead-run marking) —
        for :mod:`auditor.store.writer`'s process, which writes into a store the audit opened."""

        if db is None:
            db = default_db_path()
        url = _db_url(db)
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        sqlite = url.startswith("sqlite")
        # Several processes may share one store (a monitor daemon and a check): wait for locks.
        self.engine: Engine = create_engine(url, future=True, connect_args={"timeout": 60} if sqlite else {})
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.interrupted_runs: list[str] = []
        if prepare:
            self._create_schema()
            from auditor.store.journal import mark_dead_runs

            self.interrupted_runs = mark_dead_runs(self)  # a run whose process died reads "interrupted", in the row
        self._buffers: dict[str, list[dict[str, Any]]] = {}
        compiled = links.insert().values({c: None for c in LINK_COLUMNS}).compile(dialect=self.engine.dialect)
        if compiled.positiontup is not None and tuple(compiled.positiontup) != LINK_COLUMNS:
            raise RuntimeError(f"links insert binds {compiled.positiontup}, not {LINK_COLUMNS}")
        self._links_insert = (str(compiled), compiled.positiontup)

    def _create_schema(self) -> None:
        """Create missing tables; another process creating them at the same moment is fine."""

        for attempt in range(5):
            try:
                metadata.create_all(self.engine)
                break
            except OperationalError as exc:
                if "already exists" not in str(exc) and "locked" not in str(exc):
                    raise
                time.sleep(0.1 * (attempt + 1))
        else:
            metadata.create_all(self.engine)
        self._migrate()

    def _migrate(self) -> None:
        """Add the columns an older store lacks (see ``_MIGRATIONS``)."""

        inspector = inspect(self.engine)
        for table, column, sqltype in _MIGRATIONS:
            have = {c["name"] for c in inspector.get_columns(table)}
            if column in have:
                continue
            try:
                with self.engine.begin() as conn:
                    conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {sqltype}")
            except OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc).lower():
                    raise
        for index in _MIGRATED_INDEXES:
            try:
                index.create(self.engine, checkfirst=True)
            except (OperationalError, ProgrammingError) as exc:  # another process created it first
                if "already exists" not in str(exc).lower():
                    raise

    # -- runs -------------------------------------------------------------------------------
    def start_run(self, site: str, start_url: str, as_of: str, options: dict[str, Any], version: str) -> str:
        run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        with self.engine.begin() as conn:
            conn.execute(
                runs.insert().values(
                    id=run_id,
                    site=site,
                    start_url=start_url,
                    as_of=as_of,
                    status="running",
                    options=options,
                    started_at=time.time(),
                    tool_version=version,
                    pid=os.getpid(),
                )
            )
        return run_id

    def finish_run(self, run_id: str, status: str, stats: dict[str, Any], coverage: dict[str, Any]) -> None:
        self.flush()
        with self.engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(status=status, finished_at=time.time(), stats=stats, coverage=coverage)
            )

    def set_score(self, run_id: str, score: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(score=score))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            return None
        run = dict(row)
        if run["status"] == "running" and not _pid_alive(run.get("pid")):
            run["status"] = "interrupted"  # the process that owned it is gone (died since this store opened)
        return run

    def list_runs(self, site: str | None = None) -> list[dict[str, Any]]:
        query = select(runs).order_by(runs.c.started_at)
        if site:
            query = query.where(runs.c.site == site)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # -- buffered writes --------------------------------------------------------------------
    def _add(self, table: Table, row: dict[str, Any]) -> None:
        buf = self._buffers.setdefault(table.name, [])
        buf.append(row)
        if len(buf) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Write every buffered row in one transaction (all or nothing)."""

        pending = {name: rows for name, rows in self._buffers.items() if rows}
        if not pending:
            return
        self._buffers = {}
        try:
            self._write(pending)
        except Exception:
            # keep the rows for the next attempt (a locked database heals), ahead of newer ones
            for name, rows in pending.items():
                self._buffers[name] = rows + self._buffers.get(name, [])
            raise

    def take_buffered(self) -> dict[str, list[dict[str, Any]]]:
        """Hand over the buffered rows (table name → rows) for :meth:`write_rows` elsewhere,
        e.g. on the crawl pipeline's writer thread; the buffers start empty again."""

        pending = {name: rows for name, rows in self._buffers.items() if rows}
        self._buffers = {}
        return pending

    def write_rows(self, pending: dict[str, list[dict[str, Any]]]) -> None:
        """Insert ``pending`` in one transaction (all or nothing). Safe from another thread: it
        touches no buffer, only a pooled connection of its own."""

        self._write(pending)

    def _write(self, pending: dict[str, list[dict[str, Any]]]) -> None:
        with self.engine.begin() as conn:
            for name, rows in pending.items():
                if name.startswith("copy:"):
                    sql = self._COPY_SQL[name[5:]]
                    if self.engine.dialect.paramstyle != "qmark":
                        sql = sql.replace("?", "%s")
                    conn.exec_driver_sql(sql, list(rows))
                elif name == "links":
                    # The hottest table (≈30 rows a page): plain DB-API executemany, no per-row
                    # parameter processing (it has no JSON or typed columns to convert). Rows are
                    # LINK_COLUMNS tuples (add_links) or mappings (a reference row, add_row).
                    sql, cols = self._links_insert
                    if cols is None:  # named paramstyle (psycopg): rows as mappings
                        conn.exec_driver_sql(sql, [dict(zip(LINK_COLUMNS, r, strict=True)) if type(r) is tuple else r for r in rows])
                    else:
                        conn.exec_driver_sql(sql, [r if type(r) is tuple else tuple(r.get(c) for c in cols) for r in rows])
                else:
                    conn.execute(metadata.tables[name].insert(), rows)

    def add_row(self, table: Table, row: dict[str, Any]) -> None:
        """A buffered row of a table another module owns (the run journal), or a row copied whole
        from another run (an incremental re-audit reuses the previous run's fetch)."""

        self._add(table, row)

    def add_fetch(self, run_id: str, rec: FetchRecord) -> None:
        self._add(
            fetches,
            {
                "run_id": run_id,
                "url": rec.url,
                "purpose": rec.purpose,
                "method": rec.method,
                "final_url": rec.final_url,
                "status": rec.status,
                "content_type": rec.content_type,
                "size": rec.size,
                "elapsed": rec.elapsed,
                "error_kind": rec.error_kind,
                "error": rec.error,
                "redirects": rec.redirects,
                "headers": rec.headers,
                "depth": rec.depth,
                "fingerprint": rec.fingerprint,
                "title": rec.title,
                "fetched_at": rec.fetched_at or time.time(),
                "attempts": rec.attempts,
                "error_like": int(rec.error_like),
                "body_hash": rec.body_hash,
                "latency": rec.latency,
            },
        )

    def add_page(
        self,
        run_id: str,
        url: str,
        final_url: str,
        status: int | None,
        content_type: str | None,
        encoding: str | None,
        depth: int | None,
        title: str | None,
        kind: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        packed: bytes | None = None,  # ``body`` compressed already (the crawl's parse worker does it)
    ) -> None:
        self._add(
            pages,
            {
                "run_id": run_id,
                "url": url,
                "final_url": final_url,
                "status": status,
                "content_type": content_type,
                "encoding": encoding,
                "depth": depth,
                "title": title,
                "kind": kind,
                "body": packed if packed is not None else compress(body),
                "headers": headers or {},
            },
        )

    def add_links(self, run_id: str, edges: Iterable[LinkEdge]) -> None:
        self.add_link_rows(run_id, ((e.source_url, e.target_url, e.anchor, e.region.value, e.tag, e.position,
                                     e.attribute, e.fragment) for e in edges))

    def add_link_rows(self, run_id: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Edges as (source, target, anchor, region value, tag, position, attribute, fragment).

        Buffered as tuples in LINK_COLUMNS order, not mappings: the hottest rows of a crawl (≈30 a
        page) are built, pickled to the writer process and bound without a dict each."""

        buf = self._buffers.setdefault(links.name, [])
        buf.extend((run_id, source, target, anchor[:500], region, tag, position, attribute[:32] or None,
                    fragment[:1000] if fragment else None, None)
                   for source, target, anchor, region, tag, position, attribute, fragment in rows)
        if len(buf) >= self.BATCH:
            self.flush()

    # INSERT … SELECT statements for rows copied from another run inside the database (an
    # incremental re-audit reuses the previous run's pages without reading them out; its edges are
    # not copied but referred to, see auditor.store.edges)
    _COPY_SQL = {
        "pages": "INSERT INTO pages (run_id, url, final_url, status, content_type, encoding, depth, title, kind, body, headers) "
                 "SELECT ?, url, final_url, status, content_type, encoding, ?, title, kind, body, headers FROM pages WHERE id = ?",
    }

    def add_copy(self, table_name: str, params: tuple[Any, ...]) -> None:
        """Buffer one copy of rows from another run (``_COPY_SQL[table_name]`` with ``params``),
        written in order with the other buffered rows."""

        self._buffers.setdefault("copy:" + table_name, []).append(params)  # type: ignore[arg-type]

    def add_skip(self, run_id: str, url: str, reason: str) -> None:
        self._add(skips, {"run_id": run_id, "url": url, "reason": reason})

    def add_link_result(self, run_id: str, r: LinkResult) -> None:
        self._add(link_results, _link_result_row(run_id, r))

    def replace_link_results(self, run_id: str, results: Iterable[LinkResult]) -> None:
        """Swap a run's link verdicts for freshly judged ones (one transaction: never half old, half new)."""

        self.flush()
        rows = [_link_result_row(run_id, r) for r in results]
        with self.engine.begin() as conn:
            conn.execute(link_results.delete().where(link_results.c.run_id == run_id))
            if rows:
                conn.execute(link_results.insert(), rows)

    def update_run_stats(self, run_id: str, **values: Any) -> None:
        """Merge ``values`` into a run's stats (e.g. the link-verdict counts after a re-judgement)."""

        with self.engine.begin() as conn:
            stats = conn.execute(select(runs.c.stats).where(runs.c.id == run_id)).scalar_one_or_none()
            conn.execute(update(runs).where(runs.c.id == run_id).values(stats={**(stats or {}), **values}))

    def add_finding(self, run_id: str, f: Finding) -> None:
        self._add(
            findings,
            {
                "run_id": run_id,
                "id": f.id,
                "rule": f.rule,
                "severity": str(f.severity),
                "url": f.url,
                "source_url": f.source_url,
                "column_name": f.column,
                "message_zh": f.message_zh,
                "message_en": f.message_en,
                "evidence": f.evidence,
                "basis": f.basis.as_dict() if f.basis else None,
                "remediation_zh": f.remediation_zh,
                "remediation_en": f.remediation_en,
                "plugin": f.plugin,
                "key": f.key,
            },
        )

    def add_error(
        self, run_id: str, stage: str, message: str, url: str | None = None, plugin: str | None = None, detail: str = ""
    ) -> None:
        self._add(
            errors,
            {
                "run_id": run_id,
                "stage": stage,
                "plugin": plugin,
                "url": url,
                "message": message[:2000],
                "detail": detail[:20000],
                "at": time.time(),
            },
        )

    def add_record(self, run_id: str | None, site: str | None, kind: str, key: str | None, data: Any) -> None:
        self._add(records, {"run_id": run_id, "site": site, "kind": kind, "key": key, "data": data, "at": time.time()})

    def replace_page_body(self, run_id: str, url: str, body: bytes, encoding: str = "utf-8", note: str = "") -> None:
        """Swap a stored page's body (e.g. for the browser-rendered DOM); the original stays in
        ``headers['x-govaudit-original']`` as a note of what happened, not the bytes."""

        self.flush()
        with self.engine.begin() as conn:
            row = conn.execute(select(pages.c.id, pages.c.headers).where(pages.c.run_id == run_id, pages.c.url == url)).first()
            if row is None:
                return
            headers = dict(row.headers or {})
            headers["x-govaudit-rendered"] = note or "rendered"
            conn.execute(
                update(pages).where(pages.c.id == row.id).values(body=compress(body), encoding=encoding, headers=headers)
            )

    def clear_derived(self, run_id: str) -> None:
        """Forget a run's verdict-independent outputs before ``recheck`` re-derives them."""

        self.flush()
        with self.engine.begin() as conn:
            conn.execute(findings.delete().where(findings.c.run_id == run_id))
            conn.execute(errors.delete().where((errors.c.run_id == run_id) & (errors.c.stage == "check")))
            # measurements (probe.*) and crawl facts (crawl.fault, crawl.trap) are evidence, not derived
            conn.execute(records.delete().where((records.c.run_id == run_id) & records.c.kind.notlike("probe%")
                                                & records.c.kind.notlike("crawl.%")))

    # -- streaming reads --------------------------------------------------------------------
    def _stream(self, query: Any, size: int = 500, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        self.flush()
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=size).execute(query, params).mappings()
            for row in result:
                yield dict(row)

    def iter_pages(self, run_id: str, with_body: bool = True) -> Iterator[dict[str, Any]]:
        cols = [c for c in pages.c if with_body or c.name != "body"]
        yield from self._stream(select(*cols).where(pages.c.run_id == run_id).order_by(pages.c.id))

    def get_page(self, run_id: str, url: str) -> dict[str, Any] | None:
        self.flush()
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(pages).where(pages.c.run_id == run_id, (pages.c.url == url) | (pages.c.final_url == url)).limit(1)
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def iter_fetches(self, run_id: str, purpose: str | None = None) -> Iterator[dict[str, Any]]:
        q = select(fetches).where(fetches.c.run_id == run_id)
        if purpose:
            q = q.where(fetches.c.purpose == purpose)
        yield from self._stream(q.order_by(fetches.c.id))

    def iter_links(self, run_id: str, source_url: str | None = None, target_url: str | None = None,
                   with_fragment: bool = False) -> Iterator[dict[str, Any]]:
        """A run's link edges in stored order; ``with_fragment``: only those whose href had a
        ``#fragment`` (what the broken-anchor check reads). Edges an incremental re-audit referred
        to in an earlier run are included, as this run's (:mod:`auditor.store.edges`)."""

        from auditor.store.edges import edges_statement, params

        origins = self.link_origins(run_id)
        q = edges_statement(bool(origins), source_url is not None, target_url is not None, with_fragment)
        for row in self._stream(q, params=params(run_id, origins, source_url, target_url)):
            row.pop("origin_run", None)
            yield row

    def iter_link_targets(self, run_id: str) -> Iterator[str]:
        """Every distinct link target of a run, sorted (what the link-judging stage judges)."""

        from auditor.store.edges import params, targets_statement

        origins = self.link_origins(run_id)
        for row in self._stream(targets_statement(bool(origins)), size=2000, params=params(run_id, origins)):
            yield row["target_url"]

    def link_origins(self, run_id: str) -> list[str]:
        """The earlier runs whose stored edges ``run_id`` refers to (see :mod:`auditor.store.edges`)."""

        from auditor.store.edges import origins

        self.flush()
        with self.engine.connect() as conn:
            return origins(conn, run_id)

    def iter_link_results(self, run_id: str, verdict: Verdict | None = None) -> Iterator[LinkResult]:
        q = select(link_results).where(link_results.c.run_id == run_id)
        if verdict is not None:
            q = q.where(link_results.c.verdict == str(verdict))
        for row in self._stream(q.order_by(link_results.c.target_url)):
            yield LinkResult(
                target_url=row["target_url"],
                verdict=Verdict(row["verdict"]),
                reason=row["reason"],
                status=row["status"],
                final_url=row["final_url"],
                detail=row["detail"] or {},
                on_site=bool(row["on_site"]),
            )

    def iter_findings(self, run_id: str) -> Iterator[Finding]:
        q = select(findings).where(findings.c.run_id == run_id).order_by(findings.c.rule, findings.c.url, findings.c.id)
        for row in self._stream(q):
            yield row_to_finding(row)

    def iter_records(self, kind: str, run_id: str | None = None, site: str | None = None) -> Iterator[dict[str, Any]]:
        q = select(records).where(records.c.kind == kind)
        if run_id is not None:
            q = q.where(records.c.run_id == run_id)
        if site is not None:
            q = q.where(records.c.site == site)
        yield from self._stream(q.order_by(records.c.id))

    def iter_errors(self, run_id: str) -> Iterator[dict[str, Any]]:
        yield from self._stream(select(errors).where(errors.c.run_id == run_id).order_by(errors.c.id))

    def iter_skips(self, run_id: str) -> Iterator[dict[str, Any]]:
        yield from self._stream(select(skips).where(skips.c.run_id == run_id).order_by(skips.c.id))

    def count(self, table_name: str, run_id: str, **where: Any) -> int:
        if table_name == "links" and not where:  # edges referred to in an earlier run count too
            from auditor.store.edges import count_statement, params

            origins = self.link_origins(run_id)
            with self.engine.connect() as conn:
                return int(conn.execute(count_statement(bool(origins)), params(run_id, origins)).scalar_one())
        table = metadata.tables[table_name]
        q = select(func.count()).select_from(table).where(table.c.run_id == run_id)
        for key, value in where.items():
            q = q.where(table.c[key] == value)
        self.flush()
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def close(self) -> None:
        self.flush()
        self.engine.dispose()


def row_to_finding(row: dict[str, Any]) -> Finding:
    basis = row.get("basis")
    evidence = row.get("evidence")
    if isinstance(evidence, str):  # some backends hand JSON back as text
        evidence = json.loads(evidence)
    f = Finding(
        rule=row["rule"],
        severity=Severity(row["severity"]),
        url=row["url"],
        message_zh=row["message_zh"] or "",
        message_en=row["message_en"] or "",
        source_url=row["source_url"],
        column=row["column_name"],
        evidence=evidence or {},
        basis=Basis(**basis) if basis else None,
        remediation_zh=row["remediation_zh"] or "",
        remediation_en=row["remediation_en"] or "",
        plugin=row["plugin"] or "",
        key=row.get("key"),
    )
    return f


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _link_result_row(run_id: str, r: LinkResult) -> dict[str, Any]:
    """A link verdict as its ``link_results`` row (one mapping for appending and for re-judging)."""

    return {"run_id": run_id, "target_url": r.target_url, "verdict": str(r.verdict), "reason": r.reason,
            "status": r.status, "final_url": r.final_url, "on_site": int(r.on_site), "detail": r.detail}
