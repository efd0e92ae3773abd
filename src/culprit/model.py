"""The data model every part of culprit speaks: events in, findings out.

Events are what parsers yield; the analysis reads only events and the knowledge base and
returns an :class:`Analysis`; renderers read only the Analysis. All records are frozen.

Times: ``Event.time`` is always timezone-aware UTC (or ``None`` when the record has no
time). Logs that Windows writes in local time also keep the naive ``local_time`` they were
read from and the ``utc_offset`` (minutes east of UTC) used to convert it, so a reader can
always get back to the exact text of the log.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SCHEMA = "culprit.analysis/1"


class Severity(enum.IntEnum):
    """How bad a single event is, as its own log says (not our verdict)."""

    DEBUG = 10
    INFO = 20
    WARNING = 30
    ERROR = 40

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an event came from, precisely enough for a person to open it.

    Attributes:
        artifact: the artifact's display path (bundle name + path inside the bundle,
            forward slashes), e.g. ``bad/Windows/Logs/CBS/CBS.log``.
        line: 1-based line number of the record's first line in the decoded text, if text.
        record: 0-based record index for binary formats (PML event index, EVTX record id).
        offset: byte offset of the record in the artifact (decoded-file bytes).
        text: the raw text of the record (one line, or the record's text rendering),
            truncated to a bounded length.
    """

    artifact: str
    line: int | None = None
    record: int | None = None
    offset: int | None = None
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"artifact": self.artifact}
        if self.line is not None:
            d["line"] = self.line
        if self.record is not None:
            d["event"] = self.record
        if self.text:
            d["text"] = self.text
        return d


@dataclass(frozen=True, slots=True)
class Process:
    """The process an event is about or was written by."""

    name: str | None = None
    pid: int | None = None
    tid: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("name", self.name), ("pid", self.pid), ("tid", self.tid)) if v is not None}


@dataclass(frozen=True, slots=True)
class Event:
    """One parsed record of one artifact.

    Attributes:
        kind: colon-namespaced record type, e.g. ``cbs:line``, ``setupapi:section``.
        origin: where it came from.
        time: UTC time (aware) or None.
        local_time: the naive local time as written in the log, for local-time formats.
        utc_offset: minutes east of UTC used to turn ``local_time`` into ``time``.
        severity: the log's own severity.
        process: writer or subject process.
        code: the status code the record carries (HRESULT/Win32/NTSTATUS/MSI), as an
            unsigned 32-bit int where it is an HRESULT or NTSTATUS.
        message: a one-line human message.
        fields: canonical, format-specific fields (see each parser's docstring).
    """

    kind: str
    origin: Origin
    time: datetime | None = None
    local_time: datetime | None = None
    utc_offset: int | None = None
    severity: Severity = Severity.INFO
    process: Process | None = None
    code: int | None = None
    message: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)

    def get(self, path: str, default: Any = None) -> Any:
        """Look a value up by dotted path (``fields.inf``, ``process.pid``, ``origin.line``).

        This is the one way rules read events, so rules never need format-specific code.
        """
        head, _, rest = path.partition(".")
        if head == "fields":
            cur: Any = self.fields
        elif head in ("kind", "time", "local_time", "utc_offset", "severity", "code", "message"):
            cur = getattr(self, head)
            if not rest:
                return cur
        elif head in ("process", "origin"):
            cur = getattr(self, head)
        else:
            cur = self.fields
            rest = path
            if head in ("line", "record", "event", "artifact", "offset") and "." not in path and head not in self.fields:
                # the columns a table shows are usable by their shown names
                return getattr(self.origin, "record" if head == "event" else head, None) or default
        for part in rest.split(".") if rest else ():
            if cur is None:
                return default
            cur = cur.get(part, None) if isinstance(cur, Mapping) else getattr(cur, part, None)
        return default if cur is None else cur

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind,
            "time": iso(self.time),
            "severity": str(self.severity),
            "origin": self.origin.to_dict(),
            "message": self.message,
        }
        if self.local_time is not None:
            d["local_time"] = self.local_time.isoformat()
            d["utc_offset"] = self.utc_offset
        if self.process is not None:
            d["process"] = self.process.to_dict()
        if self.code is not None:
            d["code"] = hex32(self.code)
        if self.fields:
            d["fields"] = jsonable(self.fields)
        return d


@dataclass(frozen=True, slots=True)
class Warning_:
    """A problem met while reading input: shown in every report, never swallowed."""

    artifact: str
    message: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"artifact": self.artifact, "message": self.message}
        if self.line is not None:
            d["line"] = self.line
        return d


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """What the pipeline knows about one input file after reading it."""

    path: str
    kind: str | None
    size: int
    sha256: str
    encoding: str | None = None
    events: int = 0
    warnings: int = 0
    skipped: str | None = None  # why it was not parsed, if it was not

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "events": self.events,
            "warnings": self.warnings,
            "size": self.size,
            "sha256": self.sha256,
        }
        if self.encoding:
            d["encoding"] = self.encoding
        if self.skipped:
            d["skipped"] = self.skipped
        return d


# --- analysis results -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """Something that failed: a KB, an MSI, an Edge install, a driver package."""

    target: str
    code: int | None
    origin: Origin
    symbol: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"target": self.target}
        d.update(jsonable(self.extra))
        d["code"] = format_code(self.code)
        d["symbol"] = self.symbol or None
        d["artifact"] = self.origin.artifact
        if self.origin.line is not None:
            d["line"] = self.origin.line
        if self.origin.record is not None:
            d["event"] = self.origin.record
        if self.origin.text:
            d["text"] = self.origin.text
        return d


