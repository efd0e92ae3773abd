"""MicrosoftEdgeUpdate.log: the Edge Update (Google Omaha derivative) log.

Where: ``C:\\ProgramData\\Microsoft\\EdgeUpdate\\Log\\MicrosoftEdgeUpdate.log`` (rolled over to
``MicrosoftEdgeUpdate.log.bak``). Encoding: UTF-16LE with BOM by default (``LogFileWide=1``),
otherwise ANSI; sniffed. One record a line, local time without offset, no severity column::

    [MM/DD/YY HH:MM:SS.mmm][<process>:<module>][<pid>:<tid>][field][field]...

References: formats.md §5 (Omaha logging and error.h format strings), §11(b).

Every line is one event (``origin.line`` = that line) with fields ``process``, ``module``, ``pid``,
``tid`` (decimal, real ids), ``parts`` (the ``[...]`` fields after the ids, as a list of str)
and ``marker`` (the kind's last segment). Kinds:

``edgeupdate:banner``            ``[...msedgeupdate.dll][version V]...``: ``path``, ``version``.
``edgeupdate:is-machine``        ``[is machine: N][Current dir][D]``: ``is_machine`` (bool), ``current_dir``.
``edgeupdate:running-installer`` ``[Running installer][exe][args][appid]``: ``path``, ``args``, ``app_id``.
``edgeupdate:installer-result``  ``[InstallerResult][appid][code]``: ``app_id``, ``result`` (int) (= code).
``edgeupdate:install-app-returned`` ``[InstallApp returned][0xHR][appid][type:N][code: N]``: ``hresult``,
                                 ``app_id``, ``type``, ``result``.
``edgeupdate:failed``            ``[<Function> failed][0x...]``: ``function``, ``hresult`` (= code).
``edgeupdate:process-exited``    ``[process exited][PID n][exit code 0x...]``: ``child_pid``, ``exit_code``
                                 (unsigned, = code).
``edgeupdate:line``              any other record; ``continuation: True`` for a line that does not
                                 start with a stamp (it belongs to the record above).
``edgeupdate:run``               after all lines, one per run (a PID's lines from its banner to the
                                 next banner of the same PID), in order of first line: ``pid``,
                                 ``process``, ``first_line``, ``last_line``, ``lines``, ``start``, ``end``
                                 (UTC), ``version``, ``is_machine``, ``banner`` (bool), ``early_exit``
                                 (True when the run logged nothing but its banner lines),
                                 ``ran_installer``, ``installer_results`` (list of ``{app_id, result,
                                 line}``), ``failures`` (list of ``{function, hresult, line}``),
                                 ``exit_code`` / ``exit_line`` when another process logged this
                                 PID's exit. Origin = the run's first line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from culprit.model import Event, Origin, Process, Severity
from culprit.parsers import register
from culprit.parsers.base import ParseContext, Parser, Source

MAX_TEXT = 2000

# [06/16/22 10:43:04.906][MicrosoftEdgeUpdate:msedgeupdate][7140:7144][is machine: 1][Current dir][C:\...]
_LINE = re.compile(
    r"^\[(?P<mo>\d\d)/(?P<d>\d\d)/(?P<y>\d\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)\.(?P<ms>\d{3})\]"
    r"\[(?P<proc>[^:\]]*):(?P<mod>[^\]]*)\]\[(?P<pid>\d+):(?P<tid>\d+)\](?P<tail>.*)$"
)
_STAMP = re.compile(r"^\[\d\d/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}\]")
# [version 1.3.163.19]
_VERSION = re.compile(r"^version (?P<v>\d+(?:\.\d+)+)$")
# [is machine: 1]
_IS_MACHINE = re.compile(r"^is machine: (?P<n>\d+)$")
# [ExtractAndRun failed][0x80040902]
_FAILED = re.compile(r"^(?P<fn>.+?) failed$")
_HEX = re.compile(r"^(?:hr=)?0x(?P<h>[0-9a-fA-F]{1,8})$")
# [PID 7140]  [exit code 0x80040c01]
_PID = re.compile(r"^PID (?P<n>\d+)$")
_EXIT = re.compile(r"^exit code (?P<c>0x[0-9a-fA-F]{1,8}|-?\d+)$")
_TYPE = re.compile(r"^type:\s*(?P<n>-?\d+)$")
_CODE = re.compile(r"^code:\s*(?P<n>-?\d+)$")


def _split(tail: str) -> list[str]:
    """``[a][b][c]`` → ``["a", "b", "c"]`` (a value containing ``][`` cannot be told apart)."""
    t = tail.strip()
    if not t:
        return []
    if t.startswith("["):
        t = t[1:]
    if t.endswith("]"):
        t = t[:-1]
    return t.split("][")


def _hex(s: str) -> int | None:
    m = _HEX.match(s.strip())
    return int(m["h"], 16) if m else None


def _int(s: str) -> int | None:
    s = s.strip()
    try:
        return int(s, 16) & 0xFFFFFFFF if s.lower().startswith("0x") else int(s)
    except ValueError:
        return None


@dataclass
class _Run:
    pid: int
    process: str
    first_line: int
    first_offset: int
    first_text: str
    start: datetime | None
    banner: bool
    last_line: int = 0
    end: datetime | None = None
    lines: int = 0
    version: str | None = None
    is_machine: bool | None = None
    substantive: int = 0  # lines other than the banner pair
    installer: bool = False
    results: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int | None = None
    exit_line: int | None = None


@register
class EdgeUpdateParser(Parser):
    name = "edgeupdate"
    description = "MicrosoftEdgeUpdate.log (Edge Update / Omaha), runs per PID"
    local_time = True

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        lines = [ln for ln in text.lstrip("\ufeff").splitlines()[:50] if ln.strip()]
        if not lines:
            return 0.0
        hits = sum(1 for ln in lines if _LINE.match(ln))
        if hits == 0:
            return 0.0
        score = 0.9 if hits >= max(1, len(lines) // 2) else 0.5
        if "edgeupdate" in source.filename.lower():
            score += 0.05
        return score

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        runs: list[_Run] = []
        open_runs: dict[int, _Run] = {}
        last_pid: int | None = None
        last_local: datetime | None = None
        for lineno, offset, line in source.lines(ctx):
            if lineno == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            origin = Origin(ctx.artifact, line=lineno, offset=offset, text=line[:MAX_TEXT])
            m = _LINE.match(line)
            if not m:
                if _STAMP.match(line) or (line.startswith("[") and re.match(r"^\[\d", line)):
                    ctx.warn("malformed MicrosoftEdgeUpdate.log record", line=lineno)
                elif "\x00" in line or "\ufffd" in line:
                    ctx.warn("unreadable characters in line (damaged file or wrong encoding)", line=lineno)
                yield Event(
                    kind="edgeupdate:line", origin=origin, **ctx.times(last_local), message=line[:MAX_TEXT],
                    fields={"continuation": True, "pid": last_pid, "parts": [], "marker": "line",
                            "text": line[:MAX_TEXT]},
                )
                if last_pid is not None and last_pid in open_runs:
                    r = open_runs[last_pid]
                    r.last_line, r.lines = lineno, r.lines + 1
                continue
            try:
                local = datetime(  # noqa: DTZ001 - local time as logged
                    2000 + int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"]),
                    int(m["ms"]) * 1000)
            except ValueError:
                ctx.warn(f"bad date/time in stamp of line {lineno}", line=lineno)
                local = last_local
            last_local = local
            pid, tid = int(m["pid"]), int(m["tid"])
            last_pid = pid
            parts = _split(m["tail"])
            kind, extra, code, sev = self._marker(parts)
            base: dict[str, Any] = {"process": m["proc"], "module": m["mod"], "pid": pid, "tid": tid,
                                    "parts": parts, "marker": kind.rsplit(":", 1)[1]}
            base.update(extra)

            # --- runs ---
            run = open_runs.get(pid)
            if kind == "edgeupdate:banner" or run is None:
                run = _Run(pid, m["proc"], lineno, offset, line[:MAX_TEXT], ctx.to_utc(local),
                           banner=kind == "edgeupdate:banner")
                runs.append(run)
                open_runs[pid] = run
            run.last_line, run.end, run.lines = lineno, ctx.to_utc(local), run.lines + 1
            if kind == "edgeupdate:banner":
                run.version = extra.get("version")
            elif kind == "edgeupdate:is-machine":
                run.is_machine = extra.get("is_machine")
            else:
                run.substantive += 1
            if kind == "edgeupdate:running-installer":
                run.installer = True
            elif kind == "edgeupdate:installer-result":
                run.results.append({"app_id": extra.get("app_id"), "result": extra.get("result"),
                                    "line": lineno})
            elif kind == "edgeupdate:failed":
                run.failures.append({"function": extra["function"], "hresult": extra.get("hresult"),
                                     "line": lineno})
            elif kind == "edgeupdate:process-exited" and (child := extra.get("child_pid")) is not None:
                target = open_runs.get(child)
                if target is not None and target is not run:
                    target.exit_code, target.exit_line = extra.get("exit_code"), lineno

            yield Event(
                kind=kind, origin=origin, **ctx.times(local), severity=sev,
                process=Process(name=m["proc"], pid=pid, tid=tid), code=code, message=m["tail"][:MAX_TEXT],
                fields=base,
            )

        for r in runs:
            yield self._run_event(r, ctx)

    @staticmethod
    def _marker(parts: list[str]) -> tuple[str, dict[str, Any], int | None, Severity]:
        """Recognise the record's marker from its fields: kind, fields, code, severity."""
        if not parts:
            return "edgeupdate:line", {}, None, Severity.INFO
        p0 = parts[0]
        if len(parts) >= 2 and (v := _VERSION.match(parts[1])) and p0.lower().endswith(".dll"):
            return "edgeupdate:banner", {"path": p0, "version": v["v"]}, None, Severity.INFO
        if (im := _IS_MACHINE.match(p0)) is not None:
            f: dict[str, Any] = {"is_machine": im["n"] == "1"}
            if len(parts) >= 3 and parts[1].lower() == "current dir":
                f["current_dir"] = parts[2]
            return "edgeupdate:is-machine", f, None, Severity.INFO
        if p0 == "Running installer":
            f = {"path": parts[1] if len(parts) > 1 else None, "args": parts[2] if len(parts) > 2 else None,
                 "app_id": parts[3] if len(parts) > 3 else None}
            return "edgeupdate:running-installer", f, None, Severity.INFO
        if p0 == "InstallerResult":
            result = _int(parts[2]) if len(parts) > 2 else None
            f = {"app_id": parts[1] if len(parts) > 1 else None, "result": result}
            sev = Severity.ERROR if result not in (None, 0) else Severity.INFO
            return "edgeupdate:installer-result", f, result, sev
        if p0 == "InstallApp returned":
            hr = _hex(parts[1]) if len(parts) > 1 else None
            f = {"hresult": hr, "app_id": parts[2] if len(parts) > 2 else None}
            for p in parts[3:]:
                if (t := _TYPE.match(p)) is not None:
                    f["type"] = int(t["n"])
                elif (c := _CODE.match(p)) is not None:
                    f["result"] = int(c["n"])
            sev = Severity.ERROR if hr not in (None, 0) else Severity.INFO
            return "edgeupdate:install-app-returned", f, hr, sev
        if p0 == "process exited":
            f = {}
            for p in parts[1:]:
                if (pm := _PID.match(p)) is not None:
                    f["child_pid"] = int(pm["n"])
                elif (em := _EXIT.match(p)) is not None:
                    f["exit_code"] = _int(em["c"])
            code = f.get("exit_code")
            return "edgeupdate:process-exited", f, code, Severity.ERROR if code else Severity.INFO
        if (fm := _FAILED.match(p0)) is not None:
            hr = next((h for p in parts[1:] if (h := _hex(p)) is not None), None)
            return "edgeupdate:failed", {"function": fm["fn"], "hresult": hr}, hr, Severity.ERROR
        return "edgeupdate:line", {}, None, Severity.INFO

    @staticmethod
    def _run_event(r: _Run, ctx: ParseContext) -> Event:
        early = r.banner and r.substantive == 0
        fields: dict[str, Any] = {
            "pid": r.pid, "process": r.process, "first_line": r.first_line, "last_line": r.last_line,
            "lines": r.lines, "start": r.start, "end": r.end, "version": r.version,
            "is_machine": r.is_machine,
            "banner": r.banner, "early_exit": early, "ran_installer": r.installer,
            "installer_results": r.results, "failures": r.failures,
        }
        if r.exit_code is not None:
            fields["exit_code"] = r.exit_code
            fields["exit_line"] = r.exit_line
        code = r.failures[0]["hresult"] if r.failures else r.exit_code
        bad = early or bool(r.failures) or any(x["result"] not in (0, None) for x in r.results)
        what = "early exit after its banner" if early else f"{r.lines} line(s)"
        return Event(
            kind="edgeupdate:run",
            origin=Origin(ctx.artifact, line=r.first_line, offset=r.first_offset, text=r.first_text),
            time=r.start,
            severity=Severity.ERROR if bad else Severity.INFO,
            process=Process(name=r.process, pid=r.pid),
            code=code,
            message=f"{r.process} PID {r.pid}: {what}, lines {r.first_line}-{r.last_line}",
            fields=fields,
        )
