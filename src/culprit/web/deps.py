"""Request plumbing: the database session, who is asking, and the CSRF check.

A request is authenticated by the ``culprit_session`` cookie (pages, and the API from the
same browser) or by ``Authorization: Bearer <token>`` (API clients). Requests that change
something and came with the cookie must carry the session's CSRF token (form field
``csrf_token`` or header ``X-CSRF-Token``); bearer requests need none, as no browser sends that
header on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Form, Header, HTTPException, Request
from sqlalchemy.orm import Session

from culprit.web import security, services
from culprit.web.models import AuthSession, User

COOKIE = "culprit_session"
LOGIN_CSRF_COOKIE = "culprit_login_csrf"


class LoginRequired(Exception):
    """A page needs a login; answered with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfFailed(Exception):
    """A state-changing request without the right CSRF token (403)."""


@dataclass
class Who:
    user: User
    session: AuthSession
    via: str  # "cookie" | "bearer"

    @property
    def csrf(self) -> str:
        return self.session.csrf


class Throttled(Exception):
    """Too many failed logins (429)."""

    def __init__(self, seconds: float) -> None:
        minutes = max(1, int(seconds // 60) + 1)
        super().__init__(f"too many failed logins: try again in {minutes} minute(s)")


def check_login(request: Request, db: Session, username: str, password: str) -> User | None:
    """The user for these credentials, None when wrong; :class:`Throttled` after too many failures."""
    throttle = request.app.state.throttle
    keys = (f"user:{username.strip().lower()}", f"ip:{request.client.host if request.client else '?'}")
    wait = throttle.blocked_for(*keys)
    if wait > 0:
        raise Throttled(wait)
    user = services.authenticate(db, username, password)
    db.commit()
    if user is None:
        throttle.failed(*keys)
    else:
        throttle.succeeded(keys[0])
    return user


def get_db(request: Request) -> Iterator[Session]:
    db = request.app.state.db()
    try:
        yield db
    finally:
        db.close()


DB = Annotated[Session, Depends(get_db)]


def _bearer(request: Request) -> str | None:
    h = request.headers.get("authorization", "")
    if h[:7].lower() == "bearer ":
        return h[7:].strip() or None
    return None


def identify(request: Request, db: Session) -> Who | None:
    token = _bearer(request)
    via = "bearer"
    if token is None:
        token = request.cookies.get(COOKIE)
        via = "cookie"
    s = services.session_for(db, token)
    if s is None:
        db.commit()
        return None
    if (via == "bearer" and s.kind != "api") or (via == "cookie" and s.kind != "web"):
        return None
    return Who(s.user, s, via)


def page_user(request: Request, db: DB) -> Who:
    who = identify(request, db)
    if who is None:
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(nxt)
    return who


def api_user(request: Request, db: DB) -> Who:
    who = identify(request, db)
    if who is None:
        raise HTTPException(
            401, "log in first: POST /api/v1/auth/token", headers={"WWW-Authenticate": "Bearer"}
        )
    return who


def form_csrf(
    who: Annotated[Who, Depends(page_user)],
    csrf_token: Annotated[str, Form()] = "",
    x_csrf_token: Annotated[str, Header()] = "",
) -> Who:
    """Pages: the session's CSRF token must come back in the form (or the header)."""
    if not (security.same(csrf_token, who.csrf) or security.same(x_csrf_token, who.csrf)):
        raise CsrfFailed()
    return who


def api_csrf(who: Annotated[Who, Depends(api_user)], x_csrf_token: Annotated[str, Header()] = "") -> Who:
    """API: cookie-authenticated changes need the X-CSRF-Token header; bearer ones do not."""
    if who.via == "cookie" and not security.same(x_csrf_token, who.csrf):
        raise CsrfFailed()
    return who


PageUser = Annotated[Who, Depends(page_user)]
PageWrite = Annotated[Who, Depends(form_csrf)]
ApiUser = Annotated[Who, Depends(api_user)]
ApiWrite = Annotated[Who, Depends(api_csrf)]