@dataclass(frozen=True, slots=True)
class Culprit:
    """The module or driver that blocked the install, and whose it is."""

    module: str
    role: str  # injected-module | injector-process | kernel-driver | filesystem-filter | service | other
    product: str | None = None
    vendor: str | None = None
    path: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"module": self.module, "product": self.product, "vendor": self.vendor,
                             "role": self.role}
        if self.path:
            d["path"] = self.path
        d.update(jsonable(self.extra))
        return d


@dataclass(frozen=True, slots=True)
class Step:
    """One link of a causal chain, pointing at its evidence."""

    summary: str
    origin: Origin
    alt: Origin | None = None  # the same record elsewhere (a PML event's line in Procmon's CSV export)
    summary_zh: str | None = None
    time: datetime | None = None  # UTC time of the cited record, when it has one
    mark: str | None = None  # start | load | denied | exit | fail | info (for timelines)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"summary": self.summary}
        if self.summary_zh:
            d["summary_zh"] = self.summary_zh
        d.update(self.origin.to_dict())
        if self.time is not None:
            d["time"] = iso(self.time)
        if self.mark:
            d["mark"] = self.mark
        if self.alt is not None:
            d["csv"] = {"artifact": self.alt.artifact, "line": self.alt.line}
        return d


@dataclass(frozen=True, slots=True)
class AllowRule:
    """One allow-list entry the endpoint agent needs."""

    process: str
    registry_keys: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    no_injection: bool = False
    pattern: str | None = None
    note: str | None = None
    note_zh: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"process": self.process}
        if self.pattern:
            d["pattern"] = self.pattern
        if self.registry_keys:
            d["registry_keys"] = list(self.registry_keys)
        if self.files:
            d["files"] = list(self.files)
        if self.no_injection:
            d["no_injection"] = True
        if self.note:
            d["note"] = self.note
        if self.note_zh:
            d["note_zh"] = self.note_zh
        return d


@dataclass(frozen=True, slots=True)
class Remediation:
    allow: tuple[AllowRule, ...] = ()
    workaround: str | None = None
    fix: str | None = None
    workaround_zh: str | None = None
    fix_zh: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"allow": [a.to_dict() for a in self.allow], "workaround": self.workaround}
        if self.workaround_zh:
            d["workaround_zh"] = self.workaround_zh
        if self.fix:
            d["fix"] = self.fix
        if self.fix_zh:
            d["fix_zh"] = self.fix_zh
        return d


@dataclass(frozen=True, slots=True)
class Missing:
    """A piece of evidence that would close the chain, and exactly how to collect it."""

    artifact: str
    why: str
    how: str
    why_zh: str | None = None
    how_zh: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)  # what the request is about (services, keys...)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"artifact": self.artifact, "why": self.why, "how": self.how}
        if self.why_zh:
            d["why_zh"] = self.why_zh
        if self.how_zh:
            d["how_zh"] = self.how_zh
        if self.params:
            d["params"] = jsonable(self.params)
        return d


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    title: str
    confidence: float
    culprit: Culprit | None
    chain: tuple[Step, ...]
    remediation: Remediation = Remediation()
    extra: Mapping[str, Any] = field(default_factory=dict)
    title_zh: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "kind": self.kind,
            "title": self.title,
            **({"title_zh": self.title_zh} if self.title_zh else {}),
            "confidence": round(self.confidence, 2),
            "culprit": self.culprit.to_dict() if self.culprit else None,
            "chain": [s.to_dict() for s in self.chain],
            "remediation": self.remediation.to_dict(),
        }
        d.update(jsonable(self.extra))
        return d


@dataclass(frozen=True, slots=True)
class Analysis:
    """The whole answer for one bundle (plus an optional good bundle)."""

    bundle: str
    artifacts: tuple[ArtifactInfo, ...]
    failures: tuple[Failure, ...] = ()
    findings: tuple[Finding, ...] = ()
    missing: tuple[Missing, ...] = ()
    warnings: tuple[Warning_, ...] = ()
    good: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bundle: dict[str, Any] = {"path": self.bundle, "artifacts": [a.to_dict() for a in self.artifacts]}
        if self.good:
            bundle["good"] = self.good
        d: dict[str, Any] = {
            "schema": SCHEMA,
            "bundle": bundle,
            "failures": [f.to_dict() for f in self.failures],
            "findings": [f.to_dict() for f in self.findings],
            "missing": [m.to_dict() for m in self.missing],
            "warnings": [w.to_dict() for w in self.warnings],
        }
        d.update(jsonable(self.extra))
        return d


# --- helpers ------------------------------------------------------------------------------


def iso(t: datetime | None) -> str | None:
    """ISO 8601 with a ``Z`` for UTC, or None."""
    if t is None:
        return None
    s = t.isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def hex32(code: int) -> str:
    return f"0x{code & 0xFFFFFFFF:08X}"


def format_code(code: int | None) -> str | None:
    """HRESULT/NTSTATUS-looking codes as hex, small ones (Win32, MSI) as decimal."""
    if code is None:
        return None
    if code < 0 or code > 0xFFFF:
        return hex32(code)
    return str(code)


def jsonable(value: Any) -> Any:
    """Turn field values (datetimes, tuples, enums, nested mappings) into JSON types."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, enum.Enum):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value
