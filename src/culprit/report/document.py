"""A small document model the case summary and the emails are built in, and md/html render.

Builders (:mod:`culprit.report.summary`, :mod:`culprit.report.email`) decide *what* is said in
which language; the templates decide *how* it looks. Every string in a document is plain text:
renderers escape it for their format (HTML escaping with Jinja2 autoescape, Markdown escaping with
:func:`culprit.report.markdown.md_text`), so text that came from a log can never become markup.
:class:`Figure` is the only raw markup, an SVG that :mod:`culprit.report.svg` built with every
text node escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Code:
    """An inline code span (a path, a key, a command)."""

    text: str
    kind: str = "code"


@dataclass(frozen=True, slots=True)
class Link:
    """A web link (only http(s) links checked by the builder reach a document)."""

    url: str
    kind: str = "link"


Inline = str | Code | Link


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph of text and code spans."""

    parts: tuple[Inline, ...]
    kind: str = "para"


@dataclass(frozen=True, slots=True)
class Bullets:
    """A list; each item is a tuple of inline parts."""

    items: tuple[tuple[Inline, ...], ...]
    ordered: bool = False
    kind: str = "bullets"


Line = Inline | tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A table; every cell is a tuple of lines, a line being one inline part or a tuple of them."""

    header: tuple[str, ...]
    rows: tuple[tuple[tuple[Line, ...], ...], ...]
    kind: str = "table"


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One numbered step of a causal chain with where its evidence is and a short excerpt."""

    n: int
    summary: str
    where: str
    excerpt: str = ""
    kind: str = "step"


@dataclass(frozen=True, slots=True)
class Chain:
    steps: tuple[ChainStep, ...]
    kind: str = "chain"


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """Preformatted text (commands to run)."""

    text: str
    kind: str = "codeblock"


@dataclass(frozen=True, slots=True)
class Figure:
    """A picture: ``svg`` is complete, already-escaped SVG markup; Markdown shows ``note`` instead."""

    svg: str
    caption: str
    note: str = ""
    kind: str = "figure"


Block = Para | Bullets | Table | Chain | CodeBlock | Figure


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    blocks: tuple[Block, ...] = ()
    level: int = 2


@dataclass(frozen=True, slots=True)
class Document:
    """A whole case document.

    Attributes:
        lang: ``en`` or ``zh``.
        title: the document title (for an email, the subject line).
        sections: the body.
        meta: label/value pairs shown under the title.
        email: True for an email draft (rendered with a ``Subject:`` line).
    """

    lang: str
    title: str
    sections: tuple[Section, ...]
    meta: tuple[tuple[str, str], ...] = ()
    email: bool = False
    greeting: str = ""
    closing: tuple[str, ...] = field(default_factory=tuple)


def tidy(doc: Document) -> Document:
    """For a Chinese document, fix the spacing of the sentences (not of code spans or excerpts)."""
    if doc.lang != "zh":
        return doc
    from dataclasses import replace

    from culprit.report.i18n import zh_tidy

    def parts(ps: tuple[Inline, ...]) -> tuple[Inline, ...]:
        return tuple(zh_tidy(p) if isinstance(p, str) else p for p in ps)

    def block(b: Block) -> Block:
        if isinstance(b, Para):
            return Para(parts(b.parts))
        if isinstance(b, Bullets):
            return Bullets(tuple(parts(i) for i in b.items), b.ordered)
        if isinstance(b, Table):
            return Table(
                b.header,
                tuple(
                    tuple(tuple(parts(x) if isinstance(x, tuple) else parts((x,))[0] for x in c) for c in row)
                    for row in b.rows
                ),
            )
        if isinstance(b, Chain):
            return Chain(tuple(replace(s, summary=zh_tidy(s.summary)) for s in b.steps))
        return b

    sections = tuple(replace(s, blocks=tuple(block(b) for b in s.blocks)) for s in doc.sections)
    return replace(
        doc,
        title=zh_tidy(doc.title),
        sections=sections,
        greeting=zh_tidy(doc.greeting),
        closing=tuple(zh_tidy(x) for x in doc.closing),
    )
