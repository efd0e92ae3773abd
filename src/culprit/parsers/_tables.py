"""Helpers shared by the parsers of Windows console tool outputs (fltmc, driverquery, tasklist...).

Console tables are laid out in screen columns: a header row over a rule of dashes or equal
signs (``-----  ----`` / ``==== ====``) whose runs give each column's span. On zh-CN Windows the
text is in the OEM code page (CP936) where a CJK character takes two columns, so spans are
measured in display width, not in characters. Headers and messages are localized: the maps
here turn English and zh-CN header words into canonical column keys, and console error
messages (``ERROR: Access is denied.`` / ``错误: 拒绝访问。``) into Win32 error codes.

References: formats.md §9; Microsoft Learn command references for fltmc, driverquery,
tasklist, sc, reg and icacls (facts only).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from culprit.parsers.base import ParseContext, Source

MAX_FIELD = 4000  # characters kept of one field / one origin text

# "------------------------------  -------------  ------------  -----"
# "========================= ======== ============================"
_RULE = re.compile(r"^\s*[-=]{2,}(?:\s+[-=]{2,})*\s*$")
_RUN = re.compile(r"[-=]+")


def char_width(ch: str) -> int:
    """Screen columns one character takes in a console (2 for CJK wide/full-width)."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def is_rule(line: str) -> bool:
    """True for a dashed/equals rule row under a table header."""
    return bool(_RULE.match(line))


def rule_spans(line: str) -> list[tuple[int, int]]:
    """Column spans ``(start, end)`` in screen columns, from the runs of a rule row."""
    return [(m.start(), m.end()) for m in _RUN.finditer(line)]


def to_columns(line: str) -> list[int]:
    """The screen column where each character of ``line`` starts."""
    cols = []
    c = 0
    for ch in line:
        cols.append(c)
        c += char_width(ch)
    return cols


def cut(line: str, spans: Sequence[tuple[int, int]], stretch_last: bool = True) -> list[str]:
    """Cut a table row into cells by screen-column spans; cells are stripped.

    Text between two spans is given to the span on its left (right-aligned numbers may
    start before their rule). With ``stretch_last`` the last cell runs to the end of line.
    """
    if not spans:
        return []
    starts = [s for s, _ in spans]
    if line.isascii():  # one column a character: plain slices
        ends = [*starts[1:], None if stretch_last else spans[-1][1]]
        return [line[a:b].strip() for a, b in zip(starts, ends, strict=True)]
    cells = [""] * len(spans)
    col = 0
    idx = 0
    parts: list[list[str]] = [[] for _ in spans]
    for ch in line:
        while idx + 1 < len(starts) and col >= starts[idx + 1]:
            idx += 1
        if idx == len(spans) - 1 and not stretch_last and col >= spans[-1][1]:
            break
        parts[idx].append(ch)
        col += char_width(ch)
    for i, p in enumerate(parts):
        cells[i] = "".join(p).strip()
    return cells


_MULTISPACE = re.compile(r"\s{2,}")


def split_wide(line: str) -> list[str]:
    """Split a header or row on runs of two or more blanks."""
    return [c for c in _MULTISPACE.split(line.strip()) if c]


def csv_row(line: str) -> list[str] | None:
    """One CSV line as cells, None if it does not parse as CSV (unbalanced quotes...)."""
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error:
        return None
    return rows[0] if rows else []


