"""PML (Process Monitor log, version 9) file structures: header, string table, process table, event header.

Format: Sysinternals Process Monitor backing file (``*.PML``), written by ``Procmon.exe`` wherever the user
saves a capture (default ``%TEMP%`` while capturing). Binary, little-endian; strings are UTF-16LE.

Layout (offsets in the 0x3A8-byte header)::

    0x000 "PML_"  0x004 u32 version (9)  0x008 u32 is64bit  0x00C wchar[16] computer  0x02C wchar[260] root
    0x234 u32 event count  0x240 u64 first event  0x248 u64 event-offset array  0x250 u64 process table
    0x258 u64 string table  0x260 u64 icon table  0x274 u32 major  0x278 minor  0x27C build  0x284 CSD
    0x38C u32 CPUs  0x390 u64 RAM  0x398 u64 header size  0x3A0 u64 hosts-and-ports tables

A main offset of 0 means Procmon did not close the capture cleanly. Event offsets are 5 bytes each
(u32 offset, u8 flags). The fixed 0x34-byte event header is described by :data:`EVENT_DTYPE`; after it come
``depth`` stack frames (PVOIDs), the detail block, and optionally (at ``extra_offset`` from the event start) a
u16-sized extra-detail block.

References: eronnen/procmon-parser ``docs/PML Format.md`` (reverse-engineered layout, MIT);
``shared/docs/formats.md`` §7.1.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np

MAGIC = b"PML_"
HEADER_SIZE = 0x3A8
EVENT_HEADER_SIZE = 0x34
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
TICKS_PER_SECOND = 10_000_000

# The fixed event header (0x34 bytes), read in bulk for every event.
EVENT_DTYPE = np.dtype(
    [
        ("process_index", "<u4"),
        ("tid", "<u4"),
        ("event_class", "<u4"),
        ("operation", "<u2"),
        ("_pad0", "<u2"),
        ("_pad1", "<u4"),
        ("duration", "<u8"),
        ("time", "<u8"),
        ("result", "<u4"),
        ("depth", "<u2"),
        ("_pad2", "<u2"),
        ("detail_size", "<u4"),
        ("extra_offset", "<u4"),
    ]
)
assert EVENT_DTYPE.itemsize == EVENT_HEADER_SIZE
OFFSET_DTYPE = np.dtype([("offset", "<u4"), ("flags", "u1")])


class PmlError(ValueError):
    """The file is not a PML capture at all (bad magic, unknown version, too short)."""


def filetime(ticks: int) -> datetime | None:
    """A FILETIME (100 ns since 1601, UTC) as an aware datetime, or None for 0 / out of range."""
    if not ticks:
        return None
    try:
        return FILETIME_EPOCH + timedelta(microseconds=ticks // 10)
    except OverflowError:
        return None


@dataclass(frozen=True, slots=True)
class Header:
    """The PML header: machine, OS and where the tables are."""

    version: int
    is64: bool
    computer: str
    system_root: str
    event_count: int
    events_offset: int
    event_offsets_offset: int
    process_table_offset: int
    string_table_offset: int
    icon_table_offset: int
    os_major: int
    os_minor: int
    os_build: int
    service_pack: str
    cpus: int
    ram: int
    hosts_offset: int

    @property
    def pointer_size(self) -> int:
        return 8 if self.is64 else 4

    @property
    def closed_cleanly(self) -> bool:
        return all(
            (
                self.events_offset,
                self.event_offsets_offset,
                self.process_table_offset,
                self.string_table_offset,
            )
        )


def _wstr(raw: bytes) -> str:
    text = raw.decode("utf-16-le", "replace")
    end = text.find("\x00")
    return text if end < 0 else text[:end]


def read_header(buf: bytes | memoryview) -> Header:
    """Decode the 0x3A8-byte header.

    Raises:
        PmlError: not a PML file, an unsupported version, or shorter than the header.
    """
    if len(buf) < 8 or bytes(buf[:4]) != MAGIC:
        raise PmlError("not a Process Monitor capture (no PML_ signature)")
    version = struct.unpack_from("<I", buf, 4)[0]
    if version != 9:
        raise PmlError(f"PML version {version} is not supported (only 9)")
    if len(buf) < HEADER_SIZE:
        raise PmlError(f"PML header truncated ({len(buf)} of {HEADER_SIZE} bytes)")
    is64 = struct.unpack_from("<I", buf, 8)[0]
    count = struct.unpack_from("<I", buf, 0x234)[0]
    ev, arr, proc, strs, icon = struct.unpack_from("<5Q", buf, 0x240)
    major, minor, build = struct.unpack_from("<III", buf, 0x274)
    cpus = struct.unpack_from("<I", buf, 0x38C)[0]
    ram = struct.unpack_from("<Q", buf, 0x390)[0]
    hosts = struct.unpack_from("<Q", buf, 0x3A0)[0]
    return Header(
        version=version,
        is64=bool(is64),
        computer=_wstr(bytes(buf[0x0C:0x2C])),
        system_root=_wstr(bytes(buf[0x2C:0x234])),
        event_count=count,
        events_offset=ev,
        event_offsets_offset=arr,
        process_table_offset=proc,
        string_table_offset=strs,
        icon_table_offset=icon,
        os_major=major,
        os_minor=minor,
        os_build=build,
        service_pack=_wstr(bytes(buf[0x284:0x384])),
        cpus=cpus,
        ram=ram,
        hosts_offset=hosts,
    )


def read_strings(buf: bytes | memoryview, start: int, warn: list[str]) -> list[str]:
    """The string table: u32 n, u32[n] offsets from the table start, each u32 byte length + UTF-16LE."""
    size = len(buf)
    if start + 4 > size:
        warn.append("string table offset is past the end of the file: process names are unknown")
        return []
    n = struct.unpack_from("<I", buf, start)[0]
    if start + 4 + 4 * n > size:
        warn.append(f"string table truncated ({n:,} strings declared): process names are unknown")
        return []
    offs = np.frombuffer(buf, dtype="<u4", count=n, offset=start + 4)
    out: list[str] = []
    bad = 0
    for o in offs.tolist():
        text, ok = string_at(buf, start + o)
        out.append(text)
        bad += not ok
    if bad:
        warn.append(f"string table: {bad:,} string(s) point past the end of the file")
    return out


def string_at(buf: bytes | memoryview, p: int) -> tuple[str, bool]:
    """The string-table entry at ``p`` (u32 byte length + UTF-16LE), and whether it was whole."""
    size = len(buf)
    if p + 4 > size:
        return "", False
    ln = struct.unpack_from("<I", buf, p)[0]
    whole = p + 4 + ln <= size
    if not whole:
        ln = max(0, size - p - 4)
    return _wstr(bytes(buf[p + 4 : p + 4 + ln])), whole


class Module(NamedTuple):
    """One module loaded in a process (a DLL/EXE, or a driver in the System process)."""

    base: int
    size: int
    path: str
    version: str
    company: str
    description: str

    @property
    def name(self) -> str:
        return self.path.replace("/", "\\").rsplit("\\", 1)[-1]


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """One process of the capture's process table (PML) or seen in a CSV export."""

    index: int
    pid: int
    parent_pid: int | None
    name: str
    image_path: str = ""
    command_line: str = ""
    company: str = ""
    version: str = ""
    description: str = ""
    user: str = ""
    integrity: str = ""
    is64: bool | None = None
    start: datetime | None = None
    end: datetime | None = None
    session: int | None = None
    auth_id: int | None = None
    virtualized: bool | None = None
    modules: list[Module] = field(default_factory=list)

    @property
    def architecture(self) -> str | None:
        return None if self.is64 is None else ("64-bit" if self.is64 else "32-bit")

    def module_at(self, address: int) -> Module | None:
        """The module whose image contains ``address``, if any."""
        for m in self.modules:
            if m.base <= address < m.base + m.size:
                return m
        return None


