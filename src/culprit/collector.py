"""The Windows collector: a PowerShell script generated from the artifact catalog, and its check.

``generate()`` fills the template ``catalog/collector_template.ps1`` with the catalog's
collection steps (one PowerShell hashtable per artifact) and returns the script text
(ASCII, CRLF line ends: Windows PowerShell 5.1 reads a file without BOM as ANSI). The script
runs on Windows PowerShell 5.1 (and 2.0 on Windows 7) with nothing but Windows' own tools, and
writes a zip with ``manifest.json`` that :mod:`culprit.ingest` reads (``timezone_offset_minutes``,
``locale``).

``lint()`` is a small PowerShell tokenizer: strings (single, double with ``$( )``
subexpressions, here-strings), comments (line and ``<# #>`` block), backtick escapes and
bracket balance; and it rejects syntax that Windows PowerShell 5.1's parser does not accept
(PowerShell 7's ``??``, ``?.``, ``? :`` ternary, ``&&``/``||`` chains, ``-Parallel``;
``using`` after code; ``param()`` not first). It is not a full parser: it is the check that can
run where PowerShell cannot. ``generate()`` refuses to return a script that fails it.

Reference: about_Parsing, about_Quoting_Rules, about_Comments, about_Special_Characters
(Microsoft Learn, PowerShell 5.1 documentation).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from culprit import __version__
from culprit import catalog as _catalog
from culprit.errors import CulpritError

TEMPLATE = "collector_template.ps1"
MARKER = "#@@GENERATED@@"
SCRIPT_NAME = _catalog.COLLECTOR_NAME


class CollectorError(CulpritError):
    """The script could not be generated (a bad catalog or template)."""


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem ``lint()`` found: 1-based line and column, and what is wrong."""

    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, col {self.col}: {self.message}"


# --- generation ---------------------------------------------------------------------------


