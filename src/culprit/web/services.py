"""Case operations shared by the pages and the JSON API: access rules, cases, links, evidence, jobs.

Every function takes an open SQLAlchemy session and the acting user, checks what that user may
do, changes the rows and writes the activity log. HTTP lives elsewhere; errors are
:class:`Denied` (no such case for you: 404, so a case number leaks nothing), :class:`Forbidden`
(you may read but not change it: 403) and :class:`Invalid` (bad input: 422).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from culprit.web import security
from culprit.web.models import (
    EVIDENCE_ROLES,
    PRIORITIES,
    ROLES,
    STATUSES,
    TRANSITIONS,
    Activity,
    AuthSession,
    Blob,
    Case,
    CaseMember,
    Evidence,
    Job,
    UploadLink,
    User,
    utcnow,
)

# Crockford base32 without I, L, O, U: readable over the phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_LINK_SECONDS = 30 * 24 * 3600


class Denied(Exception):
    """Not found, or not visible to this user (both answer 404)."""


class Forbidden(Exception):
    """Visible but not allowed (403)."""


class Invalid(ValueError):
    """Bad input (422)."""


# --- users and sessions -------------------------------------------------------------------------


def add_user(
    db: Session, username: str, password: str, role: str = "engineer", display_name: str = ""
) -> User:
    """Create an account.

    Raises:
        Invalid: bad name, short password, unknown role or the name is taken.
    """
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise Invalid("user name: 1-64 characters, no spaces")
    if len(password) < 8:
        raise Invalid("password: at least 8 characters")
    if role not in ROLES:
        raise Invalid(f"role: one of {', '.join(ROLES)}")
    if db.scalar(select(User).where(User.username == username)) is not None:
        raise Invalid(f"user {username!r} exists")
    u = User(
        username=username,
        password_hash=security.hash_password(password),
        role=role,
        display_name=display_name.strip()[:200] or username,
    )
    db.add(u)
    db.flush()
    return u


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same cost either way)."""
    u = db.scalar(select(User).where(User.username == username.strip()))
    if u is None or not u.active:
        security.burn_time()
        return None
    ok, new_hash = security.verify_password(u.password_hash, password)
    if not ok:
        return None
    if new_hash:
        u.password_hash = new_hash
    return u


def open_session(db: Session, user: User, hours: float, kind: str = "web") -> tuple[str, AuthSession]:
    """Start a login; returns the token (give it to the client once) and the row."""
    token = security.new_token()
    s = AuthSession(
        token_hash=security.token_hash(token),
        user_id=user.id,
        csrf=secrets.token_urlsafe(32),
        kind=kind,
        expires_at=utcnow() + timedelta(hours=hours),
    )
    db.add(s)
    db.flush()
    return token, s


def session_for(db: Session, token: str | None) -> AuthSession | None:
    """The live session of a token, or None (expired sessions are deleted)."""
    if not token or len(token) > 128:
        return None
    s = db.get(AuthSession, security.token_hash(token))
    if s is None:
        return None
    if s.expires_at <= utcnow() or not s.user.active:
        db.delete(s)
        db.flush()
        return None
    return s


def close_session(db: Session, token: str | None) -> None:
    if token:
        s = db.get(AuthSession, security.token_hash(token))
        if s is not None:
            db.delete(s)


# --- access --------------------------------------------------------------------------------------


def _member(db: Session, case: Case, user: User) -> CaseMember | None:
    return db.get(CaseMember, (case.id, user.id))


def can_read(db: Session, case: Case, user: User) -> bool:
    return user.role == "admin" or case.owner_id == user.id or _member(db, case, user) is not None


def can_write(db: Session, case: Case, user: User) -> bool:
    if user.role == "viewer":
        return False
    if user.role == "admin" or case.owner_id == user.id:
        return True
    m = _member(db, case, user)
    return m is not None and m.can_write


def get_case(db: Session, user: User, number: str, write: bool = False) -> Case:
    """The case ``number`` if ``user`` may read it (and change it, with ``write``).

    Raises:
        Denied: no such case, or not visible to the user.
        Forbidden: visible, but ``write`` was asked and the user may only read.
    """
    case = db.scalar(select(Case).where(Case.number == number))
    if case is None or not can_read(db, case, user):
        raise Denied(number)
    if write and not can_write(db, case, user):
        raise Forbidden(f"{user.username} may read but not change {number}")
    return case


def list_cases(db: Session, user: User, include_archived: bool = False) -> Sequence[Case]:
    q = select(Case).order_by(Case.updated_at.desc(), Case.id.desc())
    if user.role != "admin":
        member_ids = select(CaseMember.case_id).where(CaseMember.user_id == user.id)
        q = q.where(or_(Case.owner_id == user.id, Case.id.in_(member_ids)))
    if not include_archived:
        q = q.where(Case.status != "archived")
    return db.scalars(q).all()


# --- cases ---------------------------------------------------------------------------------------


