"""Layer contracts (import-linter) on the package as it is installed.

The source tree maps folders to packages (``checks/`` → ``auditor.checks``, ``plugins/`` →
``auditor.plugins``, ``reports/`` → ``auditor.reports``; pyproject ``package-dir``), which the editable
install resolves with a import hook that grimp (import-linter's graph builder) cannot see: it walks
``auditor/`` on disk and would find no ``auditor.checks`` at all. So the contracts are checked on a
copy laid out like the wheel. The contracts themselves are ``[tool.importlinter]`` in pyproject.toml.

``python -m tests.support.layers`` runs the check from the repository root (exit 0 when kept).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = {"auditor": "auditor", "auditor/checks": "checks", "auditor/plugins": "plugins", "auditor/reports": "reports"}


def mirror(dest: Path, extra: dict[str, str] | None = None) -> Path:
    """Copy the Python sources into ``dest`` laid out like the installed package; ``extra`` adds
    files (``{"auditor/checks/x.py": source}``) — how a test plants a violation."""

    for target, source in LAYOUT.items():
        out = dest / target
        out.mkdir(parents=True, exist_ok=True)
        for py in (ROOT / source).rglob("*.py"):
            rel = py.relative_to(ROOT / source)
            (out / rel.parent).mkdir(parents=True, exist_ok=True)
            shutil.copy2(py, out / rel)
    for rel, text in (extra or {}).items():
        (dest / rel).write_text(text, encoding="utf-8")
    return dest


def lint_imports(extra: dict[str, str] | None = None, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` (the venv's) on a wheel-shaped copy of the sources."""

    exe = Path(sys.executable).parent / "lint-imports"
    with tempfile.TemporaryDirectory(prefix="govaudit-layers-") as tmp:
        mirror(Path(tmp), extra)
        env = {**os.environ, "PYTHONPATH": tmp}  # before the editable finder, which sits at the end of sys.meta_path
        return subprocess.run([str(exe), "--no-cache", str(config or ROOT / "pyproject.toml")], cwd=tmp, env=env,
                              capture_output=True, text=True, timeout=300)


if __name__ == "__main__":
    proc = lint_imports()
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    raise SystemExit(proc.returncode)
