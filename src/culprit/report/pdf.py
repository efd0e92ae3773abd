"""Render a case document as PDF: the HTML rendering laid out by WeasyPrint.

WeasyPrint (BSD) lays out the same HTML and CSS as the html renderer (``@page`` rules for A4,
page numbers) and draws the inline timeline SVG natively, so the PDF and the HTML never differ in
content. It needs Pango from the system (Debian ``libpango-1.0-0``; see
``scripts/system-packages.txt``) and a CJK font for Chinese (Debian ``fonts-noto-cjk``), found
through fontconfig. Install with ``pip install culprit[pdf]``. Why WeasyPrint and not reportlab or
fpdf2: ``docs/decisions.md``.
"""

from __future__ import annotations

import logging

from culprit.errors import CulpritError
from culprit.report import html
from culprit.report.document import Document


def available() -> str | None:
    """None when PDF output works here, else the reason it does not (for messages and test skips)."""
    try:
        import weasyprint  # noqa: F401
    except ImportError:
        return "PDF output needs WeasyPrint: pip install 'culprit[pdf]'"
    except OSError as e:  # Pango / GObject missing
        return f"PDF output needs Pango (Debian libpango-1.0-0): {e}"
    return None


def render(doc: Document) -> bytes:
    """The document as PDF bytes.

    Raises:
        CulpritError: WeasyPrint or its system libraries are missing.
    """
    why = available()
    if why:
        raise CulpritError(why)
    import weasyprint

    # WeasyPrint logs every unsupported CSS property at WARNING; the report is ours, keep it quiet
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    page = html.render(doc)
    return weasyprint.HTML(string=page, base_url=None).write_pdf()
