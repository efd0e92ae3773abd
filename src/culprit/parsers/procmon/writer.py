"""A PML (Process Monitor log, version 9) writer for exact, small test fixtures and benchmark captures.

Format: the Sysinternals Process Monitor backing file, as read by :mod:`culprit.parsers.procmon.pml` (and by
Procmon and eronnen/procmon-parser): little-endian, UTF-16LE strings, UTC FILETIMEs, 32- or 64-bit pointers.
Files written here exist only in tests and benchmarks; Procmon writes real ones wherever the user saves.

Layout written: header (0x3A8) | events | event-offset array | process table | string table | icon table
(empty) | hostname and port tables. Supported operations (with their detail keywords):

* ``Process Create`` (``pid``, ``command_line``; ``path`` = image), ``Process Start`` (``parent_pid``,
  ``command_line``, ``current_directory``, ``environment``), ``Process Exit`` (``exit_status``,
  ``user_time``, ``kernel_time``, ``private_bytes``, ``peak_private_bytes``, ``working_set``,
  ``peak_working_set``), ``Thread Create`` (``thread_id``), ``Thread Exit`` (``user_time``, ``kernel_time``),
  ``Load Image`` (``image_base``, ``image_size``; ``path``)
* ``RegOpenKey`` / ``RegCreateKey`` (``desired_access``, ``granted_access``, ``disposition``), ``RegSetValue``
  / ``RegQueryValue`` (``type``, ``data``, ``length``), ``RegCloseKey``, ``RegDeleteKey``, ``RegDeleteValue``
* ``CreateFile`` (``desired_access``, ``disposition``, ``options``, ``attributes``, ``share_mode``,
  ``allocation_size``, ``open_result``), ``ReadFile`` / ``WriteFile`` (``offset``, ``length``, ``io_flags``,
  ``priority``), ``CloseFile``

Every event may carry ``result`` (NTSTATUS or Procmon's name), ``tid``, ``time``, ``duration`` and ``stack``
(raw addresses; give the processes module lists so they resolve).

Example::

    w = PmlWriter()
    system = w.add_process(4, "System", modules=[Module(0xFFFFF80000000000, 0x800000,
                           r"C:\\Windows\\system32\\ntoskrnl.exe", "10.0", "Microsoft Corporation", "NT Kernel")])
    reg = w.add_process(4100, "reg.exe", image_path=r"C:\\Windows\\system32\\reg.exe", parent_pid=3000)
    w.add_event(reg, "RegSetValue", r"HKLM\\System\\CurrentControlSet\\Services\\AmdK8\\Start",
                result="ACCESS DENIED", type="REG_DWORD", data=3, stack=[0xFFFFF80000012345])
    w.write("fixture.pml")

References: eronnen/procmon-parser ``docs/PML Format.md`` (layout facts, MIT); ``shared/docs/formats.md`` §7.1.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from culprit.parsers.procmon import consts as C
from culprit.parsers.procmon.structs import EVENT_HEADER_SIZE, FILETIME_EPOCH, HEADER_SIZE, Module

__all__ = ["Module", "PmlWriter", "WriterError"]

_OPS: dict[str, tuple[int, int]] = {}
for _cls in (C.PROCESS, C.REGISTRY, C.FILE_SYSTEM):
    for _num, _name in C.OPERATIONS[_cls].items():
        _OPS.setdefault(_name, (_cls, _num))
SUPPORTED = (
    "Process Create",
    "Process Start",
    "Process Exit",
    "Thread Create",
    "Thread Exit",
    "Load Image",
    "RegOpenKey",
    "RegCreateKey",
    "RegSetValue",
    "RegQueryValue",
    "RegCloseKey",
    "RegDeleteKey",
    "RegDeleteValue",
    "CreateFile",
    "ReadFile",
    "WriteFile",
    "CloseFile",
)
DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


class WriterError(ValueError):
    """An event the writer cannot encode (unknown operation, bad value)."""


def to_filetime(t: datetime | int | None) -> int:
    """A datetime (aware, or naive meaning UTC) or raw ticks as a FILETIME."""
    if t is None:
        return 0
    if isinstance(t, int):
        return t
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    d = t - FILETIME_EPOCH
    return (d.days * 86400 + d.seconds) * 10_000_000 + d.microseconds * 10


def _info(s: str) -> bytes:
    if len(s) > 0x7FFF:
        raise WriterError("detail string longer than 32767 characters")
    return struct.pack("<H", len(s))


def _w(s: str) -> bytes:
    return s.encode("utf-16-le")


def _mask(value: int | str, table: Iterable[tuple[int, str]], what: str) -> int:
    if isinstance(value, int):
        return value
    for v, n in table:
        if n == value:
            return v
    raise WriterError(f"unknown {what} {value!r}")


def _lookup(value: int | str, names: dict[int, str], what: str) -> int:
    if isinstance(value, int):
        return value
    for k, v in names.items():
        if v == value:
            return k
    raise WriterError(f"unknown {what} {value!r}")


@dataclass
class _Proc:
    index: int
    pid: int
    parent_pid: int
    name: str
    image_path: str
    command_line: str
    company: str
    version: str
    description: str
    user: str
    integrity: str
    is64: bool
    start: int
    end: int
    session: int
    auth_id: int
    modules: list[Module] = field(default_factory=list)


@dataclass
class _Event:
    process: int
    tid: int
    klass: int
    op: int
    duration: int
    time: int
    result: int
    stack: list[int]
    detail: bytes
    extra: bytes | None


class PmlWriter:
    """Builds a PML capture in memory and writes it.

    Args:
        is64: write a 64-bit capture (8-byte pointers) or a 32-bit one.
        computer: the computer name in the header.
        system_root: the system root in the header.
        os_version: ``(major, minor, build)``.
    """

    def __init__(
        self,
        is64: bool = True,
        computer: str = "CULPRIT-TEST",
        system_root: str = "C:\\Windows",
        os_version: tuple[int, int, int] = (10, 0, 19041),
    ) -> None:
        self.is64 = is64
        self.ps = 8 if is64 else 4
        self.computer = computer
        self.system_root = system_root
        self.os_version = os_version
        self.processes: list[_Proc] = []
        self.events: list[_Event] = []
        self.hosts: dict[bytes, str] = {}
        self.ports: dict[tuple[int, bool], str] = {}
        self._next_time = to_filetime(DEFAULT_START)

    # --- processes --------------------------------------------------------------------------------------------

    def add_process(
        self,
        pid: int,
        name: str,
        *,
        image_path: str = "",
        command_line: str = "",
        parent_pid: int = 0,
        company: str = "",
        version: str = "",
        description: str = "",
        user: str = "NT AUTHORITY\\SYSTEM",
        integrity: str = "System",
        is64: bool | None = None,
        start: datetime | int | None = None,
        end: datetime | int | None = None,
        session: int = 0,
        auth_id: int = 0x3E7,
        modules: Sequence[Module | tuple] = (),
    ) -> int:
        """Add a process (with its module list) and return its index for :meth:`add_event`."""
        mods = [m if isinstance(m, Module) else Module(*m) for m in modules]
        idx = len(self.processes)
        self.processes.append(
            _Proc(
                idx,
                pid,
                parent_pid,
                name,
                image_path or name,
                command_line,
                company,
                version,
                description,
                user,
                integrity,
                self.is64 if is64 is None else is64,
                to_filetime(start),
                to_filetime(end),
                session,
                auth_id,
                mods,
            )
        )
        return idx

    # --- events -----------------------------------------------------------------------------------------------

    def add_event(
        self,
        process: int,
        operation: str,
        path: str = "",
        *,
        result: int | str = 0,
        tid: int | None = None,
        time: datetime | int | None = None,
        duration: int = 0,
        stack: Sequence[int] = (),
        **detail: Any,
    ) -> int:
        """Add one event and return its index.

        Args:
            process: index returned by :meth:`add_process`.
            operation: Procmon's operation name (one of :data:`SUPPORTED`).
            path: the Path column (image path for Process Create / Load Image).
            result: NTSTATUS, or Procmon's name (``"ACCESS DENIED"``).
            tid: thread id (default: the process id + 4).
            time: event time (default: 1 ms after the previous event).
            duration: 100 ns ticks.
            stack: raw return addresses, innermost first.
            **detail: the operation's detail values (see the module docstring).

        Raises:
            WriterError: unsupported operation or undecodable value.
        """
        if operation not in SUPPORTED:
            raise WriterError(f"operation {operation!r} is not supported (one of {', '.join(SUPPORTED)})")
        if not 0 <= process < len(self.processes):
            raise WriterError(f"no process {process}")
        klass, op = _OPS[operation]
        status = result if isinstance(result, int) else C.NAME_TO_RESULT.get(result)
        if status is None:
            raise WriterError(f"unknown result name {result!r}")
        encoder = {
            C.PROCESS: self._process_detail,
            C.REGISTRY: self._registry_detail,
            C.FILE_SYSTEM: self._file_detail,
        }[klass]
        det, extra = encoder(operation, path, status, detail)
        ticks = to_filetime(time) if time is not None else self._next_time
        self._next_time = ticks + 10_000
        p = self.processes[process]
        self.events.append(
            _Event(
                process,
                p.pid + 4 if tid is None else tid,
                klass,
                op,
                duration,
                ticks,
                status & 0xFFFFFFFF,
                list(stack),
                det,
                extra,
            )
        )
        return len(self.events) - 1

    def _ptr(self, v: int) -> bytes:
        return struct.pack("<Q" if self.is64 else "<I", v)

    def _process_detail(
        self, op: str, path: str, status: int, d: dict[str, Any]
    ) -> tuple[bytes, bytes | None]:
        if op == "Process Create":
            cmd = d.get("command_line", "")
            return (
                struct.pack("<II", 0, d.get("pid", 0))
                + bytes(0x24)
                + b"\x00\x00"
                + _info(path)
                + _info(cmd)
                + b"\x00\x00"
                + _w(path)
                + _w(cmd)
            ), None
        if op == "Process Start":
            cmd = d.get("command_line", "")
            cwd = d.get("current_directory", "")
            env = "".join(f"{e}\x00" for e in d.get("environment", ())) + "\x00"
            return (
                struct.pack("<I", d.get("parent_pid", 0))
                + _info(cmd)
                + _info(cwd)
                + struct.pack("<I", len(env))
                + _w(cmd)
                + _w(cwd)
                + _w(env)
            ), None
        if op == "Process Exit":
            return struct.pack(
                "<IQQQQQQ",
                d.get("exit_status", 0) & 0xFFFFFFFF,
                d.get("kernel_time", 0),
                d.get("user_time", 0),
                d.get("working_set", 0),
                d.get("peak_working_set", 0),
                d.get("private_bytes", 0),
                d.get("peak_private_bytes", 0),
            ), None
        if op == "Thread Create":
            return struct.pack("<I", d.get("thread_id", 0)), None
        if op == "Thread Exit":
            return struct.pack("<IQQ", 0, d.get("kernel_time", 0), d.get("user_time", 0)), None
        # Load Image
        return (
            self._ptr(d.get("image_base", 0))
            + struct.pack("<I", d.get("image_size", 0))
            + _info(path)
            + b"\x00\x00"
            + _w(path)
        ), None

    def _registry_detail(
        self, op: str, path: str, status: int, d: dict[str, Any]
    ) -> tuple[bytes, bytes | None]:
        head = _info(path)
        if op in ("RegOpenKey", "RegCreateKey"):
            access = _mask(d.get("desired_access", 0x20019), C.REGISTRY_ACCESS, "registry access")
            extra = None
            disp = d.get("disposition")
            if disp is not None or "granted_access" in d:
                granted = _mask(d.get("granted_access", access), C.REGISTRY_ACCESS, "registry access")
                extra = struct.pack("<II", granted, _lookup(disp or 0, C.REG_DISPOSITIONS, "disposition"))
            return head + struct.pack("<HI", 0, access) + _w(path), extra
        if op in ("RegSetValue", "RegQueryValue"):
            tname = d.get("type", "REG_SZ")
            rtype = _lookup(tname, C.REG_TYPES, "registry type")
            data = self._reg_data(C.REG_TYPES.get(rtype, ""), d.get("data"))
            length = d.get("length", len(data))
            if op == "RegSetValue":
                shown = data[: min(len(data), 0xFFFF)]
                return head + struct.pack("<HIIHH", 0, rtype, length, len(shown), 0) + _w(path) + shown, None
            if "data" not in d and "type" not in d:  # a failed query: Procmon shows only the length
                return head + struct.pack("<HII", 0, length, 2) + _w(path), None
            extra = struct.pack("<III", 0, rtype, len(data)) + data
            return head + struct.pack("<HII", 0, length, 2) + _w(path), extra
        return head + _w(path), None

    @staticmethod
    def _reg_data(tname: str, data: Any) -> bytes:
        if data is None:
            return b""
        if isinstance(data, bytes):
            return data
        if tname in ("REG_DWORD",):
            return struct.pack("<I", int(data) & 0xFFFFFFFF)
        if tname == "REG_QWORD":
            return struct.pack("<Q", int(data))
        if tname == "REG_MULTI_SZ":
            return _w("".join(f"{s}\x00" for s in data) + "\x00")
        return _w(str(data) + "\x00")

    def _file_detail(self, op: str, path: str, status: int, d: dict[str, Any]) -> tuple[bytes, bytes | None]:
        ps = self.ps
        pad = 4 if self.is64 else 0
        block = bytearray(ps * 5 + 0x14)
        tail = b""
        extra = None
        if op == "CreateFile":
            access = _mask(d.get("desired_access", 0x120089), C.FILE_ACCESS, "file access")
            disp = _lookup(d.get("disposition", "Open"), C.FILE_DISPOSITIONS, "disposition")
            opts = d.get("options", 0x60)
            struct.pack_into("<I", block, 0x10 + pad, (disp << 24) | (opts & 0xFFFFFF))
            struct.pack_into("<HH", block, 0x14 + 2 * pad, d.get("attributes", 0), d.get("share_mode", 0x3))
            struct.pack_into("<I", block, 0x18 + 2 * pad + 2 * ps, d.get("allocation_size", 0))
            tail = struct.pack("<IB3x", access, 0)
            res = d.get("open_result", "Opened" if status == 0 else None)
            if res is not None:
                extra = struct.pack("<I", _lookup(res, C.OPEN_RESULTS, "open result"))
        elif op in ("ReadFile", "WriteFile"):
            prio = d.get("priority", 0)
            struct.pack_into("<I", block, 4, (d.get("io_flags", 0) & 0xE000FF) | ((prio & 7) << 0x11))
            struct.pack_into("<I", block, 0xC, d.get("length", 0))
            struct.pack_into("<q", block, 0x14 + 2 * pad, d.get("offset", 0))
        return b"\x00\x00\x00\x00" + bytes(block) + _info(path) + b"\x00\x00" + _w(path) + tail, extra

    # --- output -----------------------------------------------------------------------------------------------

    def _event_bytes(self, e: _Event) -> bytes:
        stack = b"".join(self._ptr(a) for a in e.stack)
        xoff = EVENT_HEADER_SIZE + len(stack) + len(e.detail) if e.extra is not None else 0
        head = struct.pack(
            "<IIIHHIQQIHHII",
            self._raw_index(e.process),
            e.tid,
            e.klass,
            e.op,
            0,
            0,
            e.duration,
            e.time,
            e.result,
            len(e.stack),
            0,
            len(e.detail),
            xoff,
        )
        out = head + stack + e.detail
        if e.extra is not None:
            out += struct.pack("<H", len(e.extra)) + e.extra
        return out

    @staticmethod
    def _raw_index(i: int) -> int:
        return 0x500 + i  # Procmon starts process indexes at an arbitrary value; readers must not assume 0

    def to_bytes(self, repeat: int = 1) -> bytes:
        """The whole capture as bytes (see :meth:`write`)."""
        import io

        buf = io.BytesIO()
        self._write(buf, repeat)
        return buf.getvalue()

    def write(self, path: str | Path, repeat: int = 1) -> Path:
        """Write the capture to ``path``.

        Args:
            path: output file.
            repeat: write the event list this many times (times shifted so they keep increasing);
                for benchmark captures of any size with bounded memory.
        """
        p = Path(path)
        with p.open("wb") as fp:
            self._write(fp, repeat)
        return p

    def _write(self, fp: Any, repeat: int) -> None:
        strings: dict[str, int] = {"": 0}

        def sid(s: str) -> int:
            return strings.setdefault(s, len(strings))

        blob = b"".join(self._event_bytes(e) for e in self.events)
        sizes = np.array([len(self._event_bytes(e)) for e in self.events], dtype=np.int64)
        rel = np.concatenate(([0], np.cumsum(sizes)[:-1])) if len(sizes) else np.zeros(0, np.int64)
        n = len(self.events) * repeat
        fp.write(bytes(HEADER_SIZE))  # placeholder, rewritten at the end
        pos = HEADER_SIZE
        offsets = np.empty(n, dtype=np.int64)
        span = (self.events[-1].time - self.events[0].time + 10_000) if self.events else 0
        time_pos = rel + 0x1C
        cols8 = np.arange(8, dtype=np.int64)
        times = np.array([e.time for e in self.events], dtype="<u8")
        for k in range(repeat):
            if k == 0:
                chunk = blob
            else:
                arr = np.frombuffer(blob, dtype=np.uint8).copy()
                arr[time_pos[:, None] + cols8] = (times + np.uint64(k * span)).view(np.uint8).reshape(-1, 8)
                chunk = arr.tobytes()
            offsets[k * len(self.events) : (k + 1) * len(self.events)] = rel + pos
            fp.write(chunk)
            pos += len(blob)
        if pos + 5 * n > 0xFFFFFFFF:
            raise WriterError("capture too large for 32-bit event offsets")
        arr_off = pos
        rec = np.zeros(n, dtype=[("offset", "<u4"), ("flags", "u1")])
        rec["offset"] = offsets
        fp.write(rec.tobytes())
        pos += 5 * n
        proc_off = pos
        table = self._process_table(sid)
        fp.write(table)
        pos += len(table)
        str_off = pos
        stable = self._string_table(strings)
        fp.write(stable)
        pos += len(stable)
        icon_off = pos
        fp.write(bytes(4))
        pos += 4
        hosts_off = pos
        fp.write(self._hosts_ports())
        fp.seek(0)
        fp.write(self._header(n, arr_off, proc_off, str_off, icon_off, hosts_off))

    def _process_table(self, sid: Any) -> bytes:
        recs = []
        for p in self.processes:
            r = struct.pack(
                "<IIIIQIIQQII",
                self._raw_index(p.index),
                p.pid,
                p.parent_pid,
                0,
                p.auth_id,
                p.session,
                0,
                p.start,
                p.end,
                0,
                int(p.is64),
            )
            r += struct.pack(
                "<8I",
                sid(p.integrity),
                sid(p.user),
                sid(p.name),
                sid(p.image_path),
                sid(p.command_line),
                sid(p.company),
                sid(p.version),
                sid(p.description),
            )
            r += struct.pack("<II", 0, 0) + self._ptr(0) + struct.pack("<I", len(p.modules))
            for m in p.modules:
                r += (
                    self._ptr(0)
                    + self._ptr(m.base)
                    + struct.pack(
                        "<I4II", m.size, sid(m.path), sid(m.version), sid(m.company), sid(m.description), 0
                    )
                    + bytes(24)
                )
            recs.append(r)
        n = len(recs)
        head = 4 + 8 * n
        offs = []
        pos = head
        for r in recs:
            offs.append(pos)
            pos += len(r)
        return (
            struct.pack("<I", n)
            + struct.pack(f"<{n}I", *(self._raw_index(p.index) for p in self.processes))
            + struct.pack(f"<{n}I", *offs)
            + b"".join(recs)
        )

    @staticmethod
    def _string_table(strings: dict[str, int]) -> bytes:
        items = sorted(strings.items(), key=lambda kv: kv[1])
        n = len(items)
        body = b""
        offs = []
        pos = 4 + 4 * n
        for s, _ in items:
            raw = _w(s + "\x00")
            offs.append(pos)
            body += struct.pack("<I", len(raw)) + raw
            pos += 4 + len(raw)
        return struct.pack("<I", n) + struct.pack(f"<{n}I", *offs) + body

    def _hosts_ports(self) -> bytes:
        out = struct.pack("<I", len(self.hosts))
        for ip, name in self.hosts.items():
            raw = _w(name)
            out += ip.ljust(16, b"\x00")[:16] + struct.pack("<I", len(raw)) + raw
        out += struct.pack("<I", len(self.ports))
        for (port, tcp), name in self.ports.items():
            raw = _w(name)
            out += struct.pack("<HHI", port, int(tcp), len(raw)) + raw
        return out

    def _header(self, n: int, arr: int, proc: int, strs: int, icon: int, hosts: int) -> bytes:
        h = bytearray(HEADER_SIZE)
        h[0:4] = b"PML_"
        struct.pack_into("<II", h, 4, 9, int(self.is64))
        h[0x0C:0x2C] = _w(self.computer[:15]).ljust(0x20, b"\x00")
        h[0x2C:0x234] = _w(self.system_root[:259]).ljust(0x208, b"\x00")
        struct.pack_into("<I", h, 0x234, n)
        struct.pack_into("<5Q", h, 0x240, HEADER_SIZE, arr, proc, strs, icon)
        struct.pack_into("<Q", h, 0x268, 0x7FFFFFFEFFFF if self.is64 else 0x7FFEFFFF)
        major, minor, build = self.os_version
        struct.pack_into("<IIIII", h, 0x270, 0x11C, major, minor, build, 2)
        struct.pack_into("<I", h, 0x38C, 2)
        struct.pack_into("<QQQ", h, 0x390, 8 << 30, HEADER_SIZE, hosts)
        return bytes(h)
