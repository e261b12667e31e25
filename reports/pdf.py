"""``report.pdf``: the HTML report printed by the audit's own Chromium, for circulation.

Offices circulate PDFs, not HTML folders. The page is the same ``report.html`` the HTML writer
renders (one template, so the two never disagree), loaded with ``page.set_content`` — no file, no
server — and printed with ``page.pdf()``. Every request the page might make is aborted: the report's
CSP already forbids remote loads, and the PDF must not depend on the network either. Chinese text is
drawn with the system's CJK font (scripts/setup.sh installs one; ``fc-list :lang=zh``), which Chromium
embeds as a subset, so the PDF's text stays extractable.

Chromium is the one the audit uses (``[plugins.browser] executable``, default Debian's
``/usr/bin/chromium``), started with the same offline flags. It runs on a private thread with its
own event loop: the crawl's Twisted reactor may have left an asyncio loop on the main thread, and
Playwright's sync API refuses to start under one.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from auditor.hookspecs import hookimpl

_executable: dict[str, str] = {}
PDF_TIMEOUT_S = 180.0


class PdfWriteError(RuntimeError):
    """Chromium could not print the report (not installed, crashed, timed out)."""


@hookimpl
def govaudit_configure(config: Any) -> None:
    """Remember which Chromium the audit is configured with (the writers get only the report)."""

    opts = (getattr(config, "plugin_options", None) or {}).get("browser", {}) or {}
    if opts.get("executable"):
        _executable["path"] = str(opts["executable"])
    else:
        _executable.pop("path", None)


def _chromium() -> tuple[str, list[str]]:
    from auditor.plugins.browser import CHROMIUM_ARGS, DEFAULT_EXECUTABLE

    return _executable.get("path", DEFAULT_EXECUTABLE), list(CHROMIUM_ARGS)


async def _print(html: str, path: Path, executable: str, args: list[str], lang: str) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, headless=True, args=args)
        try:
            page = await browser.new_page(locale="en-US" if lang == "en" else "zh-CN")
            await page.route("**/*", lambda route: route.abort())
            await page.set_content(html, wait_until="load")
            await page.emulate_media(media="print")
            footer = ('<div style="font-size:8px;width:100%;text-align:center;color:#57606a">'
                      '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
            await page.pdf(path=str(path), format="A4", print_background=True, display_header_footer=True,
                           header_template="<div></div>", footer_template=footer,
                           margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
        finally:
            await browser.close()


class PdfWriter:
    """``--format pdf`` → ``report.pdf``."""

    name = "pdf"

    def write(self, report: dict[str, Any], out_dir: Path) -> Path:
        from auditor.reports.writers import HtmlWriter

        html = HtmlWriter().render(report)
        executable, args = _chromium()
        path = out_dir / "report.pdf"
        tmp = out_dir / "report.pdf.tmp"
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(_print(html, tmp, executable, args, report.get("lang", "zh")))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=run, name="govaudit-pdf", daemon=True)
        worker.start()
        worker.join(PDF_TIMEOUT_S)
        if worker.is_alive():
            raise PdfWriteError(f"Chromium 打印 PDF 超时 / printing the PDF timed out after {PDF_TIMEOUT_S:.0f}s")
        if failure:
            raise PdfWriteError(f"Chromium 无法打印 PDF / cannot print the PDF with {executable}: {failure[0]}") from failure[0]
        tmp.replace(path)
        return path


@hookimpl
def govaudit_report_writers() -> list[Any]:
    return [PdfWriter()]
