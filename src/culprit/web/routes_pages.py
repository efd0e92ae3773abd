"""Server-rendered pages of the workbench: login, cases, a case, a job's results and timeline, users.

Handlers are plain functions (FastAPI runs them in its thread pool); each reads the form,
calls :mod:`culprit.web.services` and renders a template or redirects. State-changing posts
take the session's CSRF token (``deps.PageWrite``).
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from culprit.errors import CulpritError
from culprit.web import integrations, security, services
from culprit.web.app import render
from culprit.web.deps import (
    COOKIE,
    DB,
    LOGIN_CSRF_COOKIE,
    PageUser,
    PageWrite,
    Throttled,
    check_login,
    identify,
)
from culprit.web.models import PRIORITIES, ROLES, STATUSES, TRANSITIONS, Evidence, User

router = APIRouter(include_in_schema=False)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return "/"
    return url


# --- login ---------------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, db: DB, next: str = "/") -> Response:
    if identify(request, db) is not None:
        return _see_other(_safe_next(next))
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html.j2", next=_safe_next(next), login_csrf=token, error=None)
    resp.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
        max_age=3600,
    )
    return resp


@router.post("/login")
def login(
    request: Request,
    db: DB,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not security.same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return render(
            request,
            "login.html.j2",
            status=403,
            next=_safe_next(next),
            login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE) or "",
            error="The login form expired. Try again.",
        )
    try:
        user = check_login(request, db, username, password)
        error, status = "Wrong user name or password.", 401
    except Throttled as e:
        user, error, status = None, f"{str(e)[0].upper()}{str(e)[1:]}.", 429
    if user is None:
        return render(
            request,
            "login.html.j2",
            status=status,
            next=_safe_next(next),
            login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE) or "",
            error=error,
        )
    settings = request.app.state.settings
    token, _ = services.open_session(db, user, settings.session_hours)
    db.commit()
    resp = _see_other(_safe_next(next))
    resp.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=int(settings.session_hours * 3600),
    )
    resp.delete_cookie(LOGIN_CSRF_COOKIE)
    return resp


@router.post("/logout")
def logout(request: Request, db: DB, who: PageWrite) -> Response:
    services.close_session(db, request.cookies.get(COOKIE))
    db.commit()
    resp = _see_other("/login")
    resp.delete_cookie(COOKIE)
    return resp


# --- cases ---------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, db: DB, who: PageUser, archived: bool = False) -> Response:
    cases = services.list_cases(db, who.user, include_archived=archived)
    return render(request, "cases.html.j2", who=who, cases=cases, archived=archived)


@router.get("/cases/new")
def new_case_page(request: Request, who: PageUser) -> Response:
    return render(request, "case_new.html.j2", who=who, priorities=PRIORITIES, error=None)


@router.post("/cases")
def create_case(
    request: Request,
    db: DB,
    who: PageWrite,
    title: Annotated[str, Form()] = "",
    customer: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "P3",
) -> Response:
    try:
        case = services.create_case(db, who.user, title, customer, priority)
    except services.Invalid as e:
        return render(
            request,
            "case_new.html.j2",
            status=422,
            who=who,
            priorities=PRIORITIES,
            error=str(e),
            form={"title": title, "customer": customer, "priority": priority},
        )
    db.commit()
    return _see_other(f"/cases/{case.number}")


def case_context(request: Request, db: Any, who: Any, number: str) -> dict[str, Any]:
    case = services.get_case(db, who.user, number)
    signer = request.app.state.signer
    now = services.utcnow()
    links = [
        {
            "link": ln,
            "url": str(request.base_url).rstrip("/") + f"/u/{signer.make(ln.id, ln.nonce, ln.expires_at)}",
            "live": not ln.revoked and ln.expires_at > now,
        }
        for ln in services.links(db, case)
    ]
    return {
        "case": case,
        "writable": services.can_write(db, case, who.user),
        "members": services.members(db, case),
        "links": links,
        "evidence": services.evidence(db, case),
        "jobs": services.jobs(db, case),
        "activity": services.activity(db, case),
        "next_statuses": TRANSITIONS[case.status],
        "statuses": STATUSES,
    }


@router.get("/cases/{number}")
def case_page(request: Request, db: DB, who: PageUser, number: str) -> Response:
    return render(request, "case.html.j2", who=who, error=None, **case_context(request, db, who, number))


def _case_error(request: Request, db: Any, who: Any, number: str, e: Exception) -> Response:
    db.rollback()
    return render(
        request, "case.html.j2", status=422, who=who, error=str(e), **case_context(request, db, who, number)
    )


@router.post("/cases/{number}/status")
def change_status(
    request: Request,
    db: DB,
    who: PageWrite,
    number: str,
    status: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    case = services.get_case(db, who.user, number, write=True)
    try:
        services.set_status(db, who.user, case, status, note)
    except services.Invalid as e:
        return _case_error(request, db, who, number, e)
    db.commit()
    return _see_other(f"/cases/{number}")


@router.post("/cases/{number}/members")
def add_member(
    request: Request,
    db: DB,
    who: PageWrite,
    number: str,
    username: Annotated[str, Form()] = "",
    access: Annotated[str, Form()] = "read",
) -> Response:
    case = services.get_case(db, who.user, number, write=True)
    try:
        services.add_member(db, who.user, case, username, access == "write")
    except services.Invalid as e:
        return _case_error(request, db, who, number, e)
    db.commit()
    return _see_other(f"/cases/{number}#members")


@router.post("/cases/{number}/links")
def issue_link(
    request: Request,
    db: DB,
    who: PageWrite,
    number: str,
    role: Annotated[str, Form()] = "bad",
    hours: Annotated[float, Form(gt=0, le=24 * 30)] = 168,
    note: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    case = services.get_case(db, who.user, number, write=True)
    try:
        services.issue_link(db, request.app.state.signer, who.user, case, role, int(hours * 3600), note)
    except services.Invalid as e:
        return _case_error(request, db, who, number, e)
    db.commit()
    return _see_other(f"/cases/{number}#links")


@router.post("/cases/{number}/links/{link_id}/revoke")
def revoke_link(db: DB, who: PageWrite, number: str, link_id: int) -> Response:
    case = services.get_case(db, who.user, number, write=True)
    services.revoke_link(db, who.user, case, link_id)
    db.commit()
    return _see_other(f"/cases/{number}#links")


@router.get("/cases/{number}/evidence/{evidence_id}")
def download_evidence(request: Request, db: DB, who: PageUser, number: str, evidence_id: int) -> Response:
    case = services.get_case(db, who.user, number)
    ev = db.get(Evidence, evidence_id)
    if ev is None or ev.case_id != case.id:
        raise services.Denied(str(evidence_id))
    return FileResponse(
        request.app.state.store.blob_path(ev.sha256),
        filename=ev.filename,
        media_type="application/octet-stream",
    )


@router.post("/cases/{number}/analyze")
def analyze(
    request: Request, db: DB, who: PageWrite, number: str, lang: Annotated[str, Form()] = "en"
) -> Response:
    case = services.get_case(db, who.user, number, write=True)
    try:
        job = services.start_job(db, who.user, case, lang)
    except services.Invalid as e:
        return _case_error(request, db, who, number, e)
    db.commit()
    request.app.state.runner.submit(job.id)
    return _see_other(f"/cases/{number}/jobs/{job.id}")


# --- results -------------------------------------------------------------------------------------


def job_context(db: Any, who: Any, number: str, job_id: int) -> dict[str, Any]:
    case = services.get_case(db, who.user, number)
    job = services.get_job(db, case, job_id)
    result = json.loads(job.result) if job.result else None
    evs = services.job_evidence(db, job)
    return {
        "case": case,
        "job": job,
        "result": result,
        "evidence": evs,
        "has_good": any(e.role == "good" for e in evs),
        "formats": integrations.report_formats() if result else [],
    }


@router.get("/cases/{number}/jobs/{job_id}")
def job_page(request: Request, db: DB, who: PageUser, number: str, job_id: int) -> Response:
    return render(request, "job.html.j2", who=who, **job_context(db, who, number, job_id))


@router.get("/cases/{number}/jobs/{job_id}/progress")
def job_progress(request: Request, db: DB, who: PageUser, number: str, job_id: int) -> Response:
    ctx = job_context(db, who, number, job_id)
    resp = render(request, "_progress.html.j2", who=who, **ctx)
    if ctx["job"].state in ("done", "failed"):
        resp.headers["X-Refresh"] = "1"  # hx-lite reloads the page to show the results
    return resp


@router.get("/cases/{number}/jobs/{job_id}/timeline")
def job_timeline(
    request: Request,
    db: DB,
    who: PageUser,
    number: str,
    job_id: int,
    where: Annotated[str, Query(max_length=2000)] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Response:
    ctx = job_context(db, who, number, job_id)
    tl = integrations.timeline(
        request.app.state.store, request.app.state.settings.work_dir, ctx["evidence"], where, limit
    )
    return render(request, "timeline.html.j2", who=who, where=where, limit=limit, tl=tl, **ctx)


@router.get("/cases/{number}/jobs/{job_id}/analysis.json")
def job_json(db: DB, who: PageUser, number: str, job_id: int) -> Response:
    ctx = job_context(db, who, number, job_id)
    if ctx["result"] is None:
        raise services.Invalid("the analysis has not finished")
    return Response(
        ctx["job"].result,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{number}-job{job_id}.json"'},
    )


def report_response(
    request: Request, db: Any, case: Any, job: Any, fmt: str, lang: str, template: str
) -> Response:
    """Render a finished job's analysis as a case document (pages and API share this)."""
    if not job.result:
        raise services.Invalid("the analysis has not finished")
    link = None
    if template == "request":  # the evidence-request email carries the newest live upload link
        signer = request.app.state.signer
        now = services.utcnow()
        for ln in services.links(db, case):
            if not ln.revoked and ln.expires_at > now and ln.role == "bad":
                link = str(request.base_url).rstrip("/") + f"/u/{signer.make(ln.id, ln.nonce, ln.expires_at)}"
                break
    try:
        body, media, suffix = integrations.render_report(
            json.loads(job.result), fmt, lang, case.number, template, link
        )
    except KeyError:
        raise services.Invalid(f"report {template!r} as {fmt!r} is not available on this server") from None
    except CulpritError as e:
        raise services.Invalid(f"the report could not be rendered: {e}") from None
    name = f"{case.number}-{template}-{lang}.{suffix}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/cases/{number}/jobs/{job_id}/report.{fmt}")
