"""Windows INF files (driver and setup information): every service and file a package installs.

Where: ``%WINDIR%\\INF\\*.inf`` (published ``oemNN.inf``), the driver store
(``%WINDIR%\\System32\\DriverStore\\FileRepository\\<name>.inf_<arch>_<hash>\\``) and WinSxS
component folders. Encoding: UTF-16LE with BOM (inbox INFs) or ANSI; CRLF. No times.
References: ../shared/docs/formats.md (issue 3, INF bullet), docs/events/inf.md, Microsoft's INF
reference (sections, ``[Strings]``, ``DestinationDirs``, ``AddService``, ``CopyFiles``, DIRIDs).

Syntax read here::

    [AmdK8_Inst.NT.Services]
    AddService = AmdK8,%SPSVCINST_ASSOCSERVICE%,AmdK8_Service_Inst,AmdK8_EventLog_Inst   ; comment

``%name%`` is replaced from ``[Strings]`` (then any ``[Strings.<lang>]``), ``%NN%`` by the DIRID's
path, ``%%`` is a literal ``%``; a trailing ``\\`` continues a line; ``"..."`` quotes (``""`` = ``"``).

Kinds (all carry ``inf``, the file name in lower case):

- ``inf:version`` — ``class``, ``class_guid``, ``provider``, ``driver_ver`` (``date,version`` as
  written), ``catalog``.
- ``inf:section`` — ``section``, ``entries``.
- ``inf:model`` — ``manufacturer``, ``models_section``, ``description``, ``install_section``,
  ``hardware_ids``.
- ``inf:service`` — ``service``, ``key`` (``HKLM\\SYSTEM\\CurrentControlSet\\Services\\<name>``),
  ``service_binary`` (full Windows path), ``start_type`` (int) and ``start_type_name``,
  ``service_type``, ``error_control``, ``flags``, ``install_section`` (the service-install section
  named by AddService), ``section`` (the section holding the directive), ``eventlog_section``.
- ``inf:file`` — ``file``, ``destination`` (full path, as Windows writes it), ``dirid``,
  ``source_file``, ``copyfiles_section``, ``section`` (the section holding ``CopyFiles``).
- ``inf:include`` — ``section``, ``includes`` (INF names, lower case), ``needs`` (section names of
  those INFs that the section runs as its own: ``Include=machine.inf`` + ``Needs=NO_DRV``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from culprit.model import Event, Origin
from culprit.parsers import register
from culprit.parsers.base import ParseContext, Parser, Source

# DIRIDs (Microsoft "Using Dirids"); 13 is the package's driver store folder.
DIRIDS: dict[int, str] = {
    10: "C:\\Windows",
    11: "C:\\Windows\\System32",
    12: "C:\\Windows\\System32\\drivers",
    13: "C:\\Windows\\System32\\DriverStore\\FileRepository",
    17: "C:\\Windows\\INF",
    18: "C:\\Windows\\Help",
    20: "C:\\Windows\\Fonts",
    23: "C:\\Windows\\System32\\spool\\drivers\\color",
    24: "C:\\",
    25: "C:\\Windows",
    30: "C:\\",
    50: "C:\\Windows\\System",
    51: "C:\\Windows\\System32\\spool",
    52: "C:\\Windows\\System32\\spool\\drivers",
    53: "C:\\Users\\Default",
    54: "C:\\",
    55: "C:\\Windows\\System32\\spool\\prtprocs",
    16406: "C:\\ProgramData\\Microsoft\\Windows\\Start Menu",
    16422: "C:\\Program Files",
    16425: "C:\\Windows\\SysWOW64",
    16426: "C:\\Program Files\\Common Files",
    16427: "C:\\Program Files\\Common Files",
    16428: "C:\\Program Files\\Common Files",
}
START_TYPES = {0: "boot", 1: "system", 2: "auto", 3: "demand", 4: "disabled"}
MAX_TEXT = 2000

# [AmdK8_Inst.NT.Services]
_SECTION = re.compile(r"^\s*\[([^\]]+)\]")
# %AmdK8.DeviceDesc%  |  %12%  |  %%
_SUBST = re.compile(r"%([^%\s]*)%")
_SYSTEMROOT = re.compile(r"^(?:\\SystemRoot\\|%SystemRoot%\\|%windir%\\)", re.I)


@dataclass
class _Line:
    lineno: int
    key: str | None
    values: list[str]
    raw: str


@dataclass
class _Inf:
    sections: dict[str, list[_Line]] = field(default_factory=dict)  # lower-case name -> lines
    names: dict[str, str] = field(default_factory=dict)  # lower-case -> as written
    lines: dict[str, int] = field(default_factory=dict)  # lower-case -> header line
    strings: dict[str, str] = field(default_factory=dict)
    store_dir: str = DIRIDS[13]  # DIRID 13: this package's driver store folder (name known up to its hash)


@register
class InfParser(Parser):
    """INF files (UTF-16LE or ANSI)."""

    name = "inf"
    description = "Windows INF file (driver/setup information)"
    local_time = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        text = source.text_head
        if not text:
            return 0.0
        low = text[:20000].lower()
        if "[version]" not in low:
            return 0.0
        score = 0.6
        if re.search(r"^\s*signature\s*=", low, re.M):
            score = 0.9
        if source.filename.lower().endswith(".inf"):
            score += 0.05
        return score

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        inf = _read(source, ctx)
        inf.store_dir = _store_dir(source.filename)
        name = source.filename.lower()
        # INFs are small: build every event, then hand them out in file order.
        yield from sorted(_events(inf, name, ctx), key=lambda e: e.origin.line or 0)


def _read(source: Source, ctx: ParseContext) -> _Inf:
    inf = _Inf()
    current: list[_Line] | None = None
    pending = ""
    pending_line = 0
    for lineno, _offset, text in source.lines(ctx):
        text = text.lstrip("\ufeff")
        if "\x00" in text:
            ctx.warn("binary data in INF line", lineno)
            continue
        body = _strip_comment(text).rstrip()
        if pending:
            body = pending + body.lstrip()
            lineno = pending_line
            pending = ""
        if body.endswith("\\") and not body.endswith("\\\\"):
            pending, pending_line = body[:-1], lineno
            continue
        if not body.strip():
            continue
        m = _SECTION.match(body)
        if m:
            key = m.group(1).strip().lower()
            current = inf.sections.setdefault(key, [])
            inf.names.setdefault(key, m.group(1).strip())
            inf.lines.setdefault(key, lineno)
            continue
        if current is None:
            ctx.warn("INF line outside any section", lineno)
            continue
        k, values = _split_line(body)
        current.append(_Line(lineno, k, values, text.strip()))
    for sec in ["strings", *sorted(s for s in inf.sections if s.startswith("strings."))]:
        for ln in inf.sections.get(sec, []):
            if ln.key is not None and ln.key.lower() not in inf.strings:
                inf.strings[ln.key.lower()] = ln.values[0] if ln.values else ""
    return inf


def _strip_comment(text: str) -> str:
    if ";" not in text:
        return text
    inq = False
    for i, ch in enumerate(text):
        if ch == '"':
            inq = not inq
        elif ch == ";" and not inq:
            return text[:i]
    return text


def _split_line(body: str) -> tuple[str | None, list[str]]:
    """``key = v1, "v,2", v3`` → ``("key", ["v1", "v,2", "v3"])``; a line without ``=`` has no key."""
    key = None
    eq = _unquoted_index(body, "=")
    if eq >= 0:
        key = _unquote(body[:eq].strip())
        body = body[eq + 1 :]
    vals: list[str] = []
    cur: list[str] = []
    inq = False
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            if inq and i + 1 < len(body) and body[i + 1] == '"':
                cur.append('"')
                i += 2
                continue
            inq = not inq
        elif ch == "," and not inq:
            vals.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    vals.append("".join(cur).strip())
    return key, vals


def _unquoted_index(text: str, ch: str) -> int:
    inq = False
    for i, c in enumerate(text):
        if c == '"':
            inq = not inq
        elif c == ch and not inq:
            return i
    return -1


def _unquote(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def _subst(inf: _Inf, value: str) -> str:
    """Replace ``%strkey%`` from [Strings], ``%dirid%`` by its path and ``%%`` by ``%``."""
    if "%" not in value:
        return value

    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        if key == "":
            return "%"
        if key.isdigit() and int(key) in DIRIDS:
            return inf.store_dir if int(key) == 13 else DIRIDS[int(key)]
        return inf.strings.get(key.lower(), m.group(0))

    return _SUBST.sub(one, value)


def _windows_path(path: str) -> str:
    """``\\SystemRoot\\System32\\drivers\\x.sys`` / ``%SystemRoot%\\...`` → ``C:\\Windows\\...``."""
    return _SYSTEMROOT.sub(lambda m: "C:\\Windows\\", path)


def _int(value: str) -> int | None:
    try:
        return int(value, 0)
    except ValueError:
        try:
            return int(value, 16) if value.lower().startswith("0x") else int(value)
        except ValueError:
            return None


def _origin(ctx: ParseContext, line: int, raw: str) -> Origin:
    return Origin(ctx.artifact, line=line, text=raw[:MAX_TEXT])


def _events(inf: _Inf, name: str, ctx: ParseContext) -> Iterator[Event]:
    ver = {(ln.key or "").lower(): ln for ln in inf.sections.get("version", [])}
    if ver:

        def v(k: str) -> str | None:
            ln = ver.get(k)
            return _subst(inf, ",".join(ln.values)) if ln and ln.values else None

        yield Event(
            kind="inf:version",
            origin=_origin(ctx, inf.lines["version"], "[Version]"),
            message=f"{name}: class {v('class')}, provider {v('provider')}, {v('driverver')}",
            fields={
                "inf": name,
                "class": v("class"),
                "class_guid": v("classguid"),
                "provider": v("provider"),
                "driver_ver": v("driverver"),
                "catalog": v("catalogfile") or v("catalogfile.nt"),
            },
        )
    for key, lines in inf.sections.items():
        yield Event(
            kind="inf:section",
            origin=_origin(ctx, inf.lines[key], f"[{inf.names[key]}]"),
            message=f"[{inf.names[key]}] {len(lines)} entries",
            fields={"inf": name, "section": inf.names[key], "entries": len(lines)},
        )
    yield from _models(inf, name, ctx)
    yield from _services(inf, name, ctx)
    yield from _files(inf, name, ctx)
    yield from _addregs(inf, name, ctx)
    yield from _includes(inf, name, ctx)


def _models(inf: _Inf, name: str, ctx: ParseContext) -> Iterator[Event]:
    for mln in inf.sections.get("manufacturer", []):
        if not mln.values or not mln.values[0]:
            continue
        manufacturer = _subst(inf, mln.key) if mln.key else None
        base = mln.values[0]
        decorations = [d for d in mln.values[1:] if d]
        for sec_name in [base] + [f"{base}.{d}" for d in decorations]:
            for ln in inf.sections.get(sec_name.lower(), []):
                if not ln.values or not ln.values[0]:
                    continue
                yield Event(
                    kind="inf:model",
                    origin=_origin(ctx, ln.lineno, ln.raw),
                    message=f"{_subst(inf, ln.key or '')} -> {ln.values[0]}",
                    fields={
                        "inf": name,
                        "manufacturer": manufacturer,
                        "models_section": inf.names[sec_name.lower()],
                        "description": _subst(inf, ln.key) if ln.key else None,
                        "install_section": ln.values[0],
                        "hardware_ids": [h for h in ln.values[1:] if h],
                    },
                )


def _services(inf: _Inf, name: str, ctx: ParseContext) -> Iterator[Event]:
    for key, lines in inf.sections.items():
        for ln in lines:
            if (ln.key or "").lower() != "addservice" or not ln.values or not ln.values[0]:
                continue
            vals = [_subst(inf, x) for x in ln.values]
            service = vals[0]
            flags = _int(vals[1]) if len(vals) > 1 and vals[1] else None
            install = ln.values[2] if len(ln.values) > 2 and ln.values[2] else None
            props: dict[str, str] = {}
            if install:
                if install.lower() not in inf.sections:
                    ctx.warn(f"AddService {service}: section [{install}] not found", ln.lineno)
                for sl in inf.sections.get(install.lower(), []):
                    if sl.key and sl.values:
                        props[sl.key.lower()] = _subst(inf, sl.values[0])
            binary = _windows_path(props["servicebinary"]) if props.get("servicebinary") else None
            start = _int(props["starttype"]) if "starttype" in props else None
            yield Event(
                kind="inf:service",
                origin=_origin(ctx, ln.lineno, ln.raw),
                message=f"AddService {service} ({binary or 'no ServiceBinary'})",
                fields={
                    "inf": name,
                    "service": service,
                    "key": f"HKLM\\SYSTEM\\CurrentControlSet\\Services\\{service}",
                    "service_binary": binary,
                    "start_type": start,
                    "start_type_name": START_TYPES.get(start) if start is not None else None,
                    "service_type": _int(props["servicetype"]) if "servicetype" in props else None,
                    "error_control": _int(props["errorcontrol"]) if "errorcontrol" in props else None,
                    "flags": flags,
                    "install_section": install,
                    "section": inf.names[key],
                    "eventlog_section": ln.values[3] if len(ln.values) > 3 and ln.values[3] else None,
                },
            )


def _dest_dirs(
    inf: _Inf,
) -> tuple[dict[str, tuple[int | None, str | None]], tuple[int | None, str | None] | None]:
    dirs: dict[str, tuple[int | None, str | None]] = {}
    default = None
    for ln in inf.sections.get("destinationdirs", []):
        if not ln.key or not ln.values:
            continue
        dirid = _int(_subst(inf, ln.values[0]))
        sub = _subst(inf, ln.values[1]) if len(ln.values) > 1 and ln.values[1] else None
        if ln.key.lower() == "defaultdestdir":
            default = (dirid, sub)
        else:
            dirs[ln.key.lower()] = (dirid, sub)
    return dirs, default


def _store_dir(filename: str) -> str:
    """DIRID 13 for this INF: ``...\\FileRepository\\cpu.inf_*`` (the folder ends with arch and hash).

    A published ``oemNN.inf`` keeps its original name in the store, which the file does not say: ``*``.
    """
    name = filename.lower()
    folder = "*" if re.fullmatch(r"oem\d+\.inf", name) else f"{name}_*"
    return f"{DIRIDS[13]}\\{folder}"


def _dir_path(dirid: int | None, sub: str | None, inf: _Inf | None = None) -> str | None:
    if dirid is None or dirid not in DIRIDS:
        return None
    base = inf.store_dir if dirid == 13 and inf is not None else DIRIDS[dirid]
    return base.rstrip("\\") + "\\" + sub.strip("\\") if sub else base


def _files(inf: _Inf, name: str, ctx: ParseContext) -> Iterator[Event]:
    dirs, default = _dest_dirs(inf)
    seen: set[tuple[str, str | None]] = set()
    for key, lines in inf.sections.items():
        for ln in lines:
            if (ln.key or "").lower() != "copyfiles":
                continue
            for target in ln.values:
                if not target:
                    continue
                if target.startswith("@"):  # CopyFiles=@file.sys: one file to DefaultDestDir
                    dirid, sub = default or (None, None)
                    entries: list[tuple[_Line, str, str | None, str]] = [(ln, target[1:], None, "@")]
                else:
                    sec = inf.sections.get(target.lower())
                    if sec is None:
                        ctx.warn(f"CopyFiles section [{target}] not found", ln.lineno)
                        continue
                    dirid, sub = dirs.get(target.lower()) or default or (None, None)
                    entries = [
                        (
                            fl,
                            _subst(inf, fl.values[0] or (fl.key or "")),
                            fl.values[1] if len(fl.values) > 1 else None,
                            target,
                        )
                        for fl in sec
                        if fl.values and (fl.values[0] or fl.key)
                    ]
                base = _dir_path(dirid, sub, inf)
                for fl, fname, src, csec in entries:
                    dest = f"{base}\\{fname}" if base else None
                    if (fname.lower(), dest) in seen:
                        continue
                    seen.add((fname.lower(), dest))
                    yield Event(
                        kind="inf:file",
                        origin=_origin(ctx, fl.lineno, fl.raw),
                        message=f"{fname} -> {dest or 'unknown destination'}",
                        fields={
                            "inf": name,
                            "file": fname,
                            "destination": dest,
                            "dirid": dirid,
                            "source_file": _subst(inf, src) if src else None,
                            "copyfiles_section": csec if csec != "@" else None,
                            "section": inf.names[key],
                        },
                    )


# [FbCam_Software_AddReg]
# HKLM,"SOFTWARE\Fabrikam\DocumentCamera","Mode",0x00010001,1
_REG_ROOTS = {"HKLM": "HKLM", "HKEY_LOCAL_MACHINE": "HKLM", "HKCR": "HKCR", "HKEY_CLASSES_ROOT": "HKCR",
              "HKCU": "HKCU", "HKEY_CURRENT_USER": "HKCU", "HKU": "HKU", "HKEY_USERS": "HKU", "HKR": "HKR"}


def _addregs(inf: _Inf, name: str, ctx: ParseContext) -> Iterator[Event]:
    """Every key an ``AddReg=`` section writes (``inf:addreg``; ``HKR`` is relative to the device's key)."""
    seen: set[str] = set()
    for key, lines in inf.sections.items():
        for ln in lines:
            if (ln.key or "").lower() != "addreg":
                continue
            for target in ln.values:
                if not target:
                    continue
                sec = inf.sections.get(target.lower())
                if sec is None:
                    ctx.warn(f"AddReg section [{target}] not found", ln.lineno)
                    continue
                for rl in sec:
                    parts = list(rl.values) if rl.key is None else [rl.key, *rl.values]
                    if not parts:
                        continue
                    root = _REG_ROOTS.get(_subst(inf, parts[0]).strip().upper())
                    if root is None:
                        continue
                    sub = _subst(inf, parts[1]).strip().strip('"').strip("\\") if len(parts) > 1 else ""
                    full = f"{root}\\{sub}" if sub else root
                    value = _subst(inf, parts[2]).strip().strip('"') if len(parts) > 2 else ""
                    if (full.lower(), value.lower()) in seen:
                        continue
                    seen.add((full.lower(), value.lower()))
                    yield Event(
                        kind="inf:addreg",
                        origin=_origin(ctx, rl.lineno, rl.raw),
                        message=f"AddReg {full}" + (f" [{value}]" if value else ""),
                        fields={"inf": name, "root": root, "subkey": sub or None,
                                "key": full if root != "HKR" else None, "value_name": value or None,
                                "addreg_section": target, "section": inf.names[key]},
                    )



def _includes(inf: _Inf, name: str, ctx: ParseContext) -> Iterator[Event]:
    """``Include=`` / ``Needs=`` of a section (``inf:include``): the section also runs the named sections of
    other INFs (system INFs such as ``machine.inf``), whose services, files and keys belong to the package."""
    for key, lines in inf.sections.items():
        includes: list[str] = []
        needs: list[str] = []
        first = None
        for ln in lines:
            k = (ln.key or "").lower()
            if k not in ("include", "needs"):
                continue
            first = first or ln
            vals = [_subst(inf, v).strip() for v in ln.values if v and v.strip()]
            (includes if k == "include" else needs).extend(vals)
        if first is None:
            continue
        yield Event(
            kind="inf:include",
            origin=_origin(ctx, first.lineno, first.raw),
            message=f"[{inf.names[key]}] Include={','.join(includes)} Needs={','.join(needs)}",
            fields={
                "inf": name,
                "section": inf.names[key],
                "includes": [i.lower() for i in includes],
                "needs": needs,
            },
        )