def norm_header(text: str) -> str:
    """Header text folded for lookup: case, blanks and full-width brackets ignored."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_]+", "", t)


def header_keys(cells: Sequence[str], table: dict[str, str]) -> list[str | None]:
    """Map header cells to canonical keys through a localized table (None where unknown)."""
    return [table.get(norm_header(c)) for c in cells]


def int_or_none(text: str) -> int | None:
    """``12,288`` / ``4`` / ``0x1F`` as int, None when not a number."""
    t = text.strip().replace(",", "").replace("\u00a0", "").replace(".", "") if text else ""
    if not t:
        return None
    try:
        return int(t, 0) if t.lower().startswith("0x") else int(t)
    except ValueError:
        return None


# C:\Windows\system32>reg query HKLM\...      PS C:\Windows\system32> (Get-Acl HKLM:\...).Sddl
PROMPT = re.compile(r"^(?:PS )?(?:[A-Za-z]:\\[^<>|\"]*|\\\\[^<>|\"]*)>\s?(?P<command>.*)$")

#: Console messages (English, zh-CN) → Win32 error code. Keys are folded with ``norm_header``.
MESSAGES: dict[str, int] = {
    norm_header(k): v
    for k, v in {
        "Access is denied.": 5,
        "拒绝访问。": 5,
        "The system was unable to find the specified registry key or value.": 2,
        "系统找不到指定的注册表项或值。": 2,
        "The system cannot find the file specified.": 2,
        "系统找不到指定的文件。": 2,
        "The system cannot find the path specified.": 3,
        "系统找不到指定的路径。": 3,
        "The specified service does not exist as an installed service.": 1060,
        "指定的服务未安装。": 1060,
        "The parameter is incorrect.": 87,
        "参数错误。": 87,
        "Invalid syntax.": 87,
        "无效语法。": 87,
        "Invalid key name.": 87,
        "无效项名。": 87,
        "A required privilege is not held by the client.": 1314,
        "客户端没有所需的特权。": 1314,
        "The network path was not found.": 53,
        "找不到网络路径。": 53,
    }.items()
}

# ERROR: Access is denied.      错误: 拒绝访问。      错误：拒绝访问。
ERROR_LINE = re.compile(r"^\s*(?:ERROR|错误)\s*[:：]\s*(?P<message>.*)$", re.I)
# The operation completed successfully.   操作成功完成。
SUCCESS_LINE = re.compile(r"^\s*(?:The operation completed successfully\.|操作成功完成。)\s*$", re.I)


def win32_of_message(message: str) -> int | None:
    """The Win32 error a localized console message stands for (None if not known)."""
    key = norm_header(message.strip())
    if key in MESSAGES:
        return MESSAGES[key]
    for k, v in MESSAGES.items():
        if k and k in key:
            return v
    return None


def clip(text: str, n: int = MAX_FIELD) -> str:
    """Bound a string kept in an event."""
    return text if len(text) <= n else text[:n]


HIVES: dict[str, str] = {
    "HKEY_LOCAL_MACHINE": "HKLM",
    "HKEY_CURRENT_USER": "HKCU",
    "HKEY_CLASSES_ROOT": "HKCR",
    "HKEY_USERS": "HKU",
    "HKEY_CURRENT_CONFIG": "HKCC",
}
_HIVE_LONG = {v: k for k, v in HIVES.items()}


def abbreviate_key(key: str) -> str:
    """A registry path with its hive abbreviated (``HKEY_LOCAL_MACHINE\\SYSTEM`` → ``HKLM\\SYSTEM``).

    PowerShell drive forms (``HKLM:\\X``) and provider prefixes (``Registry::HKEY_...``) are
    accepted; the rest of the path is kept as written.
    """
    k = key.strip()
    if "::" in k:
        k = k.split("::", 1)[1]
    hive, sep, rest = k.partition("\\")
    h = hive.rstrip(":").upper()
    h = HIVES.get(h, h)
    return h + (sep + rest if rest else "")


def expand_key(key: str) -> str:
    """A registry path with its hive written in full (``HKLM\\SYSTEM`` → ``HKEY_LOCAL_MACHINE\\SYSTEM``)."""
    short = abbreviate_key(key)
    hive, sep, rest = short.partition("\\")
    return _HIVE_LONG.get(hive, hive) + (sep + rest if rest else "")


# reg add "HKLM\SYSTEM\X" /v Start /t REG_DWORD /d 3 /f
_ARG = re.compile(r'"(?:[^"]*)"|\S+')


def command_args(command: str) -> list[str]:
    """Split a cmd command line into arguments (double quotes removed)."""
    return [a[1:-1] if len(a) >= 2 and a[0] == a[-1] == '"' else a for a in _ARG.findall(command)]


def header_cells(header: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """Header words over a rule: split on wide gaps when that gives one word per column,
    else cut by the rule's spans (single-blank gaps such as ``PID 模块``)."""
    words = split_wide(header)
    if len(words) == len(spans):
        return words
    return cut(header, spans)


def check_ending(source: Source, ctx: ParseContext, last_line: int | None) -> None:
    """Warn when a tool output does not end with a line end: the capture was probably cut.

    Console tools always end their output with CRLF; a file that stops mid-line lost its end.
    """
    if not last_line:
        return
    enc = source.encoding
    n = 2 if enc.wide else 1
    try:
        with source.open() as fp:
            size = fp.seek(0, 2)
            if size <= enc.bom:
                return
            fp.seek(max(enc.bom, size - n))
            tail = fp.read(n)
    except OSError:
        return
    if tail not in (b"\n", b"\n\x00"):
        ctx.warn("file does not end with a line end: the capture may be truncated", last_line)


def tool_lines(source: Source, ctx: ParseContext) -> Iterator[tuple[int, int, str]]:
    """``source.lines(ctx)`` plus the truncation check of :func:`check_ending` at the end."""
    last = 0
    for item in source.lines(ctx):
        last = item[0]
        yield item
    check_ending(source, ctx, last)
