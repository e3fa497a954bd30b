"""/dev/mail: the dev mailbox in a browser. Mail HTML is shown in a sandboxed frame with no
scripts and no remote loads (the page's Content-Security-Policy covers the frame too).

Only for a browser on the same machine. The mailbox holds sign-in codes and password reset
links, and mimic's port also takes integrators' webhooks, so it is often reachable from
outside (the compose gateway publishes it): a request from another address, or one relayed by
a proxy (it carries forwarding headers), is answered as if the page did not exist.
"""

from __future__ import annotations

import ipaddress
from html import escape
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from mimic.adapters.dev_mailbox import list_mail, read_mail

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'"
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"}
_STYLE = (
    "<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;width:100%}td,th{padding:6px 10px;border-bottom:1px solid #ddd;"
    "text-align:left}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}"
    "iframe{width:100%;height:60vh;border:1px solid #ddd}</style>"
)


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"{_STYLE}</head><body>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


_FORWARDING = ("forwarded", "x-forwarded-for", "x-real-ip")


def is_local(request: Request) -> bool:
    """A direct request from this machine."""
    if request.client is None or any(h in request.headers for h in _FORWARDING):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def _local_only(request: Request) -> None:
    if not is_local(request):
        raise HTTPException(status_code=404, detail="Not Found")


def register(web: FastAPI, directory: Path) -> None:
    @web.get("/dev/mail", include_in_schema=False, dependencies=[Depends(_local_only)])
    async def inbox() -> HTMLResponse:
        mails = list_mail(directory)
        rows = "".join(
            f"<tr><td>{escape(m.date.isoformat(sep=' ', timespec='seconds') if m.date else '')}"
            f"</td><td>{escape(m.to)}</td>"
            f"<td><a href='/dev/mail/{escape(m.key)}'>{escape(m.subject or '(no subject)')}</a>"
            f"</td></tr>"
            for m in mails
        )
        table = (
            f"<table><tr><th>received</th><th>to</th><th>subject</th></tr>{rows}</table>"
            if mails
            else "<p>No mail yet.</p>"
        )
        return _page("dev mailbox", f"<h1>dev mailbox</h1><p>{escape(str(directory))}</p>{table}")

    @web.get("/dev/mail/{key}", include_in_schema=False, dependencies=[Depends(_local_only)])
    async def one(key: str) -> Response:
        mail = read_mail(directory, key)
        if mail is None:
            return _page("not found", "<p>No such message.</p>", status=404)
        s = mail.summary
        parts = [
            "<p><a href='/dev/mail'>&larr; all mail</a> &middot; "
            f"<a href='/dev/mail/{escape(s.key)}/raw'>raw</a></p>",
            f"<h1>{escape(s.subject)}</h1>",
            f"<p><b>From</b> {escape(s.sender)}<br><b>To</b> {escape(s.to)}</p>",
        ]
        if mail.html is not None:
            parts.append(f'<iframe sandbox srcdoc="{escape(mail.html, quote=True)}"></iframe>')
        if mail.text is not None:
            parts.append(f"<pre>{escape(mail.text)}</pre>")
        return _page(s.subject, "".join(parts))

    @web.get("/dev/mail/{key}/raw", include_in_schema=False, dependencies=[Depends(_local_only)])
    async def raw(key: str) -> Response:
        mail = read_mail(directory, key)
        if mail is None:
            return Response("no such message\n", status_code=404, media_type="text/plain")
        return Response(mail.raw, media_type="text/plain; charset=utf-8", headers=_HEADERS)
