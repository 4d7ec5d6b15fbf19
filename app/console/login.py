"""Log in with a console token (ADMIN_TOKENS: admin; CONSOLE_VIEWER_TOKENS: viewer)
and get a signed session cookie; log out."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.console import session as sessions
from app.console.auth import (
    COOKIE,
    LOGIN_COOKIE,
    CheckedDep,
    ConsoleRoute,
    FormDep,
    Refusal,
    User,
    audit,
    field,
    html,
    session_of,
    tokens_of,
)
from app.console.throttle import LoginThrottle
from app.runtime.deps import ServicesDep

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
LOGIN_FORM_SECONDS = 3600


def _set_cookie(request: Request, response: Response, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/console",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def _next(target: str) -> str:
    """Only a console path: never an open redirect."""
    safe = target.startswith("/console/") and "//" not in target and "\\" not in target
    return target if safe else "/console/inbox"


@router.get("/login")
async def login_form(request: Request, services: ServicesDep, next: str = "") -> Response:
    tokens = tokens_of(services)
    if await session_of(request, services) is not None:
        return RedirectResponse(_next(next), status_code=303)
    nonce = sessions.new_nonce()
    context = {"csrf": sessions.csrf_token(tokens, nonce, "login"), "next": _next(next)}
    response = html(request, "login.html", context)
    _set_cookie(request, response, LOGIN_COOKIE, nonce, LOGIN_FORM_SECONDS)
    return response


def _throttle(request: Request, services: ServicesDep) -> LoginThrottle:
    """One per app (not per module: tests run many apps in one process)."""
    throttle: LoginThrottle | None = getattr(request.app.state, "console_logins", None)
    if throttle is None:
        throttle = LoginThrottle(services.settings.console_login_max_failures)
        request.app.state.console_logins = throttle
    return throttle


@router.post("/login")
async def login(request: Request, services: ServicesDep, form: FormDep) -> Response:
    throttle, address = _throttle(request, services), _address(request)
    wait = throttle.wait_seconds(address, time.monotonic())
    if wait:
        await audit(services, None, "login", "-", "refused", "too many failed logins")
        raise Refusal(
            429,
            "too_many_failed_logins",
            f"too many failed logins from this address; try again in {wait} s",
            headers={"retry-after": str(wait)},
        )
    tokens = tokens_of(services)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not sessions.csrf_ok(tokens, nonce, field(form, "csrf"), "login"):
        await audit(services, None, "login", "-", "refused", "csrf")
        raise Refusal(403, "csrf_failed", "the login form's CSRF token is missing or wrong")
    given = field(form, "token")
    role = tokens.role_of(given)
    if role is None:
        throttle.failed(address, time.monotonic())
        await audit(services, None, "login", "-", "refused", "unknown token")
        context = {
            "csrf": sessions.csrf_token(tokens, nonce or "", "login"),
            "next": _next(field(form, "next")),
            "error": "That token is not allowed.",
        }
        return html(request, "login.html", context, status=401)
    throttle.succeeded(address)
    who = sessions.fingerprint(given.strip())
    minutes = services.settings.console_session_minutes
    cookie = sessions.issue(tokens, role, who, now=time.time(), minutes=minutes)
    user = User(session=sessions.read(tokens, cookie, now=time.time()) or _never(), csrf="")
    await audit(services, user, "login", who, "ok", role)
    response = RedirectResponse(_next(field(form, "next")), status_code=303)
    _set_cookie(request, response, COOKIE, cookie, minutes * 60)
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _never() -> sessions.Session:
    raise RuntimeError("a session just issued does not read back")


@router.post("/logout")
async def logout(services: ServicesDep, user: CheckedDep) -> Response:
    now = time.time()
    await services.store.update_kv(
        sessions.REVOKED_KEY, lambda current: sessions.revoke(current, user.session, now=now)
    )
    await audit(services, user, "logout", user.who, "ok")
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response
