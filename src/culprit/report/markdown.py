"""Render a case :class:`~culprit.report.document.Document` as Markdown (CommonMark + GFM tables).

Log text is made inert: plain text is backslash-escaped where a character could start markup
(``<``, ``*``, ``[``, backticks...), code spans get a backtick fence longer than any run inside
them, and ``|`` is escaped inside table cells. A ``<script>`` in a log line stays text in every
Markdown viewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import jinja2

from culprit.report.document import (
    Block,
    Bullets,
    Chain,
    Code,
    CodeBlock,
    Document,
    Figure,
    Inline,
    Line,
    Link,
    Para,
    Table,
)
from culprit.report.i18n import t

_PUNCT = re.compile(r"""([`*<>|&~#])""")
# "]" that would close a link or a reference definition: "](", "][", "]:"
_LINK = re.compile(r"\](?=[(\[:])")
# a backslash that CommonMark would read as an escape: before ASCII punctuation
_BACKSLASH = re.compile(r"""\\(?=[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
# "_" that can open/close emphasis: not between two alphanumerics
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def md_text(s: object) -> str:
    """Plain text for Markdown: one line, markup characters backslash-escaped."""
    text = " ".join(str(s).splitlines())
    text = _BACKSLASH.sub(r"\\\\", text)
    text = _PUNCT.sub(r"\\\1", text)
    text = _LINK.sub(r"\\]", text)
    return _UNDERSCORE.sub(r"\\_", text)


def md_code(s: object) -> str:
    """A code span that holds any text: the fence is longer than the longest backtick run inside."""
    text = " ".join(str(s).splitlines())
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_pipe(s: str) -> str:
    """Escape ``|`` for a GFM table cell (needed even inside code spans)."""
    return re.sub(r"(?<!\\)\|", r"\\|", s)


def md_link(url: str) -> str:
    """An autolink ``<url>`` when the URL has nothing that could end it early, else a code span."""
    if re.fullmatch(r"https?://[^\s<>`\\]+", url):
        return f"<{url}>"
    return md_code(url)


def md_inline(parts: Iterable[Inline]) -> str:
    """Text, code spans and links as Markdown."""
    out = []
    for p in parts:
        if isinstance(p, Code):
            out.append(md_code(p.text))
        elif isinstance(p, Link):
            out.append(md_link(p.url))
        else:
            out.append(md_text(p))
    return "".join(out)


def md_cell(lines: Iterable[Line]) -> str:
    """A table cell: its lines joined with ``<br>``, ``|`` escaped."""
    return "<br>".join(md_pipe(md_inline(x if isinstance(x, tuple) else (x,))) for x in lines)


def md_fence(s: str) -> str:
    longest = max((len(m) for m in re.findall(r"^`{3,}", s, re.M)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}\n{s.rstrip()}\n{fence}"


def md_table(header: Iterable[str], rows: Iterable[Iterable[Iterable[Line]]]) -> str:
    """A GFM table; several parts in one cell are separated by ``<br>``."""
    head = list(header)
    lines = ["| " + " | ".join(md_pipe(md_text(h)) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def md_block(b: Block) -> str:
    """One block of a document as Markdown."""
    if isinstance(b, Para):
        return md_inline(b.parts)
    if isinstance(b, Bullets):
        return "\n".join(
            f"{f'{i}.' if b.ordered else '-'} {md_inline(item)}" for i, item in enumerate(b.items, 1)
        )
    if isinstance(b, Table):
        return md_table(b.header, b.rows)
    if isinstance(b, Chain):
        out = []
        for st in b.steps:
            out.append(f"{st.n}. {md_text(st.summary)}")
            out.append(f"   - {md_code(st.where)}")
            if st.excerpt:
                out.append(f"   - {md_code(st.excerpt)}")
        return "\n".join(out)
    if isinstance(b, CodeBlock):
        return md_fence(b.text)
    if isinstance(b, Figure):
        return f"*{md_text(b.note)}*" if b.note else ""
    raise TypeError(f"not a document block: {type(b).__name__}")


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("culprit.report", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(md_text=md_text, md_block=md_block)
    return env


def render(doc: Document) -> str:
    """The document as Markdown text (ends with one newline)."""
    lang = doc.lang
    out = (
        _env()
        .get_template("doc.md.j2")
        .render(
            doc=doc,
            subject_label="主题：" if lang == "zh" else "Subject: ",
            meta_table=Table(
                (t(lang, "c.item"), t(lang, "c.value")), tuple(((k,), (v,)) for k, v in doc.meta)
            ),
        )
    )
    out = "\n".join(line.rstrip() for line in out.splitlines())
    out = re.sub(r"\n{3,}", "\n\n", out).strip("\n")
    return out + "\n"
