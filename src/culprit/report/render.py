"""One entry point for case documents: analysis JSON + format + language + template → output.

``culprit analyze --format md|html|pdf`` and ``culprit report`` both call :func:`render`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from culprit.errors import InputError, UsageError
from culprit.model import SCHEMA
from culprit.report import email, summary
from culprit.report.document import Document

FORMATS = ("md", "html", "pdf")
TEMPLATES = ("summary", "scope", "request")


def document(
    d: Mapping[str, Any],
    lang: str = "en",
    template: str = "summary",
    case: str | None = None,
    upload_link: str | None = None,
) -> Document:
    """Build the document for one template (``summary``, ``scope`` or ``request``)."""
    if lang not in ("en", "zh"):
        raise UsageError(f"unknown language {lang!r} (use en or zh)")
    if template == "summary":
        return summary.build(d, lang, case)
    if template == "scope":
        return email.scope(d, lang, case)
    if template == "request":
        return email.request(d, lang, case, upload_link)
    raise UsageError(f"unknown template {template!r} (use {', '.join(TEMPLATES)})")


def render(
    d: Mapping[str, Any],
    fmt: str,
    lang: str = "en",
    template: str = "summary",
    case: str | None = None,
    upload_link: str | None = None,
) -> str | bytes:
    """Render an analysis (its JSON form) as a case document.

    Args:
        d: ``Analysis.to_dict()`` or a loaded ``culprit analyze --format json`` file.
        fmt: ``md``, ``html`` or ``pdf``.
        lang: ``en`` or ``zh``.
        template: ``summary`` (case summary), ``scope`` or ``request`` (email drafts).
        case: the case number (``CAS-...``).
        upload_link: the case's upload link for the request email.

    Returns:
        Text for md and html, bytes for pdf.
    """
    check(d)
    doc = document(d, lang, template, case, upload_link)
    if fmt == "md":
        from culprit.report import markdown

        return markdown.render(doc)
    if fmt == "html":
        from culprit.report import html

        return html.render(doc)
    if fmt == "pdf":
        from culprit.report import pdf

        return pdf.render(doc)
    raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")


def check(d: Any) -> None:
    """Refuse what is not an analysis of a schema we read, with a clear message.

    Raises:
        InputError: not a JSON object, another schema, or parts of the wrong type.
    """
    if not isinstance(d, Mapping):
        raise InputError("not a culprit analysis: the JSON is not an object")
    schema = d.get("schema")
    if schema != SCHEMA:
        raise InputError(f"not a culprit analysis of schema {SCHEMA} (schema is {schema!r})")
    for key in ("failures", "findings", "missing", "warnings"):
        v = d.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, Mapping) for x in v):
            raise InputError(f"analysis JSON: {key!r} must be a list of objects")
    if not isinstance(d.get("bundle", {}), Mapping):
        raise InputError("analysis JSON: 'bundle' must be an object")
    tz = d.get("time_zone")
    if tz is not None and (not isinstance(tz, Mapping) or not isinstance(tz.get("utc_offset_minutes", 0), (int, type(None)))
                           or isinstance(tz.get("utc_offset_minutes"), bool)):
        raise InputError("analysis JSON: 'time_zone' must be an object with a whole-number 'utc_offset_minutes'")
    for f in d.get("findings", []):
        if not isinstance(f.get("chain", []), list) or not all(
            isinstance(s, Mapping) for s in f.get("chain", [])
        ):
            raise InputError("analysis JSON: a finding's 'chain' must be a list of objects")
        if f.get("culprit") is not None and not isinstance(f["culprit"], Mapping):
            raise InputError("analysis JSON: a finding's 'culprit' must be an object")
        rem = f.get("remediation", {})
        if not isinstance(rem, Mapping) or not isinstance(rem.get("allow", []), list):
            raise InputError(
                "analysis JSON: a finding's 'remediation' must be an object with an 'allow' list"
            )
        if not all(isinstance(a, Mapping) for a in rem.get("allow", [])):
            raise InputError("analysis JSON: allow-list entries must be objects")
