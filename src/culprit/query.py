"""A small filter language over events, as in ``inspect --where`` and Procmon's filter.

Grammar (keywords case-insensitive)::

    expr    := term ("or" term)*
    term    := factor ("and" factor)*
    factor  := "not" factor | "(" expr ")" | field op value | field "in" "(" value ("," value)* ")"
    op      := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "like" | "not like" | "contains"
    value   := 'single-quoted' | "double-quoted" | number (decimal or 0x hex)

Fields are dotted paths read with :meth:`culprit.model.Event.get` (``fields.path``,
``process.name``, ``code``); a bare name is looked up in ``fields`` first. String comparison
is case-insensitive (Windows paths and names are); ``like`` takes ``%`` and ``_``.

``parse_where()`` returns the syntax tree so a columnar reader (the PML reader) can evaluate
the same expression over whole columns; ``compile_where()`` returns an event predicate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datetime import UTC, datetime

from culprit.errors import UsageError
from culprit.model import Event


@dataclass(frozen=True, slots=True)
class Cmp:
    field: str
    op: str  # = != < <= > >= like notlike contains in
    value: Any  # str | int | float | tuple


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not:
    inner: Node


Node = Cmp | And | Or | Not

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<num>-?0[xX][0-9a-fA-F]+|-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,)
      | (?P<word>[A-Za-z_][\w.]*)
    )""",
    re.X,
)


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UsageError(f"--where: cannot read {text[pos:pos + 20]!r}")
        pos = m.end()
        if m.group("str") is not None:
            s = m.group("str")
            q = s[0]
            out.append(("val", s[1:-1].replace(q + q, q)))
        elif m.group("num") is not None:
            n = m.group("num")
            out.append(("val", int(n, 16) if "x" in n.lower() else (float(n) if "." in n else int(n))))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            out.append(("word", m.group("word")))
    return out


class _Reader:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def kw(self, word: str) -> bool:
        t = self.peek()
        if t and t[0] == "word" and t[1].lower() == word:
            self.i += 1
            return True
        return False

    def take(self, kind: str, value: str | None = None) -> Any:
        t = self.peek()
        if not t or t[0] != kind or (value is not None and t[1] != value):
            want = value or kind
            raise UsageError(f"--where: expected {want} at {self._where()}")
        self.i += 1
        return t[1]

    def _where(self) -> str:
        t = self.peek()
        return "the end" if t is None else repr(t[1])

    def expr(self) -> Node:
        node = self.term()
        while self.kw("or"):
            node = Or(node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.kw("and"):
            node = And(node, self.factor())
        return node

    def factor(self) -> Node:
        if self.kw("not"):
            return Not(self.factor())
        t = self.peek()
        if t == ("op", "("):
            self.i += 1
            node = self.expr()
            self.take("op", ")")
            return node
        fld = self.take("word")
        if self.kw("like"):
            return Cmp(fld, "like", self.value())
        if self.kw("contains"):
            return Cmp(fld, "contains", self.value())
        if self.kw("in"):
            self.take("op", "(")
            vals = [self.value()]
            while self.peek() == ("op", ","):
                self.i += 1
                vals.append(self.value())
            self.take("op", ")")
            return Cmp(fld, "in", tuple(vals))
        if self.kw("not"):
            if self.kw("like"):
                return Cmp(fld, "notlike", self.value())
            raise UsageError(f"--where: expected 'like' after 'not' at {self._where()}")
        op = self.take("op")
        if op not in ("=", "!=", "<>", "<", "<=", ">", ">="):
            raise UsageError(f"--where: {op!r} is not a comparison")
        return Cmp(fld, "!=" if op == "<>" else op, self.value())

    def value(self) -> Any:
        return self.take("val")


def parse_where(text: str) -> Node:
    """Parse a filter expression (UsageError with the position on a syntax error)."""
    r = _Reader(text)
    if not r.toks:
        raise UsageError("--where: empty expression")
    node = r.expr()
    if r.peek() is not None:
        raise UsageError(f"--where: unexpected {r.peek()[1]!r}")  # type: ignore[index]
    return node


def like_regex(pattern: str) -> re.Pattern[str]:
    """SQL LIKE (``%``, ``_``) as a case-insensitive regex."""
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(out), re.I | re.S)


def _norm(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) else v


def _as_time(v: Any) -> datetime | None:
    """An ISO 8601 text (``2024-09-03T02:30:41Z``, ``2024-09-03 02:30:41``) as an aware UTC datetime."""
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if not isinstance(v, str):
        return None
    try:
        t = datetime.fromisoformat(v.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _compile(node: Node) -> Callable[[Event], bool]:
    if isinstance(node, And):
        a, b = _compile(node.left), _compile(node.right)
        return lambda e: a(e) and b(e)
    if isinstance(node, Or):
        a, b = _compile(node.left), _compile(node.right)
        return lambda e: a(e) or b(e)
    if isinstance(node, Not):
        a = _compile(node.inner)
        return lambda e: not a(e)
    fld, op, val = node.field, node.op, node.value
    if op in ("like", "notlike"):
        rx = like_regex(str(val))
        want = op == "like"
        return lambda e: (rx.fullmatch(str(e.get(fld, ""))) is not None) == want
    if op == "contains":
        needle = str(val).casefold()
        return lambda e: needle in str(e.get(fld, "")).casefold()
    if op == "in":
        vals = {_norm(v) for v in val}
        return lambda e: _norm(e.get(fld)) in vals
    nv = _norm(val)

    want_time = _as_time(val) if isinstance(val, str) else None

    def cmp(e: Event) -> bool:
        raw = e.get(fld)
        if isinstance(raw, datetime) and want_time is not None:  # times compare as times, not as text
            got_t = raw if raw.tzinfo else raw.replace(tzinfo=UTC)
            return {"=": got_t == want_time, "!=": got_t != want_time, "<": got_t < want_time,
                    "<=": got_t <= want_time, ">": got_t > want_time, ">=": got_t >= want_time}[op]
        got = _norm(raw)
        if got is None:
            return op == "!="
        if isinstance(nv, (int, float)) and isinstance(got, str):
            try:
                got = int(got, 0)
            except ValueError:
                return op == "!="
        elif isinstance(nv, str) and not isinstance(got, str):
            got = str(got).casefold()
        try:
            return {
                "=": got == nv, "!=": got != nv, "<": got < nv, "<=": got <= nv, ">": got > nv, ">=": got >= nv,
            }[op]
        except TypeError:
            return False

    return cmp


def compile_where(text: str) -> Callable[[Event], bool]:
    """Compile a filter expression into a predicate over events."""
    return _compile(parse_where(text))
