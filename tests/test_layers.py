"""Layer contracts: checks are pure judgements, the engine reaches checks only through hooks.

Two nets, because each misses what the other catches: import-linter (``[tool.importlinter]`` in
pyproject.toml) sees imports, including indirect package imports; the source scan sees calls that
need no import (``open(``) and names imported from a module the contract allows.
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

from tests.support.layers import ROOT, lint_imports

pytestmark = pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
                                reason="import-linter not installed (pip install -e '.[test]')")

FORBIDDEN_MODULES = ("socket", "ssl", "dns", "playwright", "axe_playwright_python", "concurrent.futures", "subprocess",
                     "http.client", "urllib.request", "requests", "httpx", "aiohttp", "asyncio", "threading")
FORBIDDEN_NAMES = {"ThreadPoolExecutor", "ProcessPoolExecutor", "async_playwright", "sync_playwright"}
FORBIDDEN_CALLS = {"open", "write_text", "write_bytes", "mkdir", "unlink", "screenshot", "goto", "urlopen"}


def io_in_source(source: str) -> list[str]:
    """What in ``source`` reaches the network, a browser, threads or the file system (AST, so a
    docstring that mentions ``open(`` is not a hit)."""

    hits: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            names = []
        for name in names:
            if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
                hits.append(f"l.{node.lineno}: import {name}")
        if isinstance(node, ast.Name | ast.alias):
            ident = node.id if isinstance(node, ast.Name) else node.name
            if ident in FORBIDDEN_NAMES:
                hits.append(f"l.{getattr(node, 'lineno', '?')}: {ident}")
        if isinstance(node, ast.Call):
            fn = node.func
            called = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            if called in FORBIDDEN_CALLS:
                hits.append(f"l.{node.lineno}: {called}(")
    return sorted(set(hits))


def _scan() -> dict[str, list[str]]:
    return {p.name: io_in_source(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "checks").glob("*.py"))}


def test_checks_contain_no_io() -> None:
    """Every file in checks/, a11y.py and elderly.py included: their browser work is measure-stage
    (plugins/a11y_probe.py, plugins/elderly_probe.py) since the browser move of issue #9."""

    scan = _scan()
    assert {"a11y.py", "elderly.py"} <= set(scan)  # the scan does reach the two former exceptions
    found = {name: hits for name, hits in scan.items() if hits}
    assert found == {}, found


def test_the_scan_catches_what_the_old_checks_did() -> None:
    """The trap: the pre-measure-stage ipv6 and security checks, reduced to their I/O lines."""

    old_ipv6 = (
        "import dns.query\nfrom concurrent.futures import ThreadPoolExecutor\n"
        "def measure(ctx):\n    with ThreadPoolExecutor(4) as pool:\n        pass\n"
        "    dns.query.udp(q, addr)\n"
    )
    old_a11y = "def shots(path, data):\n    path.mkdir(parents=True)\n    with open(path / 'a.png', 'wb') as f:\n        f.write(data)\n"
    doc_only = '"""Never call open( or import socket here."""\nx = 1\n'
    assert io_in_source(old_ipv6) == ["l.1: import dns.query", "l.2: ThreadPoolExecutor",
                                      "l.2: import concurrent.futures", "l.2: import concurrent.futures.ThreadPoolExecutor",
                                      "l.4: ThreadPoolExecutor"]
    assert io_in_source(old_a11y) == ["l.2: mkdir(", "l.3: open("]
    assert io_in_source(doc_only) == []
    assert io_in_source("import socket\n") == ["l.1: import socket"]


# --- import-linter --------------------------------------------------------------------------------

def test_layer_contracts_are_kept() -> None:
    proc = lint_imports()
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout


def test_a_check_importing_the_network_or_the_crawler_breaks_the_contract() -> None:
    proc = lint_imports({"auditor/checks/_planted.py": "import socket\nimport dns.query\nfrom auditor.crawl import spider\n"
                                                        "from auditor.plugins import netprobe\n"})
    assert proc.returncode == 1, proc.stdout[-3000:]
    out = proc.stdout
    for forbidden in ("socket", "dns", "auditor.crawl.spider", "auditor.plugins"):
        assert f"auditor.checks is not allowed to import {forbidden}" in out, out[-3000:]
    assert "auditor.checks._planted -> socket" in out


def test_the_engine_importing_a_check_breaks_the_contract() -> None:
    engine = (ROOT / "auditor" / "engine.py").read_text(encoding="utf-8") + "\nfrom auditor.checks import links  # noqa\n"
    proc = lint_imports({"auditor/engine.py": engine})
    assert proc.returncode == 1
    assert "auditor.engine -> auditor.checks.links" in proc.stdout, proc.stdout[-3000:]
