"""``reg query`` console output, and the results/errors of ``reg add`` / ``reg delete`` & co.

Format: a key path at column 0, its values indented four spaces as ``name<4sp>TYPE<4sp>data``::

    HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\AmdK8
        Start    REG_DWORD    0x1
        (Default)    REG_SZ    (value not set)

Data: ``REG_DWORD``/``REG_QWORD`` as ``0x..`` hex, ``REG_BINARY`` as a hex run, ``REG_MULTI_SZ``
joined by ``\\0``. ``/s`` ends with ``End of search: N match(es) found.``. Errors and results are
one line, localized: ``ERROR: Access is denied.`` / ``错误: 拒绝访问。``, ``ERROR: The system was
unable to find the specified registry key or value.`` / ``错误: 系统找不到指定的注册表项或值。``,
``The operation completed successfully.`` / ``操作成功完成。``. Captures are often console
transcripts: a prompt line ``C:\\Windows\\system32>reg add HKLM\\... /v Start /t REG_DWORD /d 3 /f``
tells which operation an error belongs to; output of other commands (``whoami``...) is skipped.

Where it lives: not a log; console text saved by the engineer (OEM code page: CP437/850, CP936
on zh-CN; UTF-16LE with BOM from PowerShell 5.1).

Events:
    ``reg:key`` — fields ``key`` (as written), ``key_abbrev`` (``HKLM\\...``).
    ``reg:value`` — fields ``key``, ``key_abbrev``, ``name`` ("" for the default value),
    ``type`` (``REG_DWORD``...), ``data`` (int for DWORD/QWORD, list of str for MULTI_SZ, hex
    string for BINARY, str otherwise, None for "value not set"), ``raw`` (data as written).
    ``reg:error`` — fields ``operation`` (``query``, ``add``, ``delete``... or None when no
    prompt says), ``key``, ``name`` (the ``/v`` value, or None), ``win32`` (5 for access denied,
    2 for not found, None when the message is unknown), ``message``, ``command`` (or None);
    ``code`` = ``win32``.
    ``reg:ok`` — ``The operation completed successfully.``: ``operation``, ``key``, ``name``,
    ``command``, ``win32`` = 0.

References: formats.md §9; Microsoft Learn "reg query", "reg add".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from culprit.model import Event, Origin, Severity
from culprit.parsers import register
from culprit.parsers._tables import (
    ERROR_LINE,
    PROMPT,
    SUCCESS_LINE,
    abbreviate_key,
    clip,
    command_args,
    tool_lines,
    win32_of_message,
)
from culprit.parsers.base import ParseContext, Parser, Source

# HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\AmdK8
KEY_LINE = re.compile(
    r"^(?:HKEY_(?:LOCAL_MACHINE|CURRENT_USER|CLASSES_ROOT|USERS|CURRENT_CONFIG)|HKLM|HKCU|HKCR|HKU|HKCC)"
    r"(?:\\.*)?$",
    re.I,
)
#     Start    REG_DWORD    0x1
VALUE_LINE = re.compile(r"^ {4}(?P<name>.*?) {4}(?P<type>REG_[A-Z0-9_]+)(?: {4}(?P<data>.*))?$")
# End of search: 2 match(es) found.    搜索结束: 找到 2 匹配。
_END = re.compile(r"^\s*(?:End of search|搜索结束)\b", re.I)
DEFAULT_NAMES = {"(default)", "(默认)", "(預設)"}
NOT_SET = {"(value not set)", "(数值未设置)", "(值未设置)"}
OPERATIONS = {
    "query",
    "add",
    "delete",
    "copy",
    "save",
    "restore",
    "load",
    "unload",
    "compare",
    "export",
    "import",
    "flags",
}


def convert_data(reg_type: str, raw: str) -> Any:
    """Turn ``reg query`` data text into a value by type (see the module docstring)."""
    t = reg_type.upper()
    if raw.strip().casefold() in NOT_SET:
        return None
    if t in ("REG_DWORD", "REG_QWORD", "REG_DWORD_BIG_ENDIAN"):
        try:
            return int(raw.strip(), 16) if raw.strip().lower().startswith("0x") else int(raw.strip())
        except ValueError:
            return raw
    if t == "REG_MULTI_SZ":
        return [p for p in raw.split("\\0") if p] if raw else []
    if t == "REG_BINARY":
        return raw.strip().upper()
    return raw


def parse_command(command: str) -> dict[str, Any] | None:
    """``reg <op> KEY [/v name] ...`` → operation, key, name; None when it is not reg."""
    args = command_args(command)
    if not args:
        return None
    exe = args[0].casefold().rsplit("\\", 1)[-1]
    if exe not in ("reg", "reg.exe") or len(args) < 2:
        return None
    op = args[1].casefold()
    out: dict[str, Any] = {
        "operation": op if op in OPERATIONS else args[1],
        "key": None,
        "name": None,
        "command": clip(command.strip()),
    }
    rest = args[2:]
    if rest and not rest[0].startswith("/"):
        out["key"] = rest[0]
    for i, a in enumerate(rest):
        if a.lower() == "/v" and i + 1 < len(rest):
            out["name"] = rest[i + 1]
        elif a.lower() == "/ve":
            out["name"] = ""
    return out


@register
class RegQueryParser(Parser):
    name = "regquery"
    description = "reg query / reg add console output and errors (English, zh-CN)"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = text.lstrip("\ufeff").splitlines()[:200]
        for ln in lines:
            m = PROMPT.match(ln)
            if m and parse_command(m.group("command")):
                return 0.9
        for i, ln in enumerate(lines[:-1]):
            if KEY_LINE.match(ln) and VALUE_LINE.match(lines[i + 1]):
                return 0.9
        body = [ln for ln in lines if ln.strip()]
        if body and all(KEY_LINE.match(ln) or _END.match(ln) for ln in body):
            return 0.6  # reg query of keys without values (subkey listing)
        if 0 < len(body) <= 3 and (m := ERROR_LINE.match(body[0])) and win32_of_message(m.group("message")):
            return 0.35  # a lone "ERROR: Access is denied." from reg add (weak: other tools say it too)
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        cmd: dict[str, Any] | None = None
        other = False  # inside the output of a command that is not reg
        key: str | None = None
        for lineno, offset, raw in tool_lines(source, ctx):
            line = raw.lstrip("\ufeff")
            if not line.strip():
                continue
            origin = Origin(ctx.artifact, line=lineno, offset=offset, text=clip(line))
            m = PROMPT.match(line)
            if m:
                cmd = parse_command(m.group("command"))
                other = cmd is None and bool(m.group("command").strip())
                key = None
                continue
            if other:
                continue
            if KEY_LINE.match(line):
                key = line.strip()
                yield Event(
                    kind="reg:key",
                    origin=origin,
                    message=clip(key),
                    fields={"key": clip(key), "key_abbrev": clip(abbreviate_key(key))},
                )
                continue
            m = VALUE_LINE.match(line)
            if m:
                if key is None:
                    ctx.warn("registry value line before any key", lineno)
                    continue
                yield self._value(m, key, origin)
                continue
            m = ERROR_LINE.match(line)
            if m:
                yield self._result(cmd, m.group("message").strip(), origin, error=True)
                continue
            if SUCCESS_LINE.match(line):
                yield self._result(cmd, line.strip(), origin, error=False)
                continue
            if _END.match(line):
                continue
            ctx.warn("line is not reg output", lineno)

    @staticmethod
    def _value(m: re.Match[str], key: str, origin: Origin) -> Event:
        name = m.group("name").strip()
        is_default = name.casefold() in DEFAULT_NAMES
        rtype = m.group("type")
        raw = m.group("data") or ""
        fields = {
            "key": clip(key),
            "key_abbrev": clip(abbreviate_key(key)),
            "name": "" if is_default else clip(name),
            "type": rtype,
            "data": convert_data(rtype, clip(raw)),
            "raw": clip(raw),
        }
        return Event(
            kind="reg:value", origin=origin, message=f"{name} {rtype} {clip(raw, 200)}".strip(), fields=fields
        )

    @staticmethod
    def _result(cmd: dict[str, Any] | None, message: str, origin: Origin, error: bool) -> Event:
        c = cmd or {"operation": None, "key": None, "name": None, "command": None}
        win32 = win32_of_message(message) if error else 0
        fields = {
            "operation": c["operation"],
            "key": c["key"],
            "name": c["name"],
            "win32": win32,
            "message": clip(message),
            "command": c["command"],
        }
        what = f"reg {c['operation']} {c['key'] or ''}".strip() if c["operation"] else "reg"
        return Event(
            kind="reg:error" if error else "reg:ok",
            origin=origin,
            severity=Severity.ERROR if error else Severity.INFO,
            code=win32 if error else None,
            message=f"{what}: {message}",
            fields=fields,
        )
