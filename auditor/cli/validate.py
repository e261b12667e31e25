"""Command-line input checked before any network work: a bad option is exit 2 and one sentence
naming the option, never a traceback after an hour of crawling.

Why here and not in the stages: the crawl used to run to the end and only then find that
``--out`` was under a file, that ``--db`` was a directory or not SQLite, or that a port did not
exist. Each check below raises :class:`OptionError` (a :class:`~auditor.config.ConfigError`) with a
Chinese and an English message; the CLI prints the one of ``--lang``. The bad-input table in the
README is backed by ``tests/test_runsafe.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from auditor.config import ConfigError

SQLITE_MAGIC = b"SQLite format 3\x00"


class OptionError(ConfigError):
    """A bad value of one option; ``str()`` is bilingual, :meth:`text` one language."""

    def __init__(self, option: str, zh: str, en: str):
        super().__init__(f"{option}：{zh} / {option}: {en}")
        self.option, self.zh, self.en = option, zh, en

    def text(self, lang: str | None) -> str:
        return f"{self.option}: {self.en}" if lang == "en" else f"{self.option}：{self.zh}"


def message(exc: ConfigError, lang: str | None) -> str:
    return exc.text(lang) if isinstance(exc, OptionError) else str(exc)


def check_url(url: str | None) -> None:
    if not url:
        return
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for 99999 or "abc"
    except ValueError as exc:
        raise OptionError("URL", f"网址无效（{exc}）：{url!r}", f"invalid URL ({exc}): {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError("URL", f"需要 http(s) 网址：{url!r}", f"not an http(s) URL: {url!r}")
    if port == 0:
        raise OptionError("URL", f"端口无效：{url!r}", f"invalid port: {url!r}")


def check_as_of(value: str | None) -> None:
    if value is None:
        return
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise OptionError("--as-of", f"需要日期 YYYY-MM-DD：{value!r}", f"expects a date YYYY-MM-DD: {value!r}") from None
    if len(value) != 10:
        raise OptionError("--as-of", f"需要日期 YYYY-MM-DD：{value!r}", f"expects a date YYYY-MM-DD: {value!r}")


def check_config_file(path: str | Path | None) -> None:
    if path is None:
        return
    p = Path(path)
    if not p.exists():
        raise OptionError("--config", f"配置文件不存在：{p}", f"config file not found: {p}")
    if not p.is_file():
        raise OptionError("--config", f"不是文件：{p}", f"not a file: {p}")
    if not os.access(p, os.R_OK):
        raise OptionError("--config", f"无法读取：{p}", f"not readable: {p}")


def _nearest_existing(p: Path) -> Path:
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _writable_dir(option: str, d: Path, create: bool) -> None:
    """``d`` is (or can become) a directory this process can write files in."""

    if d.exists() and not d.is_dir():
        if create:
            raise OptionError(option, f"不是目录：{d}", f"not a directory: {d}")
        raise OptionError(option, f"路径位于文件之下：{d} 是文件", f"the path is under a file: {d} is a file")
    base = _nearest_existing(d)
    if not base.is_dir():
        raise OptionError(option, f"路径位于文件之下：{base} 是文件", f"the path is under a file: {base} is a file")
    if not create:
        if not os.access(base, os.W_OK | os.X_OK):
            raise OptionError(option, f"目录不可写：{base}", f"directory not writable: {base}")
        return
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=d):
            pass
    except OSError as exc:
        raise OptionError(option, f"目录不可写：{d}（{exc.strerror or exc}）",
                          f"directory not writable: {d} ({exc.strerror or exc})") from None


def check_out(out: str | None) -> None:
    """``--out``: created now (as the report writers would at the end) and probed with a file."""

    if out:
        _writable_dir("--out", Path(out).expanduser(), create=True)


def sqlite_path(db: str) -> Path | None:
    """The file of a SQLite store (plain path or ``sqlite:///…`` URL); None for other backends
    and for ``sqlite://`` (in memory)."""

    if "://" not in db:
        return Path(db).expanduser()
    from sqlalchemy.engine import make_url

    url = make_url(db)
    if not url.drivername.startswith("sqlite"):
        return None
    return Path(url.database).expanduser() if url.database and url.database != ":memory:" else None


def check_db(db: str | None) -> None:
    """``--db``: a SQLAlchemy URL that parses and names a known dialect, or a SQLite file that is
    a SQLite database (or empty, or absent in a writable directory)."""

    if not db:
        return
    if "://" in db:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            make_url(db).get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise OptionError("--db", f"数据库地址无效：{db!r}（{exc}）", f"invalid database URL {db!r}: {exc}") from None
    path = sqlite_path(db)
    if path is None:
        return
    if path.is_dir():
        raise OptionError("--db", f"是目录，不是数据库文件：{path}", f"is a directory, not a database file: {path}")
    if path.exists():
        try:
            with path.open("rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise OptionError("--db", f"无法读取：{path}（{exc.strerror}）", f"cannot read {path}: {exc.strerror}") from None
        if head and head != SQLITE_MAGIC:
            raise OptionError("--db", f"不是 SQLite 数据库文件：{path}", f"not a SQLite database file: {path}")
        if not os.access(path, os.W_OK):
            raise OptionError("--db", f"数据库文件不可写：{path}", f"database file not writable: {path}")
        return
    _writable_dir("--db", path.parent, create=False)


def check_cli(url: str | None, values: dict[str, Any], config_file: str | Path | None) -> None:
    """Everything that can be checked before the configuration is built."""

    check_config_file(config_file)
    check_url(url)
    check_as_of(values.get("as_of"))
    # --format: the Engine refuses names no registered writer has (auditor/engine.py), before any crawl


def check_config(cfg: Any) -> None:
    """The merged configuration (file and command line): where things will be written."""

    check_url(cfg.url)
    check_db(cfg.db)
    check_out(cfg.out)


def check_engine(cfg: Any, engine: Any) -> None:
    """What only the loaded plugins know: rule families (report formats: the Engine itself)."""

    families = sorted({r.family for r in engine.rules.values()} | {f for fs in engine.serves.values() for f in fs})
    rule_ids = set(engine.rules)
    for option, names in (("--checks", cfg.checks), ("--skip", cfg.skip)):
        for name in names:
            known = name in families or name in rule_ids or any(r.startswith(name + ".") for r in rule_ids)
            if not known:
                raise OptionError(option, f"未知规则族或规则：{name!r}；已知规则族：{', '.join(families)}",
                                  f"unknown rule family or rule {name!r}; known families: {', '.join(families)}")


def log_dir(db: str | None) -> Path:
    """Where tracebacks go: a ``logs`` folder beside the evidence store."""

    from auditor.store.database import default_db_path

    path = None
    if db:
        try:
            path = sqlite_path(db)
        except Exception:  # noqa: BLE001 - a bad --db must not stop the error from being logged
            path = None
    base = (path.parent if path is not None else default_db_path().parent) / "logs"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path(tempfile.gettempdir())
    return base


def log_traceback(exc: BaseException, db: str | None = None) -> Path:
    """Write ``exc``'s traceback to a log file and return its path (the terminal gets one line)."""

    path = log_dir(db) / f"govaudit-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    return path


def file_logging(db: str | None) -> Path:
    """Send every log record of this command (Scrapy's download errors with their tracebacks, a
    plugin's failure) to a file beside the store instead of the terminal; the file is created
    only when something is logged."""

    import logging

    path = log_dir(db) / f"govaudit-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    return path
