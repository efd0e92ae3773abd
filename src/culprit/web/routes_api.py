"""The JSON API (``/api/v1``): the same operations as the pages, described by the OpenAPI document
at ``/api/openapi.json``.

Authenticate with ``POST /api/v1/auth/token`` and send ``Authorization: Bearer <token>``; a
browser session cookie works too, with ``X-CSRF-Token`` on every change. Errors are JSON
``{"detail": ...}`` with 401 (no login), 403 (not allowed / CSRF), 404 (no such case for you),
410 (expired link), 422 (invalid input).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from culprit.web import integrations, services
from culprit.web.deps import DB, ApiUser, ApiWrite, Throttled, check_login
from culprit.web.models import Case, Evidence, Job, UploadLink

router = APIRouter(prefix="/api/v1")


class TokenIn(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class TokenOut(BaseModel):
    token: str
    expires_at: datetime
    username: str
    role: str


class CaseIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    customer: str = Field(min_length=1, max_length=200)
    priority: Literal["P1", "P2", "P3", "P4"] = "P3"


class CaseOut(BaseModel):
    number: str
    title: str
    customer: str
    priority: str
    status: str
    owner: str
    created_at: datetime
    updated_at: datetime


class CasePatch(BaseModel):
    status: str
    note: str = Field("", max_length=500)


class MemberIn(BaseModel):
    username: str
    can_write: bool = False


class LinkIn(BaseModel):
    role: Literal["bad", "good"] = "bad"
    expires_in: int = Field(7 * 24 * 3600, ge=1, le=services.MAX_LINK_SECONDS, description="seconds")
    note: str = Field("", max_length=300)


class LinkOut(BaseModel):
    id: int
    role: str
    note: str
    expires_at: datetime
    revoked: bool
    uploads: int
    url: str | None = None
    token: str | None = None


class EvidenceOut(BaseModel):
    id: int
    filename: str
    size: int
    sha256: str
    role: str
    uploaded_by: str
    uploaded_at: datetime


class JobIn(BaseModel):
    lang: Literal["en", "zh"] = "en"
    evidence_ids: list[int] | None = None


class JobOut(BaseModel):
    id: int
    case: str
    state: str
    progress: int
    stage: str
    lang: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    result: dict[str, Any] | None = None


class ActivityOut(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: str


def _case(c: Case) -> CaseOut:
    return CaseOut(
        number=c.number,
        title=c.title,
        customer=c.customer,
        priority=c.priority,
        status=c.status,
        owner=c.owner.username,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


def _link(request: Request, ln: UploadLink, show: bool) -> LinkOut:
    out = LinkOut(
        id=ln.id, role=ln.role, note=ln.note, expires_at=ln.expires_at, revoked=ln.revoked, uploads=ln.uploads
    )
    if show:
        token = request.app.state.signer.make(ln.id, ln.nonce, ln.expires_at)
        out.token = token
        out.url = str(request.base_url).rstrip("/") + f"/u/{token}"
    return out


def _evidence(e: Evidence) -> EvidenceOut:
    return EvidenceOut(
        id=e.id,
        filename=e.filename,
        size=e.size,
        sha256=e.sha256,
        role=e.role,
        uploaded_by=e.uploaded_by,
        uploaded_at=e.uploaded_at,
    )


def _job(number: str, j: Job, with_result: bool = True) -> JobOut:
    return JobOut(
        id=j.id,
        case=number,
        state=j.state,
        progress=j.progress,
        stage=j.stage,
        lang=j.lang,
        created_at=j.created_at,
        started_at=j.started_at,
        finished_at=j.finished_at,
        error=j.error,
        result=json.loads(j.result) if with_result and j.result else None,
    )


@router.post("/auth/token", tags=["auth"], response_model=TokenOut)
def token(body: TokenIn, request: Request, db: DB) -> TokenOut:
    """Log in; the token goes in ``Authorization: Bearer``."""
    try:
        user = check_login(request, db, body.username, body.password)
    except Throttled as e:
        raise HTTPException(429, str(e)) from None
    if user is None:
        raise HTTPException(401, "wrong user name or password")
    tok, s = services.open_session(db, user, request.app.state.settings.session_hours, kind="api")
    db.commit()
    return TokenOut(token=tok, expires_at=s.expires_at, username=user.username, role=user.role)


@router.delete("/auth/token", tags=["auth"], status_code=204)
def logout(request: Request, db: DB, who: ApiWrite) -> Response:
    h = request.headers.get("authorization", "")
    services.close_session(db, h[7:].strip() if h[:7].lower() == "bearer " else None)
    db.commit()
    return Response(status_code=204)


@router.get("/me", tags=["auth"])
def me(who: ApiUser) -> dict[str, Any]:
    return {"username": who.user.username, "role": who.user.role, "display_name": who.user.display_name}


@router.get("/cases", tags=["cases"], response_model=list[CaseOut])
def list_cases(db: DB, who: ApiUser, archived: bool = False) -> list[CaseOut]:
    return [_case(c) for c in services.list_cases(db, who.user, archived)]


@router.post("/cases", tags=["cases"], response_model=CaseOut, status_code=201)
def create_case(body: CaseIn, db: DB, who: ApiWrite) -> CaseOut:
    c = services.create_case(db, who.user, body.title, body.customer, body.priority)
    db.commit()
    return _case(c)


@router.get("/cases/{number}", tags=["cases"])
def get_case(number: str, request: Request, db: DB, who: ApiUser) -> dict[str, Any]:
    """The case with its members, upload links, evidence and jobs (without results)."""
    c = services.get_case(db, who.user, number)
    writable = services.can_write(db, c, who.user)
    return {
        "case": _case(c).model_dump(mode="json"),
        "writable": writable,
        "next_statuses": list(services.TRANSITIONS[c.status]),
        "members": [{"username": m.user.username, "can_write": m.can_write} for m in services.members(db, c)],
        "links": [_link(request, ln, writable).model_dump(mode="json") for ln in services.links(db, c)],
        "evidence": [_evidence(e).model_dump(mode="json") for e in services.evidence(db, c)],
        "jobs": [_job(c.number, j, False).model_dump(mode="json") for j in services.jobs(db, c)],
    }


@router.patch("/cases/{number}", tags=["cases"], response_model=CaseOut)
def patch_case(number: str, body: CasePatch, db: DB, who: ApiWrite) -> CaseOut:
    """Move the case along its lifecycle."""
    c = services.get_case(db, who.user, number, write=True)
    services.set_status(db, who.user, c, body.status, body.note)
    db.commit()
    return _case(c)


@router.post("/cases/{number}/members", tags=["cases"], status_code=201)
def add_member(number: str, body: MemberIn, db: DB, who: ApiWrite) -> dict[str, Any]:
    c = services.get_case(db, who.user, number, write=True)
    m = services.add_member(db, who.user, c, body.username, body.can_write)
    db.commit()
    return {"username": m.user.username, "can_write": m.can_write}


@router.get("/cases/{number}/activity", tags=["cases"], response_model=list[ActivityOut])
def activity(number: str, db: DB, who: ApiUser) -> list[ActivityOut]:
    c = services.get_case(db, who.user, number)
    return [
        ActivityOut(at=a.at, actor=a.actor, action=a.action, detail=a.detail)
        for a in services.activity(db, c)
    ]


@router.post("/cases/{number}/links", tags=["uploads"], response_model=LinkOut, status_code=201)
def issue_link(number: str, body: LinkIn, request: Request, db: DB, who: ApiWrite) -> LinkOut:
    """A signed, expiring upload link for the customer (``url``; ``token`` for the upload API)."""
    c = services.get_case(db, who.user, number, write=True)
    ln, _ = services.issue_link(
        db, request.app.state.signer, who.user, c, body.role, body.expires_in, body.note
    )
    db.commit()
    return _link(request, ln, True)


@router.delete("/cases/{number}/links/{link_id}", tags=["uploads"], status_code=204)
def revoke_link(number: str, link_id: int, db: DB, who: ApiWrite) -> Response:
    c = services.get_case(db, who.user, number, write=True)
    services.revoke_link(db, who.user, c, link_id)
    db.commit()
    return Response(status_code=204)


@router.get("/cases/{number}/evidence", tags=["uploads"], response_model=list[EvidenceOut])
def list_evidence(number: str, db: DB, who: ApiUser) -> list[EvidenceOut]:
    c = services.get_case(db, who.user, number)
    return [_evidence(e) for e in services.evidence(db, c)]


@router.post("/cases/{number}/jobs", tags=["analysis"], response_model=JobOut, status_code=202)
def start_job(number: str, body: JobIn, request: Request, db: DB, who: ApiWrite) -> JobOut:
    """Queue an analysis; poll ``GET .../jobs/{id}`` for ``progress`` and the ``result``."""
    c = services.get_case(db, who.user, number, write=True)
    j = services.start_job(db, who.user, c, body.lang, body.evidence_ids)
    db.commit()
    request.app.state.runner.submit(j.id)
    return _job(c.number, j)


@router.get("/cases/{number}/jobs/{job_id}", tags=["analysis"], response_model=JobOut)
def get_job(number: str, job_id: int, db: DB, who: ApiUser) -> JobOut:
    """State, progress and, once done, the analysis (``culprit.analysis/1`` JSON)."""
    c = services.get_case(db, who.user, number)
    return _job(c.number, services.get_job(db, c, job_id))


@router.get("/cases/{number}/jobs/{job_id}/events", tags=["analysis"])
def job_events(
    number: str,
    job_id: int,
    request: Request,
    db: DB,
    who: ApiUser,
    where: Annotated[str, Query(max_length=2000)] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """The parsed events of the job's evidence in time order, filtered with the ``--where`` language."""
    c = services.get_case(db, who.user, number)
    j = services.get_job(db, c, job_id)
    tl = integrations.timeline(
        request.app.state.store,
        request.app.state.settings.work_dir,
        services.job_evidence(db, j),
        where,
        limit,
    )
    if tl.error:
        raise services.Invalid(tl.error)
    return {"matched": tl.matched, "scanned": tl.scanned, "truncated": tl.truncated, "events": tl.rows}


@router.get("/cases/{number}/jobs/{job_id}/report", tags=["analysis"])
def job_report(
    number: str,
    job_id: int,
    request: Request,
    db: DB,
    who: ApiUser,
    format: Annotated[str, Query(pattern="^(html|md|pdf)$")] = "html",
    lang: Annotated[str, Query(pattern="^(en|zh)$")] = "en",
    template: Annotated[str, Query(pattern="^(summary|scope|request)$")] = "summary",
) -> Response:
    """A case document from the stored analysis: the ``summary`` report or the ``scope`` / ``request`` emails
    (formats this server has: ``GET /api/v1/formats``)."""
    from culprit.web.routes_pages import report_response

    c = services.get_case(db, who.user, number)
    return report_response(request, db, c, services.get_job(db, c, job_id), format, lang, template)


@router.get("/formats", tags=["analysis"])
def formats() -> dict[str, Any]:
    return {"report": integrations.report_formats(), "templates": list(integrations.REPORT_TEMPLATES)}
