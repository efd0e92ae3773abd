"""Customer evidence upload through a signed, expiring link: ``/u/{token}`` (page and form post)
and ``/api/v1/uploads/{token}`` (raw ``PUT`` body or the same multipart form, JSON answers).

The link is the only credential: no account, no cookie. The body is streamed into temp files
(see :mod:`culprit.web.storage`); archives are opened with :func:`culprit.ingest.open_bundle`
before anything is kept, so a zip-slip, a link, a bomb or a damaged archive is refused whole
(``HostileArchiveError`` → 422) and leaves nothing behind. Only after every file passed are the
blobs moved into the store and the evidence rows written, in one transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.requests import ClientDisconnect

from culprit.errors import InputError
from culprit.ingest import ZIP_MAGICS, cab, open_bundle
from culprit.web import security, services
from culprit.web.app import render
from culprit.web.models import Case, Evidence, UploadLink
from culprit.web.storage import MultipartReceiver, TempBlob, UploadError

router = APIRouter()


def _link(request: Request, token: str) -> tuple[int, int, str, str, str]:
    """(link id, case id, role, case number, customer) of a live link, or LinkError."""
    with request.app.state.db() as db:
        link, case = services.link_for_token(db, request.app.state.signer, token)
        return link.id, case.id, link.role, case.number, case.customer


def _check_archive(blob: TempBlob) -> None:
    """Open archives the way analysis will, so a hostile or broken one is refused now."""
    with blob.path.open("rb") as f:
        head = f.read(8)
    if not (head.startswith(ZIP_MAGICS) or cab.is_cab(head)):
        return
    try:
        bundle = open_bundle(blob.path, name=blob.filename)
    except InputError as e:  # HostileArchiveError is an InputError
        raise UploadError(f"{blob.filename} refused: {e}", 422) from None
    bundle.close()


def _keep(request: Request, token: str, blobs: list[TempBlob], actor: str) -> list[dict[str, Any]]:
    """Validate, store and register every received file, or none of them."""
    for b in blobs:
        b.finish()
    for b in blobs:
        _check_archive(b)
    stored = [b.commit() for b in blobs]
    for s in stored:
        services.ensure_blob(request.app.state.db, s.sha256, s.size)
    out: list[dict[str, Any]] = []
    with request.app.state.db() as db:
        link, case = services.link_for_token(db, request.app.state.signer, token)  # still live?
        for b, s in zip(blobs, stored, strict=True):
            ev = services.register_evidence(db, case, s.sha256, s.size, b.filename, link.role, actor, link)
            out.append(_ev_json(ev))
        db.commit()
    return out


def _ev_json(ev: Evidence) -> dict[str, Any]:
    return {
        "id": ev.id,
        "filename": ev.filename,
        "size": ev.size,
        "sha256": ev.sha256,
        "role": ev.role,
        "uploaded_at": ev.uploaded_at.isoformat(),
    }


async def _receive_multipart(request: Request, token: str, link_id: int) -> list[dict[str, Any]]:
    settings = request.app.state.settings
    rx = MultipartReceiver(
        request.headers.get("content-type", ""), request.app.state.store, settings.max_upload_bytes
    )
    try:
        try:
            async for chunk in request.stream():
                rx.feed(chunk)
            rx.close()
        except ClientDisconnect:
            raise UploadError("the upload was cut off", 400) from None
        if not security.same(rx.fields.get("csrf_token"), request.app.state.signer.form_token(token)):
            raise UploadError("this upload form is stale or forged: reload the upload page", 403)
        if not rx.files:
            raise UploadError("no file in the upload", 400)
        return await run_in_threadpool(_keep, request, token, rx.files, f"customer via link #{link_id}")
    finally:
        rx.abort()  # no-op for committed files


async def _receive_raw(request: Request, token: str, link_id: int, filename: str) -> list[dict[str, Any]]:
    settings = request.app.state.settings
    blob = request.app.state.store.temp(filename, settings.max_upload_bytes)
    try:
        try:
            async for chunk in request.stream():
                blob.write(chunk)
        except ClientDisconnect:
            raise UploadError("the upload was cut off", 400) from None
        if blob.size == 0:
            raise UploadError("empty upload", 400)
        return await run_in_threadpool(_keep, request, token, [blob], f"customer via link #{link_id}")
    finally:
        blob.abort()


def _page_data(request: Request, token: str) -> dict[str, Any]:
    with request.app.state.db() as db:
        link, case = services.link_for_token(db, request.app.state.signer, token)
        evs = db.query(Evidence).filter(Evidence.link_id == link.id).order_by(Evidence.id).all()
        return {"link": _link_view(link), "case": _case_view(case), "files": [_ev_json(e) for e in evs]}


def _link_view(link: UploadLink) -> dict[str, Any]:
    return {"id": link.id, "role": link.role, "expires_at": link.expires_at, "note": link.note}


def _case_view(case: Case) -> dict[str, Any]:
    return {"number": case.number, "customer": case.customer}


@router.get("/u/{token}", include_in_schema=False)
async def upload_page(request: Request, token: str, ok: int = 0) -> Response:
    data = await run_in_threadpool(_page_data, request, token)
    return render(
        request,
        "upload.html.j2",
        token=token,
        form_token=request.app.state.signer.form_token(token),
        ok=ok,
        **data,
    )


@router.post("/u/{token}", include_in_schema=False)
async def upload_form(request: Request, token: str) -> Response:
    link_id, *_ = await run_in_threadpool(_link, request, token)
    files = await _receive_multipart(request, token, link_id)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"files": files})
    return RedirectResponse(f"/u/{token}?ok={len(files)}", status_code=303)


@router.post("/api/v1/uploads/{token}", tags=["uploads"], summary="Upload evidence files (multipart form)")
async def api_upload_form(request: Request, token: str) -> dict[str, Any]:
    """Multipart form with ``csrf_token`` (the upload page's form token) and one or more files."""
    link_id, *_ = await run_in_threadpool(_link, request, token)
    return {"files": await _receive_multipart(request, token, link_id)}


@router.put("/api/v1/uploads/{token}", tags=["uploads"], summary="Upload one evidence file (raw body)")
async def api_upload_raw(
    request: Request, token: str, filename: Annotated[str, Query(max_length=255)] = "evidence.zip"
) -> dict[str, Any]:
    """Stream the file as the request body; ``filename`` names it. Answers its size and sha256."""
    link_id, *_ = await run_in_threadpool(_link, request, token)
    return {"files": await _receive_raw(request, token, link_id, filename)}