_PROC = struct.Struct("<IIIIQIIQQII8I2I")  # up to the PVOID before the module count
PROCESS_NAME_AT = struct.calcsize("<IIIIQIIQQII2I")  # the name's string index: after integrity, user
PROCESS_FIXED = _PROC.size  # then a PVOID, the u32 module count and the module records


def module_struct(is64: bool) -> struct.Struct:
    """One module record's fields (24 more bytes follow each record)."""
    return struct.Struct("<QQI4II" if is64 else "<III4II")


MODULE_PAD = 24


def read_processes(
    buf: bytes | memoryview, start: int, strings: list[str], is64: bool, warn: list[str]
) -> list[ProcessRecord]:
    """The process table: u32 n, u32[n] indexes, u32[n] offsets (from the table start), then records."""
    size = len(buf)
    if start + 4 > size:
        warn.append("process table offset is past the end of the file: process names are unknown")
        return []
    n = struct.unpack_from("<I", buf, start)[0]
    if start + 4 + 8 * n > size:
        warn.append(f"process table truncated ({n:,} processes declared): process names are unknown")
        return []
    offs = np.frombuffer(buf, dtype="<u4", count=n, offset=start + 4 + 4 * n).tolist()
    ps = 8 if is64 else 4
    mod = module_struct(is64)
    mod_size = mod.size + MODULE_PAD

    def s(i: int) -> str:
        return strings[i] if 0 <= i < len(strings) else ""

    out: list[ProcessRecord] = []
    bad = 0
    for o in offs:
        p = start + o
        try:
            (
                idx,
                pid,
                ppid,
                _u1,
                auth,
                session,
                _u2,
                t0,
                t1,
                virt,
                is64p,
                integ,
                user,
                name,
                image,
                cmd,
                company,
                version,
                desc,
                _i1,
                _i2,
            ) = _PROC.unpack_from(buf, p)
            p += _PROC.size + ps
            count = struct.unpack_from("<I", buf, p)[0]
            p += 4
            if p + count * mod_size > size:
                raise struct.error("module list past the end")
            modules = []
            for _ in range(count):
                _unk, base, msize, mpath, mver, mcomp, mdesc, _ts = mod.unpack_from(buf, p)
                p += mod_size
                modules.append(Module(base, msize, s(mpath), s(mver), s(mcomp), s(mdesc)))
        except struct.error:
            bad += 1
            continue
        out.append(
            ProcessRecord(
                index=idx,
                pid=pid,
                parent_pid=ppid,
                name=s(name),
                image_path=s(image),
                command_line=s(cmd),
                company=s(company),
                version=s(version),
                description=s(desc),
                user=s(user),
                integrity=s(integ),
                is64=bool(is64p),
                start=filetime(t0),
                end=filetime(t1),
                session=session,
                auth_id=auth,
                virtualized=bool(virt),
                modules=modules,
            )
        )
    if bad:
        warn.append(f"process table: {bad:,} damaged process record(s) skipped")
    return out


def read_hosts_ports(
    buf: bytes | memoryview, start: int
) -> tuple[dict[bytes, str], dict[tuple[int, bool], str]]:
    """The hostname table (16-byte IP → name) and port table ((port, is_tcp) → name) at the end of the file."""
    hosts: dict[bytes, str] = {}
    ports: dict[tuple[int, bool], str] = {}
    try:
        p = start
        n = struct.unpack_from("<I", buf, p)[0]
        p += 4
        for _ in range(n):
            ip = bytes(buf[p : p + 16])
            ln = struct.unpack_from("<I", buf, p + 16)[0]
            hosts[ip] = _wstr(bytes(buf[p + 20 : p + 20 + ln]))
            p += 20 + ln
        n = struct.unpack_from("<I", buf, p)[0]
        p += 4
        for _ in range(n):
            port, tcp, ln = struct.unpack_from("<HHI", buf, p)
            ports[(port, bool(tcp))] = _wstr(bytes(buf[p + 8 : p + 8 + ln]))
            p += 8 + ln
    except struct.error:
        pass
    return hosts, ports
