"""Render a case :class:`~culprit.report.document.Document` as one self-contained HTML page.

Jinja2 with autoescape on renders ``templates/doc.html.j2``; the stylesheet
``templates/report.css`` is inlined (also used for the PDF). Everything that came from a log is
escaped; the timeline SVG is the only markup inserted as is, and it was built escaped.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup, escape

from culprit.report.document import Document
from culprit.report.i18n import t


def wbr(text: object) -> Markup:
    """Escaped text with a line-break opportunity (``<wbr>``) after each ``\\`` and ``/``, so long
    Windows paths wrap at a separator in narrow table cells; copying the text adds nothing."""
    s = str(escape(str(text)))
    return Markup(s.replace("\\", "\\<wbr>").replace("/", "/<wbr>"))


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("culprit.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["wbr"] = wbr
    return env


@cache
def stylesheet() -> str:
    """The report stylesheet (screen and print)."""
    return resources.files("culprit.report").joinpath("templates", "report.css").read_text("utf-8")


def render(doc: Document) -> str:
    """The document as an HTML page (UTF-8 text)."""
    lang = doc.lang
    footer = (
        "由 culprit 根据日志自动生成，请核对后发送。"
        if lang == "zh"
        else "Written by culprit from the logs; review before sending."
    )
    out = (
        _env()
        .get_template("doc.html.j2")
        .render(
            doc=doc,
            css=stylesheet().strip(),
            subject_label="主题：" if lang == "zh" else "Subject: ",
            where_label=t(lang, "ch.where"),
            footer=footer,
        )
    )
    return out.rstrip("\n") + "\n"
