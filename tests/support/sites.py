"""Sites built by code for tests.

The implementation is :mod:`auditor.demo.servers` (the demo site shares it, so there is one server
in the project); this module is the import point the tests use:

    site = Site()
    site.page("/", "<a href='/a.html'>A</a>")
    site.page("/gbk.html", html, encoding="gbk")
    site.raw("/f.pdf", pdf_bytes, "application/pdf")
    site.redirect("/old", "/new", status=301)
    site.handler("/flaky", lambda req: (429, {"Retry-After": "1"}, "") if req.hits == 0 else (200, {}, "ok"))
    site.fallback(lambda req: (302, {"Location": "/"}, ""))   # unknown paths
    Hosts({"www.a.gov.cn": site, "www.b.gov.cn": other})      # name-based hosts on one port
"""

from auditor.demo.servers import NOT_FOUND_HTML, Hosts, Request, Response, Site, normalise_path

__all__ = ["NOT_FOUND_HTML", "Hosts", "Request", "Response", "Site", "normalise_path"]
