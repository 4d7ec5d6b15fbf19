"""The console's web layer: session and CSRF checks, refusals, the audit of actions.

Routes declare what they need: `UserDep` (any session: pages, read-only actions)
or `ActorDep` (a session, the form's CSRF token, and the admin role). A refusal is
a `Refusal`, turned into a response by `ConsoleRoute`: a redirect to the login for
a page without a session, else the status with an HTML page (browsers) or the
project's JSON error shape.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from app.console import session as sessions
from app.console.templating import templates
from app.runtime.container import Services
from app.runtime.deps import ServicesDep
from app.store import AuditEntry

COOKIE = "console_session"
LOGIN_COOKIE = "console_login"
MAX_FORM_BYTES = 2_000_000  # a pasted policy file fits
CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class Refusal(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        login: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.login = status, code, message, login
        self.headers = headers or {}

    def response(self, request: Request) -> Response:
        if self.login and request.method == "GET":
            target = quote(request.url.path, safe="/")
            return RedirectResponse(f"/console/login?next={target}", status_code=303)
        if "text/html" in request.headers.get("accept", ""):
            context = {"code": self.code, "message": self.message, "status": self.status}
            page = html(request, "refused.html", context, self.status)
            page.headers.update(self.headers)
            return page
        body = {"error": self.code, "message": self.message}
        return JSONResponse(body, self.status, headers=self.headers)


class ConsoleRoute(APIRoute):
    """Turns a `Refusal` raised by a dependency or a handler into its response."""

    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except Refusal as refusal:
                return refusal.response(request)
            return response

        return run


def tokens_of(services: Services) -> sessions.Tokens:
    settings = services.settings
    return sessions.tokens_from(
        (t.get_secret_value() for t in settings.admin_tokens),
        (t.get_secret_value() for t in settings.console_viewer_tokens),
    )


@dataclass(frozen=True, slots=True)
class User:
    session: sessions.Session
    csrf: str

    @property
    def who(self) -> str:
        return self.session.who

    @property
    def role(self) -> str:
        return self.session.role


async def session_of(request: Request, services: Services) -> sessions.Session | None:
    """The request's live session: signed, unexpired, its token configured, not logged out."""
    found = sessions.read(tokens_of(services), request.cookies.get(COOKIE), now=time.time())
    if found is None:
        return None
    revoked = await services.store.get_kv(sessions.REVOKED_KEY)
    # logged out: a copy of the cookie is refused like a forged one
    return None if sessions.is_revoked(revoked, found) else found


async def current_user(request: Request, services: ServicesDep) -> User:
    tokens = tokens_of(services)
    found = await session_of(request, services)
    if found is None:
        raise Refusal(401, "login_required", "log in to the console first", login=True)
    user = User(session=found, csrf=sessions.csrf_token(tokens, found.nonce))
    request.state.console_user = user
    return user


UserDep = Annotated[User, Depends(current_user)]


async def read_form(request: Request) -> dict[str, list[str]]:
    """The urlencoded form body (the console's forms post nothing else)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise Refusal(415, "unsupported_media_type", "forms are application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise Refusal(413, "form_too_large", f"forms are at most {MAX_FORM_BYTES} bytes")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


FormDep = Annotated[dict[str, list[str]], Depends(read_form)]


def field(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[0] if values else default


async def checked_user(
    request: Request, services: ServicesDep, user: UserDep, form: FormDep
) -> User:
    """A session and the form's CSRF token (read-only actions: dry run, diff)."""
    if not sessions.csrf_ok(tokens_of(services), user.session.nonce, field(form, "csrf")):
        await audit(services, user, f"{request.method} {request.url.path}", "-", "refused", "csrf")
        raise Refusal(403, "csrf_failed", "the form's CSRF token is missing or wrong")
    return user


CheckedDep = Annotated[User, Depends(checked_user)]


async def actor(request: Request, services: ServicesDep, user: CheckedDep) -> User:
    """A checked session with the admin role: actions that change something."""
    if not user.session.can_act:
        action = f"{request.method} {request.url.path}"
        await audit(services, user, action, "-", "refused", "viewer")
        raise Refusal(403, "read_only", "a viewer session can look but not act")
    return user


ActorDep = Annotated[User, Depends(actor)]


async def audit(
    services: Services, user: User | None, action: str, target: str, outcome: str, detail: str = ""
) -> None:
    await services.store.record_audit(
        AuditEntry(
            who=user.who if user else "anonymous",
            role=user.role if user else "-",
            action=action,
            target=target,
            outcome=outcome,
            detail=detail,
            at=services.clock(),
        )
    )


def html(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response: HTMLResponse = templates.TemplateResponse(
        request, name, context | {"user": getattr(request.state, "console_user", None)}, status
    )
    response.headers["cache-control"] = "no-store"
    response.headers["content-security-policy"] = CSP
    return response
