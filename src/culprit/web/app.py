"""The FastAPI application factory of the workbench.

``create_app(settings)`` prepares the data dir, migrates the database (Alembic), opens the
evidence store, starts the analysis worker pool and mounts the pages, the customer upload
pages, the JSON API (``/api/v1``, OpenAPI at ``/api/openapi.json``) and the vendored static
assets. Every response carries a strict Content-Security-Policy (scripts and styles from this
origin only) and ``Referrer-Policy: no-referrer`` so upload-link tokens never leak in a Referer.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from culprit import __version__
from culprit.web import db as dbmod
from culprit.web.config import Settings
from culprit.web.deps import CsrfFailed, LoginRequired
from culprit.web.jobs import JobRunner
from culprit.web.security import LinkError, LinkSigner
from culprit.web.services import Denied, Forbidden, Invalid
from culprit.web.storage import Store, UploadError
from culprit.web.throttle import LoginThrottle

HERE = Path(__file__).resolve().parent
log = logging.getLogger("culprit.web")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def templates() -> Environment:
    """The Jinja2 environment of the pages (autoescape always on)."""
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["bytes"] = human_bytes
    env.filters["when"] = lambda t: t.strftime("%Y-%m-%d %H:%M UTC") if t else ""
    return env


def human_bytes(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    env: Environment = request.app.state.templates
    ctx.setdefault("who", None)
    ctx["version"] = __version__
    return HTMLResponse(env.get_template(name).render(request=request, **ctx), status_code=status)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", "text/html"
    )


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_html(request):
        return render(request, "error.html.j2", status=status, status_code=status, message=message)
    return JSONResponse({"detail": message}, status_code=status)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application: migrate, open the store, start the workers.

    Args:
        settings: where things live; :meth:`Settings.from_env` when None.
    """
    settings = settings or Settings.from_env()
    settings.prepare()
    engine = dbmod.make_engine(settings.db_url)
    dbmod.migrate(engine)
    factory = dbmod.make_sessionmaker(engine)
    store = Store(settings.store_dir)
    store.sweep_temp()
    runner = JobRunner(factory, store, settings.work_dir, settings.workers)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        n = runner.resume()
        if n:
            log.info("queued %d analysis job(s) again", n)
        try:
            yield
        finally:
            runner.shutdown(wait=True)
            engine.dispose()

    app = FastAPI(
        title="culprit workbench",
        version=__version__,
        description="Cases, evidence upload links, analysis jobs and results for Windows install failures.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.db = factory
    app.state.store = store
    app.state.runner = runner
    app.state.signer = LinkSigner(settings.secret_key or "")
    app.state.templates = templates()
    app.state.throttle = LoginThrottle(settings.login_failures, settings.login_window_s)

    @app.middleware("http")
    async def headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.url.path.startswith("/u/") or request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        return _error(request, 403, "missing or wrong CSRF token: reload the page and try again")

    @app.exception_handler(Denied)
    async def _denied(request: Request, exc: Denied) -> Response:
        return _error(request, 404, "no such case, or it is not shared with you")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return _error(request, 403, str(exc))

    @app.exception_handler(Invalid)
    async def _invalid(request: Request, exc: Invalid) -> Response:
        return _error(request, 422, str(exc))

    @app.exception_handler(LinkError)
    async def _link(request: Request, exc: LinkError) -> Response:
        return _error(request, exc.status, str(exc))

    @app.exception_handler(UploadError)
    async def _upload(request: Request, exc: UploadError) -> Response:
        return _error(request, exc.status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request) and exc.status_code >= 400:
            return _error(request, exc.status_code, str(exc.detail))
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if _wants_html(request):
            fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) for e in exc.errors())
            return _error(request, 422, f"missing or invalid form fields: {fields}")
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    from culprit.web import routes_api, routes_pages, routes_upload

    app.include_router(routes_pages.router)
    app.include_router(routes_upload.router)
    app.include_router(routes_api.router)
    return app