def log(db: Session, case: Case, actor: str, action: str, detail: str = "") -> None:
    db.add(Activity(case_id=case.id, actor=actor[:200], action=action, detail=detail))
    case.updated_at = utcnow()


def new_number() -> str:
    """A case number like ``CAS-06514-B7P2C8``: five digits and six base32 characters, random."""
    digits = f"{secrets.randbelow(100000):05d}"
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"CAS-{digits}-{tail}"


def create_case(db: Session, user: User, title: str, customer: str, priority: str = "P3") -> Case:
    """Open a case owned by ``user`` (engineers and admins only)."""
    if user.role == "viewer":
        raise Forbidden("viewers cannot open cases")
    title, customer = title.strip(), customer.strip()
    if not title or len(title) > 300:
        raise Invalid("title: 1-300 characters")
    if not customer or len(customer) > 200:
        raise Invalid("customer: 1-200 characters")
    if priority not in PRIORITIES:
        raise Invalid(f"priority: one of {', '.join(PRIORITIES)}")
    for _ in range(10):
        number = new_number()
        if db.scalar(select(Case.id).where(Case.number == number)) is None:
            break
    case = Case(
        number=number, title=title, customer=customer, priority=priority, status="new", owner_id=user.id
    )
    db.add(case)
    try:
        db.flush()
    except IntegrityError:  # pragma: no cover - a 1-in-10^12 collision with a concurrent insert
        db.rollback()
        raise
    log(db, case, user.username, "created", f"{priority} · {customer} · {title}")
    return case


def set_status(db: Session, user: User, case: Case, status: str, note: str = "") -> None:
    if status not in STATUSES:
        raise Invalid(f"status: one of {', '.join(STATUSES)}")
    if status == case.status:
        return
    if status not in TRANSITIONS[case.status]:
        allowed = ", ".join(TRANSITIONS[case.status]) or "none (archived)"
        raise Invalid(f"{case.status} → {status} is not allowed (from {case.status}: {allowed})")
    old = case.status
    case.status = status
    log(
        db,
        case,
        user.username,
        "status",
        f"{old} → {status}" + (f": {note.strip()[:500]}" if note.strip() else ""),
    )


def _advance(db: Session, case: Case, actor: str, to: str) -> None:
    """Move the case forward automatically when that is a legal step (never backwards past it)."""
    if to in TRANSITIONS.get(case.status, ()) and STATUSES.index(to) > STATUSES.index(case.status):
        old = case.status
        case.status = to
        log(db, case, actor, "status", f"{old} → {to}")


def add_member(db: Session, user: User, case: Case, username: str, can_write_: bool = False) -> CaseMember:
    other = db.scalar(select(User).where(User.username == username.strip()))
    if other is None:
        raise Invalid(f"no user {username!r}")
    m = db.get(CaseMember, (case.id, other.id))
    if m is None:
        m = CaseMember(case_id=case.id, user_id=other.id, can_write=can_write_ and other.role != "viewer")
        db.add(m)
    else:
        m.can_write = can_write_ and other.role != "viewer"
    log(db, case, user.username, "member", f"{other.username} ({'write' if m.can_write else 'read'})")
    db.flush()
    return m


def members(db: Session, case: Case) -> Sequence[CaseMember]:
    return db.scalars(select(CaseMember).where(CaseMember.case_id == case.id)).all()


def activity(db: Session, case: Case, limit: int = 200) -> Sequence[Activity]:
    return db.scalars(
        select(Activity)
        .where(Activity.case_id == case.id)
        .order_by(Activity.at.desc(), Activity.id.desc())
        .limit(limit)
    ).all()


# --- upload links --------------------------------------------------------------------------------


def issue_link(
    db: Session,
    signer: security.LinkSigner,
    user: User,
    case: Case,
    role: str = "bad",
    seconds: int = 7 * 24 * 3600,
    note: str = "",
) -> tuple[UploadLink, str]:
    """A new upload link for ``case``; returns the row and its token (shown once)."""
    if role not in EVIDENCE_ROLES:
        raise Invalid(f"role: one of {', '.join(EVIDENCE_ROLES)}")
    if not 1 <= seconds <= MAX_LINK_SECONDS:
        raise Invalid(f"expiry: 1 second to {MAX_LINK_SECONDS // 86400} days")
    link = UploadLink(
        case_id=case.id,
        nonce=secrets.token_hex(16),
        role=role,
        note=note.strip()[:300],
        created_by=user.id,
        expires_at=utcnow() + timedelta(seconds=seconds),
    )
    db.add(link)
    db.flush()
    token = signer.make(link.id, link.nonce, link.expires_at)
    log(
        db,
        case,
        user.username,
        "upload-link",
        f"#{link.id} for {role} evidence, expires {link.expires_at:%Y-%m-%d %H:%M} UTC"
        + (f" ({link.note})" if link.note else ""),
    )
    _advance(db, case, user.username, "awaiting-evidence")
    return link, token


