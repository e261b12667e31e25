"""The 适老化 family's rule-pack parameter access, shared by the measurement
(:mod:`auditor.plugins.elderly_probe`: keywords that find the entry, the ratio axe-core tests
contrast at) and the judgement (:mod:`auditor.checks.elderly`: font size and spacing thresholds).

``national.json`` carries the values with their source and status. Here rather than in either module because a check may not import a
plugin, and the plugin should not depend on a check.
"""

from __future__ import annotations

from typing import Any


def pv(ctx: Any, key: str) -> Any:
    """The pack's value for ``key`` (any context with a ``pack``): declared in checks/rules/elderly.json,
    its default in national.json — no fall-back here, a missing key is an error."""

    return ctx.pack.value(key)
