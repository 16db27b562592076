"""The email pages' refusal of another site's POST (CSRF), kept beside :mod:`adapters.web.email`, which is at the
module size limit."""

from __future__ import annotations

from aiohttp import web


def cross_site(request: web.Request, base_url: str | None) -> bool:
    """Whether a POST comes from another site's page (CSRF). ``Sec-Fetch-Site: cross-site`` says so; else an
    ``Origin`` naming another host does. ``Origin: null`` is not refused: browsers send it for this site's own
    forms, because every page says ``Referrer-Policy: no-referrer`` (Chromium does: the browser test sees it); a
    cross-site null (sandboxed frame) carries ``Sec-Fetch-Site: cross-site`` in current browsers."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None or origin.strip().lower() == "null":
        return False
    host = origin.strip().lower().partition("://")[2].rstrip("/")
    own = {request.host.lower()}
    if base_url:
        own.add(base_url.lower().partition("://")[2].split("/", 1)[0])
    return host not in own