def link_for_token(db: Session, signer: security.LinkSigner, token: str) -> tuple[UploadLink, Case]:
    """The live link a token names.

    Raises:
        security.LinkError: tampered/unknown (404), expired or revoked or case closed (410).
    """
    claim = signer.check(token)
    link = db.get(UploadLink, claim.link_id)
    if link is None or not security.same(link.nonce, claim.nonce):
        raise security.LinkError("this upload link is not valid", 404)
    if link.revoked:
        raise security.LinkError("this upload link was withdrawn; ask your engineer for a new one", 410)
    if link.expires_at <= utcnow():
        raise security.LinkError("this upload link has expired; ask your engineer for a new one", 410)
    case = db.get(Case, link.case_id)
    if case is None or case.status in ("closed", "archived"):
        raise security.LinkError("this case no longer takes evidence", 410)
    return link, case


def revoke_link(db: Session, user: User, case: Case, link_id: int) -> None:
    link = db.get(UploadLink, link_id)
    if link is None or link.case_id != case.id:
        raise Denied(str(link_id))
    link.revoked = True
    log(db, case, user.username, "upload-link-revoked", f"#{link.id}")


def links(db: Session, case: Case) -> Sequence[UploadLink]:
    return db.scalars(
        select(UploadLink).where(UploadLink.case_id == case.id).order_by(UploadLink.id.desc())
    ).all()


# --- evidence ------------------------------------------------------------------------------------


def register_evidence(
    db: Session,
    case: Case,
    sha256: str,
    size: int,
    filename: str,
    role: str,
    actor: str,
    link: UploadLink | None = None,
) -> Evidence:
    """Record a stored blob as evidence of ``case`` (the blob is already in the store)."""
    ev = Evidence(
        case_id=case.id,
        sha256=sha256,
        size=size,
        filename=filename,
        role=role,
        link_id=link.id if link else None,
        uploaded_by=actor,
    )
    db.add(ev)
    if link is not None:
        link.uploads += 1
    db.flush()
    log(db, case, actor, "evidence", f"{filename} ({role}, {size:,} bytes, sha256 {sha256})")
    return ev


def ensure_blob(factory: sessionmaker[Session], sha256: str, size: int) -> None:
    """Record a blob of the store in its own transaction (idempotent under concurrent uploads)."""
    with factory() as db:
        if db.get(Blob, sha256) is not None:
            return
        db.add(Blob(sha256=sha256, size=size))
        try:
            db.commit()
        except IntegrityError:  # the same content landed at the same moment from another upload
            db.rollback()


def evidence(db: Session, case: Case) -> Sequence[Evidence]:
    return db.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)).all()


# --- jobs ----------------------------------------------------------------------------------------


def start_job(
    db: Session, user: User, case: Case, lang: str = "en", evidence_ids: list[int] | None = None
) -> Job:
    """Queue an analysis of the case's evidence (all of it unless ``evidence_ids`` names some)."""
    evs = evidence(db, case)
    if evidence_ids is not None:
        wanted = set(evidence_ids)
        evs = [e for e in evs if e.id in wanted]
        if len(evs) != len(wanted):
            raise Invalid("evidence: some ids are not evidence of this case")
    if not any(e.role == "bad" for e in evs):
        raise Invalid("no evidence from the failing machine yet: issue an upload link first")
    if lang not in ("en", "zh"):
        raise Invalid("lang: en or zh")
    job = Job(
        case_id=case.id,
        state="queued",
        progress=0,
        stage="queued",
        lang=lang,
        evidence_ids=json.dumps([e.id for e in evs]),
        created_by=user.username,
    )
    db.add(job)
    db.flush()
    log(db, case, user.username, "analysis", f"job #{job.id} queued over {len(evs)} file(s)")
    _advance(db, case, user.username, "analyzing")
    return job


def get_job(db: Session, case: Case, job_id: int) -> Job:
    job = db.get(Job, job_id)
    if job is None or job.case_id != case.id:
        raise Denied(str(job_id))
    return job


def jobs(db: Session, case: Case) -> Sequence[Job]:
    return db.scalars(select(Job).where(Job.case_id == case.id).order_by(Job.id.desc())).all()


def job_evidence(db: Session, job: Job) -> list[Evidence]:
    ids = json.loads(job.evidence_ids or "[]")
    return list(db.scalars(select(Evidence).where(Evidence.id.in_(ids)).order_by(Evidence.id)).all())


def finish_job(db: Session, job: Job, result: dict | None, error: str | None) -> None:
    case = db.get(Case, job.case_id)
    job.finished_at = datetime.now(UTC)
    if error is not None:
        job.state, job.error, job.stage = "failed", error, "failed"
        if case is not None:
            log(db, case, "workbench", "analysis-failed", f"job #{job.id}: {error}")
        return
    job.state, job.progress, job.stage = "done", 100, "done"
    job.result = json.dumps(result, ensure_ascii=False)
    if case is not None:
        findings = (result or {}).get("findings") or []
        title = findings[0].get("title", "") if findings else "no culprit named"
        log(db, case, "workbench", "analysis-done", f"job #{job.id}: {title}")
        if findings:
            _advance(db, case, "workbench", "root-cause")
