"""``sc qc <service>`` (and ``sc query``) console output: a service's configuration.

Format::

    [SC] QueryServiceConfig SUCCESS

    SERVICE_NAME: AmdK8
            TYPE               : 1  KERNEL_DRIVER
            START_TYPE         : 1   SYSTEM_START
            ERROR_CONTROL      : 1   NORMAL
            BINARY_PATH_NAME   : \\SystemRoot\\system32\\DRIVERS\\amdk8.sys
            DEPENDENCIES       : RpcSs
                               : DcomLaunch

Field names stay English on every locale; ``SUCCESS``/``FAILED`` and messages are localized
(zh-CN ``[SC] QueryServiceConfig 成功``, ``[SC] OpenService 失败 1060:`` + ``指定的服务未安装。``).
TYPE is printed in hex without ``0x`` (``10  WIN32_OWN_PROCESS``); START_TYPE 0 BOOT, 1 SYSTEM,
2 AUTO (``(DELAYED)``), 3 DEMAND, 4 DISABLED. Several outputs may be concatenated, with prompts.

Where it lives: not a log; ``sc qc AmdK8 > sc_AmdK8.txt`` from cmd (OEM code page: CP437/850,
CP936 on zh-CN) or from PowerShell (``sc.exe``; UTF-16LE with BOM).

Events:
    ``sc:config`` — fields ``service``, ``type`` (int) + ``type_name``, ``start_type`` (int) +
    ``start_type_name`` (``SYSTEM_START``...), ``delayed`` (bool), ``error_control`` (int) +
    ``error_control_name``, ``binary_path``, ``load_order_group``, ``tag`` (int or None),
    ``display_name``, ``dependencies`` (list), ``service_start_name``; other ``KEY : value``
    lines (``sc query``: ``state``, ``win32_exit_code``...) as lower-case keys with their text.
    Origin = the ``SERVICE_NAME:`` line.
    ``sc:error`` — fields ``operation`` (``OpenService``...), ``win32`` (int), ``message``
    (the localized message on the following lines); ``code`` = the Win32 error.

References: formats.md §9; Microsoft Learn "sc.exe qc", "sc.exe query".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from culprit.model import Event, Origin, Severity
from culprit.parsers import register
from culprit.parsers._tables import PROMPT, clip, tool_lines
from culprit.parsers.base import ParseContext, Parser, Source

# [SC] QueryServiceConfig SUCCESS     [SC] OpenService FAILED 1060:     [SC] OpenService 失败 5:
_SC = re.compile(r"^\s*\[SC\]\s+(?P<op>\w+)\s+(?P<word>\S+?)(?:\s+(?P<code>\d+))?\s*[:：]?\s*$")
# SERVICE_NAME: AmdK8
_NAME = re.compile(r"^\s*SERVICE_NAME\s*[:：]\s?(?P<name>.*)$")
#         START_TYPE         : 2   AUTO_START  (DELAYED)
_KV = re.compile(r"^\s+(?P<key>[A-Z][A-Z0-9_]*)\s*: ?(?P<value>.*)$")
#                            : DcomLaunch
_MORE = re.compile(r"^\s{8,}: ?(?P<value>.*)$")
# 1   SYSTEM_START  (DELAYED)
_NUM_NAME = re.compile(r"^(?P<num>[0-9]{1,10})(?:\s+(?P<name>.*))?$")
# 20  WIN32_SHARE_PROCESS      (TYPE is hexadecimal without 0x)
_HEX_NAME = re.compile(r"^(?P<num>[0-9A-Fa-f]{1,8})(?:\s+(?P<name>.*))?$")
_FAILED_WORDS = {"failed", "失败"}


@register
class ScQcParser(Parser):
    name = "scqc"
    description = "sc qc / sc query console output (English, zh-CN)"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = text.splitlines()[:80]
        if any(_SC.match(ln) for ln in lines):
            return 0.95
        names = any(_NAME.match(ln) for ln in lines)
        keys = {m.group("key") for ln in lines if (m := _KV.match(ln))}
        if names and keys & {"BINARY_PATH_NAME", "START_TYPE", "STATE"}:
            return 0.9
        return 0.0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        rec: dict[str, Any] | None = None
        error: dict[str, Any] | None = None
        last_key: str | None = None
        for lineno, offset, raw in tool_lines(source, ctx):
            line = raw.lstrip("\ufeff")
            if not line.strip():
                continue
            m = _SC.match(line)
            if m or PROMPT.match(line):
                if rec:
                    yield self._config(rec, ctx)
                    rec = None
                if error:
                    yield self._error(error, ctx)
                    error = None
                if m and m.group("word").casefold() in _FAILED_WORDS:
                    error = {
                        "_line": lineno,
                        "_offset": offset,
                        "_text": line,
                        "operation": m.group("op"),
                        "win32": int(m.group("code")) if m.group("code") else None,
                        "message": "",
                    }
                continue
            m = _NAME.match(line)
            if m:
                if rec:
                    yield self._config(rec, ctx)
                rec = {"_line": lineno, "_offset": offset, "_text": line, "service": m.group("name").strip()}
                last_key = None
                continue
            if rec is not None:
                m = _MORE.match(line)
                if m and last_key == "dependencies":
                    if m.group("value").strip():
                        rec["dependencies"].append(m.group("value").strip())
                    continue
                m = _KV.match(line)
                if m:
                    last_key = self._field(rec, m.group("key"), m.group("value").strip())
                    continue
                if last_key and line[:1].isspace() and line.strip().startswith("("):
                    # sc query:                 (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)
                    rec[f"{last_key}_flags"] = clip(line.strip())
                    continue
            if error is not None:
                error["message"] = (error["message"] + " " + line.strip()).strip()
                continue
            ctx.warn("line is not sc output", lineno)
        if rec:
            yield self._config(rec, ctx)
        if error:
            yield self._error(error, ctx)

    @staticmethod
    def _field(rec: dict[str, Any], key: str, value: str) -> str:
        k = key.lower()
        if key in ("TYPE", "START_TYPE", "ERROR_CONTROL", "STATE"):
            m = (_HEX_NAME if key == "TYPE" else _NUM_NAME).match(value)
            name = "type" if key == "TYPE" else k
            if m:
                num = int(m.group("num"), 16 if key == "TYPE" else 10)
                rest = (m.group("name") or "").strip()
                if key == "START_TYPE":
                    rec["delayed"] = "DELAYED" in rest.upper() or "延迟" in rest
                    rest = re.sub(r"\s*\(.*\)\s*$", "", rest)
                rec[name] = num
                rec[f"{name}_name"] = rest.split()[0] if rest else None
            else:
                rec[name] = None
                rec[f"{name}_name"] = value or None
            return name
        if key == "BINARY_PATH_NAME":
            rec["binary_path"] = clip(value)
            return "binary_path"
        if key == "TAG":
            rec["tag"] = int(value) if re.fullmatch(r"\d{1,10}", value) else None
            return "tag"
        if key == "DEPENDENCIES":
            rec["dependencies"] = [value] if value else []
            return "dependencies"
        rec[k] = clip(value)
        return k

    @staticmethod
    def _config(rec: dict[str, Any], ctx: ParseContext) -> Event:
        fields = {k: v for k, v in rec.items() if not k.startswith("_")}
        fields.setdefault("dependencies", [])
        kind = "sc:config"
        msg = f"service {fields['service']}"
        if fields.get("start_type_name"):
            msg += f" start {fields['start_type']} {fields['start_type_name']}"
        return Event(
            kind=kind,
            origin=Origin(ctx.artifact, line=rec["_line"], offset=rec["_offset"], text=clip(rec["_text"])),
            message=msg,
            fields=fields,
        )

    @staticmethod
    def _error(err: dict[str, Any], ctx: ParseContext) -> Event:
        fields = {k: v for k, v in err.items() if not k.startswith("_")}
        fields["message"] = clip(fields["message"])
        return Event(
            kind="sc:error",
            origin=Origin(ctx.artifact, line=err["_line"], offset=err["_offset"], text=clip(err["_text"])),
            severity=Severity.ERROR,
            code=err["win32"],
            message=f"{err['operation']} failed {err['win32']}: {fields['message']}".strip(),
            fields=fields,
        )