def ps_quote(text: str) -> str:
    """A PowerShell single-quoted string literal (no expansion; ``'`` doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _ps_array(items: list[str]) -> str:
    return "@(" + ", ".join(items) + ")"


def _step(a: _catalog.Artifact) -> str:
    c = a.collect
    assert c is not None
    regkeys = [f"@{{ Name = {ps_quote(n)}; Key = {ps_quote(k)} }}" for n, k in c.keys]
    fields = [
        ("Id", ps_quote(a.id)),
        ("Method", ps_quote(c.method)),
        ("Per", ps_quote(c.per or "")),
        ("Newest", str(c.newest or 0)),
        ("Paths", _ps_array([ps_quote(p) for p in c.paths])),
        ("Channel", ps_quote(c.channel or "")),
        ("Exe", ps_quote(c.exe or "")),
        ("Arguments", _ps_array([ps_quote(x) for x in c.args])),
        ("RegKeys", _ps_array(regkeys)),
        ("Output", ps_quote(c.output or "")),
        ("BootOutput", ps_quote(c.boot_output or "")),
    ]
    return "    @{ " + "; ".join(f"{k} = {v}" for k, v in fields) + " }"


def catalog_digest() -> str:
    """sha256 of the packaged catalog file (written into the script and its manifest)."""
    data = resources.files(_catalog.__name__).joinpath("artifacts.yaml").read_bytes()
    return hashlib.sha256(data).hexdigest()


def generated_block(cat: _catalog.Catalog | None = None) -> str:
    """The PowerShell data section: version, catalog digest and one hashtable per artifact."""
    cat = cat or _catalog.load()
    steps = ",\n".join(_step(a) for a in cat.artifacts)
    return (
        "# --- generated from culprit's artifact catalog (culprit/catalog/artifacts.yaml); do not edit ---\n"
        f"$CulpritVersion = {ps_quote(__version__)}\n"
        f"$CatalogSha256 = {ps_quote(catalog_digest())}\n"
        "$CulpritCatalog = @(\n"
        f"{steps}\n"
        ")\n"
        "# --- end of generated section ---"
    )


# Script parameters whose defaults ``generate(defaults=...)`` may set.
DEFAULTABLE = ("ServiceKeys", "Inf", "AclPaths")


def _set_defaults(text: str, defaults: Mapping[str, Sequence[str]]) -> str:
    for name, values in defaults.items():
        if name not in DEFAULTABLE:
            raise CollectorError(f"no default can be set for -{name} (only {', '.join(DEFAULTABLE)})")
        vals = [v.strip() for v in values if v.strip()]
        for v in vals:
            if not v.isascii() or any(ord(ch) < 32 or ord(ch) == 127 for ch in v):
                raise CollectorError(f"-{name} value {v!r}: only printable ASCII can go into the script")
        line = f"    [string[]]${name} = @(),"
        if text.count(line) != 1:
            raise CollectorError(f"template has no parameter line {line.strip()!r}")
        text = text.replace(line, f"    [string[]]${name} = {_ps_array([ps_quote(v) for v in vals])},")
    return text


def generate(cat: _catalog.Catalog | None = None, defaults: Mapping[str, Sequence[str]] | None = None) -> str:
    """The collector script for ``cat`` (the packaged catalog by default).

    Args:
        cat: the catalog to generate from.
        defaults: default values baked into the script for ``ServiceKeys``, ``Inf`` and
            ``AclPaths`` (so the customer runs it without switches), e.g.
            ``{"Inf": ["cpu.inf"], "ServiceKeys": ["AmdK8", "AmdPPM"]}``.

    Returns:
        The script text: ASCII, CRLF line ends, ready to save as ``Collect-CulpritBundle.ps1``.

    Raises:
        CollectorError: the template lacks its marker, a default is not printable ASCII, the
            result is not ASCII, or ``lint()`` finds a syntax problem (the issues are listed).
    """
    template = resources.files(_catalog.__name__).joinpath(TEMPLATE).read_text(encoding="utf-8")
    if template.count(MARKER) != 1:
        raise CollectorError(f"template {TEMPLATE} must hold the marker {MARKER} exactly once")
    text = template.replace(MARKER, generated_block(cat))
    text = _set_defaults(text.replace("\r\n", "\n"), defaults or {})
    text = text.replace("@@VERSION@@", __version__).replace(
        "@@CATALOG_SHA@@", "catalog sha256 " + catalog_digest()[:12]
    )
    text = text.replace("\r\n", "\n")
    bad = next((i for i, ch in enumerate(text) if ord(ch) > 126 or (ord(ch) < 32 and ch not in "\n\t")), None)
    if bad is not None:
        line = text.count("\n", 0, bad) + 1
        raise CollectorError(f"the generated script must be ASCII; line {line} has {text[bad]!r}")
    issues = lint(text)
    if issues:
        raise CollectorError(
            "the generated script fails the PowerShell check:\n" + "\n".join(map(str, issues[:20]))
        )
    return text.replace("\n", "\r\n")


# --- lint: a PowerShell 5.1 tokenizer -----------------------------------------------------

_OPEN = {"(": ")", "{": "}", "[": "]"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_WORD_STOP = set(" \t\r\n(){}[];,|&\"'`$")
_DQ = '"\u201c\u201d\u201e'  # PowerShell also takes typographic double quotes
_SQ = "'\u2018\u2019\u201a\u201b"
MAX_NESTING = 100  # "$( "$( ... " )" )" levels followed before giving up (keeps recursion bounded)


@dataclass
class Token:
    """One token: ``kind`` is string, herestring, comment, variable, word, open, close, op or newline."""

    kind: str
    text: str
    line: int
    col: int
    depth: int


class _Lexer:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.stack: list[tuple[str, int, int]] = []
        self.tokens: list[Token] = []
        self.issues: list[Issue] = []
        self.nesting = 0

    # helpers
    def col(self, i: int | None = None) -> int:
        return (self.i if i is None else i) - self.line_start + 1

    def issue(self, message: str, line: int | None = None, col: int | None = None) -> None:
        self.issues.append(Issue(line or self.line, col or self.col(), message))

    def add(self, kind: str, start: int, line: int, col: int) -> None:
        self.tokens.append(Token(kind, self.s[start : self.i], line, col, len(self.stack)))

    def advance_to(self, j: int) -> None:
        """Move to ``j``, counting the line ends passed."""
        while True:
            k = self.s.find("\n", self.i, j)
            if k < 0:
                break
            self.line += 1
            self.line_start = k + 1
            self.i = k + 1
        self.i = j

    def prev(self) -> Token | None:
        for t in reversed(self.tokens):
            if t.kind != "comment":
                return t
        return None

    # the code lexer; returns when a ')' closes the subexpression it was started for
    def code(self, subexpr: bool = False) -> None:
        if subexpr:
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                self.issue(f"string subexpressions nested more than {MAX_NESTING} deep; not checked further")
                self.advance_to(self.n)
                return
        try:
            self._code(subexpr)
        finally:
            if subexpr:
                self.nesting -= 1

    def _code(self, subexpr: bool) -> None:
        base = len(self.stack)
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            line, col, start = self.line, self.col(), self.i
            nxt = s[self.i + 1] if self.i + 1 < self.n else ""
            if c == "\n":
                self.advance_to(self.i + 1)
                self.tokens.append(Token("newline", "\n", line, col, len(self.stack)))
            elif c in " \t\r\f\u00a0":
                self.i += 1
            elif c == "`":
                self.advance_to(min(self.i + 2, self.n) if nxt != "\r" else min(self.i + 3, self.n))
            elif c == "<" and nxt == "#":
                end = s.find("#>", self.i + 2)
                if end < 0:
                    self.issue("block comment <# is never closed", line, col)
                    self.advance_to(self.n)
                else:
                    self.advance_to(end + 2)
                self.add("comment", start, line, col)
            elif c == "#":
                end = s.find("\n", self.i)
                self.advance_to(self.n if end < 0 else end)
                self.add("comment", start, line, col)
            elif c == "@" and nxt and nxt in _DQ + _SQ and self._here_header():
                self.here_string(nxt in _DQ)
                self.add("herestring", start, line, col)
            elif c in _SQ:
                self.single_quoted()
                self.add("string", start, line, col)
            elif c in _DQ:
                self.i += 1
                self.double_quoted(line, col)
                self.add("string", start, line, col)
            elif c in "$@" and nxt == "(":
                self.i += 2
                self.stack.append(("(", line, col))
                self.add("open", start, line, col)
            elif c == "@" and nxt == "{":
                self.i += 2
                self.stack.append(("{", line, col))
                self.add("open", start, line, col)
            elif c == "$" and nxt == "{":
                end = s.find("}", self.i)
                if end < 0:
                    self.issue("${ variable is never closed", line, col)
                    end = self.n - 1
                self.advance_to(end + 1)
                self.add("variable", start, line, col)
            elif c == "$":
                j = self.i + 1
                if j < self.n and s[j] in "$?^_":
                    j += 1
                while j < self.n and (s[j].isalnum() or s[j] in "_:"):
                    j += 1
                self.i = j
                self.add("variable", start, line, col)
                self._after_operand()
            elif c in _OPEN:
                self.i += 1
                self.stack.append((c, line, col))
                self.add("open", start, line, col)
            elif c in _CLOSE:
                if len(self.stack) <= base:
                    if subexpr and c == ")":
                        self.i += 1
                        return
                    self.issue(f"{c!r} closes nothing", line, col)
                    self.i += 1
                    continue
                opener, oline, ocol = self.stack.pop()
                if _OPEN[opener] != c:
                    self.issue(f"{c!r} closes {opener!r} opened at line {oline}, col {ocol}", line, col)
                self.i += 1
                self.add("close", start, line, col)
                self._after_operand()
            elif c in "&|" and nxt == c:
                self.issue(f"'{c}{c}' pipeline chain is PowerShell 7 only", line, col)
                self.i += 2
                self.add("op", start, line, col)
            elif c in ";,|&":
                self.i += 1
                self.add("op", start, line, col)
            elif c == "?":
                self.question(line, col)
            else:
                j = self.i
                while j < self.n and s[j] not in _WORD_STOP:
                    j += 1
                self.i = max(j, self.i + 1)
                self.add("word", start, line, col)
                self.word_checks(self.tokens[-1])
        if subexpr:
            self.issue("$( subexpression is never closed")

    def _after_operand(self) -> None:
        """``?.`` / ``?[`` right after a variable or a closing bracket: PowerShell 7 null-conditional."""
        if self.s.startswith(("?.", "?["), self.i):
            self.issue("null-conditional member access '?.'/'?[' is PowerShell 7 only")
            self.i += 2

    def question(self, line: int, col: int) -> None:
        s, i = self.s, self.i
        nxt = s[i + 1] if i + 1 < self.n else ""
        if nxt == "?":
            self.issue("null-coalescing '??' is PowerShell 7 only", line, col)
            self.i += 3 if s.startswith("??=", i) else 2
            self.add("op", i, line, col)
            return
        before = self.prev()
        command_position = before is None or before.kind == "newline" or before.text in ("|", "{", "(", ";")
        if nxt in " \t\r\n" and not command_position:
            self.issue("ternary '? :' is PowerShell 7 only", line, col)
        self.i += 1
        self.add("word", i, line, col)  # '?' alone after '|' is the Where-Object alias

    def word_checks(self, tok: Token) -> None:
        low = tok.text.lower()
        if low == "-parallel":
            self.issue("ForEach-Object -Parallel is PowerShell 7 only", tok.line, tok.col)
        elif "??" in low:
            self.issue("null-coalescing '??' is PowerShell 7 only", tok.line, tok.col)

    def _here_header(self) -> bool:
        """``@'`` / ``@"`` opens a here-string only when nothing but blanks follows on its line."""
        j = self.i + 2
        while j < self.n and self.s[j] in " \t":
            j += 1
        return j >= self.n or self.s[j] in "\r\n"

    def here_string(self, expandable: bool) -> None:
        line, col = self.line, self.col()
        quote = self.s[self.i + 1]
        closers = _DQ if expandable else _SQ
        eol = self.s.find("\n", self.i)
        self.advance_to(self.n if eol < 0 else eol + 1)
        while self.i < self.n:
            if self.s[self.i] in closers and self.s.startswith("@", self.i + 1):
                self.i += 2
                return
            if expandable:
                self._scan_expandable_line()
            else:
                eol = self.s.find("\n", self.i)
                self.advance_to(self.n if eol < 0 else eol + 1)
        self.issue(
            f"here-string @{quote} is never closed (its closing {quote}@ must start a line)", line, col
        )

    def _scan_expandable_line(self) -> None:
        """One line of an expandable here-string: follow ``$( )`` into code."""
        while self.i < self.n:
            c = self.s[self.i]
            if c == "\n":
                self.advance_to(self.i + 1)
                return
            if c == "`":
                self.advance_to(min(self.i + 2, self.n))
            elif c == "$" and self.s.startswith("(", self.i + 1):
                self.i += 2
                self.code(subexpr=True)
            else:
                self.i += 1

    def single_quoted(self) -> None:
        line, col = self.line, self.col()
        j = self.i + 1
        while True:
            k = next((p for p in range(j, self.n) if self.s[p] in _SQ), -1)
            if k < 0:
                self.issue("string ' is never closed", line, col)
                self.advance_to(self.n)
                return
            if k + 1 < self.n and self.s[k + 1] in _SQ:
                j = k + 2
                continue
            self.advance_to(k + 1)
            return

    def double_quoted(self, line: int, col: int) -> None:
        while self.i < self.n:
            c = self.s[self.i]
            if c == "`":
                self.advance_to(min(self.i + 2, self.n))
            elif c in _DQ:
                if self.i + 1 < self.n and self.s[self.i + 1] in _DQ:
                    self.i += 2
                    continue
                self.i += 1
                return
            elif c == "$" and self.s.startswith("(", self.i + 1):
                self.i += 2
                self.code(subexpr=True)
            elif c == "\n":
                self.advance_to(self.i + 1)
            else:
                self.i += 1
        self.issue('string " is never closed', line, col)


def tokenize(text: str) -> tuple[list[Token], list[Issue]]:
    """Split PowerShell source into tokens; returns them with the lexical issues met."""
    lx = _Lexer(text.replace("\r\n", "\n"))
    lx.code()
    for opener, line, col in lx.stack:
        lx.issue(f"{opener!r} is never closed", line, col)
    return lx.tokens, lx.issues


def _statement_issues(tokens: list[Token]) -> list[Issue]:
    """Checks across tokens: ``using`` only before code, ``param()`` first in the script."""
    issues: list[Issue] = []
    code_seen = False
    in_using = False  # inside a top-level ``using ...`` statement (not code)
    prev: Token | None = None
    sig = [t for t in tokens if t.kind != "comment"]
    for idx, t in enumerate(sig):
        at_start = prev is None or prev.text in ("\n", ";")
        low = t.text.lower()
        if at_start:
            in_using = t.depth == 0 and t.kind == "word" and low == "using"
            if in_using and code_seen:
                issues.append(Issue(t.line, t.col, "'using' statements must come before any other code"))
        is_param = t.depth == 0 and t.kind == "word" and low == "param"
        if is_param and code_seen and idx + 1 < len(sig) and sig[idx + 1].text == "(":
            issues.append(Issue(t.line, t.col, "param() must be the first statement of the script"))
        in_attribute = t.depth > 0 or t.text in ("[", "]")
        if t.kind != "newline" and not in_attribute and not in_using and not is_param:
            code_seen = True
        prev = t
    return issues


def lint(text: str) -> list[Issue]:
    """Check PowerShell source as far as can be done without PowerShell.

    Returns:
        The issues found, in order; an empty list means the script passed.
    """
    tokens, issues = tokenize(text)
    issues = issues + _statement_issues(tokens)
    return sorted(issues, key=lambda x: (x.line, x.col))