def job_report(
    request: Request,
    db: DB,
    who: PageUser,
    number: str,
    job_id: int,
    fmt: str,
    lang: Annotated[str, Query(pattern="^(en|zh)$")] = "en",
    template: Annotated[str, Query(pattern="^(summary|scope|request)$")] = "summary",
) -> Response:
    case = services.get_case(db, who.user, number)
    return report_response(request, db, case, services.get_job(db, case, job_id), fmt, lang, template)


# --- users ---------------------------------------------------------------------------------------


def _admin(who: Any) -> None:
    if who.user.role != "admin":
        raise services.Forbidden("only an admin manages accounts")


@router.get("/admin/users")
def users_page(request: Request, db: DB, who: PageUser) -> Response:
    _admin(who)
    users = db.scalars(select(User).order_by(User.username)).all()
    return render(request, "users.html.j2", who=who, users=users, roles=ROLES, error=None)


@router.post("/admin/users")
def add_user(
    request: Request,
    db: DB,
    who: PageWrite,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "engineer",
    display_name: Annotated[str, Form()] = "",
) -> Response:
    _admin(who)
    try:
        services.add_user(db, username, password, role, display_name)
    except services.Invalid as e:
        db.rollback()
        users = db.scalars(select(User).order_by(User.username)).all()
        return render(request, "users.html.j2", status=422, who=who, users=users, roles=ROLES, error=str(e))
    db.commit()
    return _see_other("/admin/users")
