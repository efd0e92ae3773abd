"""What the analysis knows about a workspace, indexed once: events by kind, Procmon captures, INFs.

The passes read the bundle only through :class:`Facts`, so the way artifacts are opened (and
paired: a PML capture with Procmon's CSV export of the same events) lives in one place.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

from culprit.model import Event, Origin, Step
from culprit.pipeline import Artifact, Workspace

PROCMON_KINDS = ("procmon", "procmon-csv")


@dataclass
class CaptureRef:
    """One Procmon capture of the bundle (PML preferred), with its CSV twin when there is one."""

    artifact: str
    role: str
    cap: Any  # culprit.parsers.procmon.Capture
    csv_artifact: str | None = None

    def step(self, i: int, summary: str, summary_zh: str | None = None) -> Step:
        """A chain step citing event ``i``, and its line in the CSV twin (event i = line i + 2)."""
        ev = self.cap.event(int(i))
        text = (ev.origin.text or ev.message)[:500]
        alt = Origin(self.csv_artifact, line=int(i) + 2) if self.csv_artifact else None
        # A CSV export cites its line (event i = line i + 2); a PML cites the event index.
        origin = Origin(self.artifact, line=ev.origin.line, record=int(i), text=text)
        return Step(summary, origin, alt, summary_zh, ev.time, _mark(ev))


@dataclass
class Facts:
    ws: Workspace
    _kinds: dict[str, dict[str, list[Event]]] = field(default_factory=dict)
    _caps: dict[str, list[CaptureRef]] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    # --- plain events -------------------------------------------------------------------

    def _index(self, role: str) -> dict[str, list[Event]]:
        if role not in self._kinds:
            idx: dict[str, list[Event]] = defaultdict(list)
            for a in self.ws.artifacts:
                if a.role != role or a.parser is None or a.kind in PROCMON_KINDS:
                    continue
                for ev in a.events:
                    idx[ev.kind].append(ev)
            self._kinds[role] = idx
        return self._kinds[role]

    def events(self, *kinds: str, role: str = "bad") -> list[Event]:
        """Events whose kind equals one of ``kinds`` or starts with ``prefix:`` given as ``prefix:*``."""
        idx = self._index(role)
        out: list[Event] = []
        for k in kinds:
            if k.endswith("*"):
                pre = k[:-1]
                for kind, evs in idx.items():
                    if kind.startswith(pre):
                        out.extend(evs)
            else:
                out.extend(idx.get(k, ()))
        if len(kinds) > 1:
            out.sort(key=lambda e: (e.origin.artifact, e.origin.line or 0, e.origin.record or 0))
        return out

    def line_text(self, artifact: str, line: int | None, limit: int = 500) -> str:
        """The text of one line of a text artifact, as written (for quoting what a step cites)."""
        if line is None:
            return ""
        for a in self.ws.artifacts:
            if a.name == artifact and a.source.is_text:
                from culprit.parsers.base import ParseContext

                for n, _off, text in a.source.lines(ParseContext(a.name)):
                    if n == line:
                        return text.strip()[:limit]
                    if n > line:
                        break
        return ""

    def has(self, kind_prefix: str, role: str = "bad") -> bool:
        return any(a.kind == kind_prefix for a in self.ws.artifacts if a.role == role)

    def artifacts(self, *kinds: str, role: str = "bad") -> list[Artifact]:
        return [a for a in self.ws.artifacts if a.role == role and a.kind in kinds]

    # --- Procmon captures -------------------------------------------------------------------

    def captures(self, role: str = "bad") -> list[CaptureRef]:
        if role in self._caps:
            return self._caps[role]
        from culprit.parsers.procmon import open_capture

        groups: dict[tuple[str, str], dict[str, Artifact]] = defaultdict(dict)
        for a in self.ws.artifacts:
            if a.role == role and a.kind in PROCMON_KINDS:
                p = PurePosixPath(a.name)
                groups[(str(p.parent).lower(), p.stem.lower())][a.kind] = a
        refs: list[CaptureRef] = []
        for _key, kinds in sorted(groups.items()):
            main = kinds.get("procmon") or kinds["procmon-csv"]
            try:
                cap = open_capture(main.source.path, main.name, utc_offset=self.ws.utc_offset)
            except Exception as e:  # a damaged capture is reported, the rest goes on
                self.warnings.append((main.name, f"capture not read: {e}"))
                continue
            main.known_count = len(cap)
            csv = kinds.get("procmon-csv") if main.kind == "procmon" else None
            csv_name = None
            if csv is not None:
                n = _csv_records(csv)
                csv.known_count = n
                csv_name = csv.name if n == len(cap) else None
            for w in getattr(cap, "warnings", ()) or ():
                self.warnings.append((main.name, str(getattr(w, "message", w))))
            refs.append(CaptureRef(main.name, role, cap, csv_name))
        self._caps[role] = refs
        return refs

    def close(self) -> None:
        for refs in self._caps.values():
            for r in refs:
                with contextlib.suppress(Exception):
                    r.cap.close()

    # --- derived tables ---------------------------------------------------------------------

    @cached_property
    def infs(self) -> dict[str, dict[str, Any]]:
        """INF files of the bundle: name (lower) → services, files, keys, includes, artifact."""
        out: dict[str, dict[str, Any]] = {}
        for role in ("bad", "good"):
            for ev in self.events("inf:service", "inf:file", "inf:addreg", "inf:include", role=role):
                name = str(ev.get("fields.inf") or PurePosixPath(ev.origin.artifact).name).lower()
                d = out.setdefault(
                    name,
                    {"services": {}, "files": {}, "keys": {}, "includes": [], "artifact": ev.origin.artifact},
                )
                if ev.kind == "inf:include":
                    d["includes"].append(ev)
                    continue
                if ev.kind == "inf:addreg":
                    if ev.get("fields.key"):
                        d["keys"].setdefault(str(ev.get("fields.key")).lower(), ev)
                    continue
                if ev.kind == "inf:service" and ev.get("fields.service"):
                    d["services"].setdefault(str(ev.get("fields.service")).lower(), ev)
                elif ev.kind == "inf:file" and (ev.get("fields.destination") or ev.get("fields.file")):
                    key = str(ev.get("fields.destination") or ev.get("fields.file")).lower()
                    d["files"].setdefault(key, ev)
        return out


_MARKS = {"Process Create": "start", "Process Start": "start", "Load Image": "load", "Process Exit": "exit"}


def _mark(ev: Event) -> str:
    if ev.get("fields.result") == "ACCESS DENIED":
        return "denied"
    return _MARKS.get(str(ev.get("fields.operation") or ""), "info")


def _csv_records(csv: Artifact) -> int:
    """Events in a Procmon CSV export: CRLF-terminated records less the header.

    Procmon ends every record with CRLF; Detail values may hold bare CRs but never CRLF, so this
    counts records without parsing them.
    """
    n = 0
    tail = b""
    with csv.source.open() as fp:
        while chunk := fp.read(1 << 20):
            n += (tail + chunk[:1]).count(b"\r\n") + chunk.count(b"\r\n")
            tail = chunk[-1:]
    return max(n - 1, 0)


_ROOTS = (
    ("hkey_local_machine\\", "hklm\\"),
    ("hkey_current_user\\", "hkcu\\"),
    ("hkey_classes_root\\", "hkcr\\"),
    ("hkey_users\\", "hku\\"),
    ("\\registry\\machine\\", "hklm\\"),
    ("registry::", ""),
)


def norm_path(p: str | None) -> str:
    """Case-folded Windows path or registry key with one spelling, for comparisons.

    Registry roots are abbreviated (``HKEY_LOCAL_MACHINE`` → ``hklm``) and ``ControlSet001`` reads as
    ``CurrentControlSet``, so a key written by an installer log, Procmon and Get-Acl compares equal.
    """
    s = (p or "").replace("/", "\\").rstrip("\\").casefold()
    for long, short in _ROOTS:
        if s.startswith(long):
            s = short + s[len(long) :]
    return s.replace("hklm\\system\\controlset001\\", "hklm\\system\\currentcontrolset\\")


def basename(p: str | None) -> str:
    return (p or "").replace("/", "\\").rsplit("\\", 1)[-1]


def first(items: Iterable[Any]) -> Any:
    for x in items:
        return x
    return None
