"""What the accessibility measurement and its judgement share: options and the identity of a node.

Two modules use these and neither may import the other: :mod:`auditor.plugins.a11y_probe` (measure
stage: it runs axe-core in the browser and must know which nodes it already photographed) and
:mod:`auditor.checks.a11y` (checks: it groups the stored nodes into findings). Both must agree on
what "the same element" is, or a screenshot would be taken for one node and shown for another; so
the definition lives here, in a module with no I/O that both layers may import.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urljoin

DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

_URL_ATTR = re.compile(r"""\b(src|href|data|action|poster)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_SPACE = re.compile(r"\s+")
# what changes from one run to the next without the element changing: the port a loopback copy of the
# site was served on, and the date/time a top bar prints (今天是2026年01月10日 星期六)
_PORT = re.compile(r"^(https?://[^/?#@\[\]:]+|https?://\[[^\]]+\]):\d+(?=[/?#]|$)", re.I)
_VOLATILE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|星期[一二三四五六日天]"
                       r"|\d{1,2}:\d{2}(?::\d{2})?")


def normalise_html(html: str, page_url: str) -> str:
    """The element's outerHTML as a position-independent identity.

    Whitespace collapsed and ``src``/``href``/``data``/``action``/``poster`` made absolute against
    the page (``spacer.gif`` on /a/ and ``../spacer.gif`` on /a/b/ are the same image), without a
    port, and printed dates and times replaced by ``#``: the same element next month, or on a copy
    served at another port, has the same identity (finding ids are built from it).
    """

    def absolute(m: re.Match[str]) -> str:
        value = m.group(2).strip("\"'").strip()
        try:
            value = _PORT.sub(r"\1", urljoin(page_url, value))
        except ValueError:
            pass
        return f'{m.group(1).lower()}="{value}"'

    return _SPACE.sub(" ", _VOLATILE.sub("#", _URL_ATTR.sub(absolute, html or ""))).strip()


def node_identity(rule: str, node: dict[str, Any], page_url: str) -> str:
    """Rule + normalised element: the same element wherever in the DOM it sits."""

    return hashlib.sha1(f"{rule}\x1f{normalise_html(node.get('html', ''), page_url)}".encode()).hexdigest()[:16]


def options(config: Any) -> dict[str, Any]:
    """``[plugins.a11y]`` beyond sampling: what to run (``tags``, ``disable``, ``screenshots``,
    ``screenshot_total_kb``: the measure stage) and how to report (``repeat_min_pages``,
    ``max_nodes``: the check). Raises ``TypeError``/``ValueError`` on a bad value."""

    opts = dict(config.plugin_options.get("a11y", {}) or {})
    tags = opts.get("tags") or DEFAULT_TAGS
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    return {
        "tags": list(tags),
        "disable": [str(r) for r in opts.get("disable", [])],
        "repeat_min_pages": max(2, int(opts.get("repeat_min_pages", 2))),
        "max_nodes": max(1, int(opts.get("max_nodes", 20))),
        "screenshots": bool(opts.get("screenshots", True)),
        "screenshot_total_kb": max(0, int(opts.get("screenshot_total_kb", 1000))),
    }
