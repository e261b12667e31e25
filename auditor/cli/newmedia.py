"""``govaudit check URL --accounts registry.csv``: the 政务新媒体 options of the command line.

The registry path is stored absolute in the run's options (``plugin_options["newmedia"]["accounts"]``,
the same place a TOML ``[plugins.newmedia] accounts = "…"`` puts it); the measure plugin reads the file
once and stores its rows, so ``recheck`` needs neither the file nor the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditor.config import ConfigError


def accounts_options(path: Path | None) -> dict[str, Any] | None:
    """The ``newmedia`` plugin options for ``--accounts PATH`` (None when not given)."""

    if path is None:
        return None
    p = path.expanduser()
    if not p.is_file():
        raise ConfigError(f"--accounts 文件不存在 / registry file not found: {path}")
    if p.suffix.lower() not in (".csv", ".xlsx"):
        raise ConfigError(f"--accounts 需要 CSV 或 XLSX 文件 / the registry must be .csv or .xlsx: {path}")
    return {"accounts": str(p.resolve())}
