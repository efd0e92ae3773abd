"""Lazy decoding of one PML event's detail block into Procmon's Path and Detail columns.

Format: the variable part of a PML v9 event (after the 0x34-byte header and the stack frames): a detail
block of ``detail_size`` bytes and an optional extra-detail block (u16 size + bytes) at ``extra_offset``
from the event start. Little-endian; detail strings carry a u16 prefix (bit 15 = ASCII, bits 0-14 = char
count) and are UTF-16LE otherwise. Files: ``*.PML`` written by Sysinternals Process Monitor.

Each decoder returns the Path and the Detail as ``(key, text)`` pairs, formatted the way Procmon's CSV
export prints them (thousands separators, ``0x`` bases, locale-free en-US dates in the exporter's zone).

References: eronnen/procmon-parser ``stream_logs_detail_format.py`` and ``docs/PML Format.md`` (layout
facts, MIT); Windows DDK structures (FILE_*_INFORMATION, FILE_FS_*_INFORMATION, KEY_*_INFORMATION).
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, NamedTuple

from culprit.parsers.procmon import consts as C
from culprit.parsers.procmon.structs import FILETIME_EPOCH, TICKS_PER_SECOND

if TYPE_CHECKING:
    from culprit.parsers.procmon.pml import PmlCapture

Items = list[tuple[str, str]]


class Decoded(NamedTuple):
    """The decoded variable part of one event."""

    path: str
    items: Items
    damaged: str | None = None  # what could not be read, if anything


_U8 = struct.Struct("<B").unpack_from
_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from
_U64 = struct.Struct("<Q").unpack_from
_S64 = struct.Struct("<q").unpack_from


class _R:
    """A little-endian cursor over one block of bytes (reads past the end raise ``struct.error``)."""

    __slots__ = ("b", "p")

    def __init__(self, b: bytes, p: int = 0) -> None:
        self.b = b
        self.p = p

    def u8(self) -> int:
        p = self.p
        self.p = p + 1
        return _U8(self.b, p)[0]

    def u16(self) -> int:
        p = self.p
        self.p = p + 2
        return _U16(self.b, p)[0]

    def u32(self) -> int:
        p = self.p
        self.p = p + 4
        return _U32(self.b, p)[0]

    def u64(self) -> int:
        p = self.p
        self.p = p + 8
        return _U64(self.b, p)[0]

    def s64(self) -> int:
        p = self.p
        self.p = p + 8
        return _S64(self.b, p)[0]

    def ptr(self, size: int) -> int:
        return self.u64() if size == 8 else self.u32()

    def skip(self, n: int) -> None:
        self.p += n

    def bytes(self, n: int) -> bytes:
        p = self.p
        self.p = p + n
        return self.b[p : p + n]

    def info(self) -> tuple[bool, int]:
        p = self.p
        self.p = p + 2
        v = _U16(self.b, p)[0]
        return v > 0x7FFF, v & 0x7FFF

    def string(self, info: tuple[bool, int]) -> str:
        ascii_, count = info
        p = self.p
        n = count if ascii_ else 2 * count
        self.p = p + n
        return string_text(self.b[p : p + n], ascii_)

    def wstr(self, nbytes: int) -> str:
        return wtext(self.bytes(nbytes))

    def left(self) -> int:
        return len(self.b) - self.p


def string_text(raw: bytes, ascii_: bool) -> str:
    """A detail string's bytes as text: Latin-1 when flagged ASCII, else UTF-16LE; cut at the first NUL."""
    text = raw.decode("latin-1") if ascii_ else raw.decode("utf-16-le", "replace")
    return text.partition("\x00")[0] if "\x00" in text else text


def detail_text(items: Items) -> str:
    """The Detail column as Procmon prints it: ``Key: value`` pairs joined by ``, ``."""
    return ", ".join(f"{k}: {v}" if k != "Detail" else v for k, v in items)


def wtext(raw: bytes) -> str:
    """UTF-16LE bytes of a counted (not prefixed) string, cut at the first NUL."""
    return _cut(raw.decode("utf-16-le", "replace"))


def _cut(s: str) -> str:
    z = s.find("\x00")
    return s if z < 0 else s[:z]


def multisz(raw: bytes) -> list[str]:
    """A REG_MULTI_SZ / environment block: strings separated by NUL, ended by an empty one."""
    text = raw.decode("utf-16-le", "replace")
    if len(raw) % 2:
        text = raw[: len(raw) - 1].decode("utf-16-le", "replace")
    parts = text.split("\x00")
    out: list[str] = []
    for p in parts:
        if p == "" and out is not None:
            if not out or out[-1] == "":
                break
            out.append(p)
            continue
        if out and out[-1] == "":
            out.pop()
        out.append(p)
    while out and out[-1] == "":
        out.pop()
    return out


def num(v: int) -> str:
    """``1,612`` as Procmon prints counts and sizes."""
    return f"{v:,}"


def seconds(ticks: int) -> str:
    """A duration in 100 ns ticks as ``s.fffffff``."""
    return f"{ticks // TICKS_PER_SECOND}.{ticks % TICKS_PER_SECOND:07d}"


def date_text(ticks: int, tz_minutes: int = 0) -> str:
    """A FILETIME as Procmon's en-US ``M/D/YYYY h:MM:SS AM`` in the exporter's zone."""
    try:
        d = FILETIME_EPOCH + timedelta(microseconds=ticks // 10) + timedelta(minutes=tz_minutes)
    except OverflowError:
        return ""
    h = d.hour % 12 or 12
    return f"{d.month}/{d.day}/{d.year} {h}:{d.minute:02d}:{d.second:02d} {'AM' if d.hour < 12 else 'PM'}"


def attributes(mask: int) -> str:
    return "n/a" if mask == 0 else C.mask_names(mask, C.FILE_ATTRIBUTES, "")


# --- process --------------------------------------------------------------------------------------------------


def _process(cap: PmlCapture, op: int, r: _R, x: _R | None, tid: int, ps: int) -> tuple[str, Items]:
    if op in (0, 1):  # Process Defined / Process Create
        r.skip(4)
        pid = r.u32()
        r.skip(0x24)
        s1, s2 = r.u8(), r.u8()
        pinfo, cinfo = r.info(), r.info()
        r.skip(2 + s1 + s2)
        path = r.string(pinfo)
        return path, [("PID", str(pid)), ("Command line", r.string(cinfo))]
    if op == 7:  # Process Start
        ppid = r.u32()
        cinfo, dinfo = r.info(), r.info()
        envc = r.u32()
        cmd = r.string(cinfo)
        cwd = r.string(dinfo)
        env = multisz(r.bytes(envc * 2))
        return "", [
            ("Parent PID", str(ppid)),
            ("Command line", cmd),
            ("Current directory", cwd),
            ("Environment", "\r;\t" + "\r;\t".join(env)),
        ]
    if op in (2, 8):  # Process Exit / Process Statistics
        status = r.u32()
        kernel, user = r.u64(), r.u64()
        ws, peak_ws, priv, peak_priv = r.u64(), r.u64(), r.u64(), r.u64()
        signed = status - 0x100000000 if status >= 0x80000000 else status
        return "", [
            ("Exit Status", str(signed)),
            ("User Time", f"{seconds(user)} seconds"),
            ("Kernel Time", f"{seconds(kernel)} seconds"),
            ("Private Bytes", num(priv)),
            ("Peak Private Bytes", num(peak_priv)),
            ("Working Set", num(ws)),
            ("Peak Working Set", num(peak_ws)),
        ]
    if op == 3:  # Thread Create
        return "", [("Thread ID", str(r.u32()))]
    if op == 4:  # Thread Exit
        r.skip(4)
        kernel, user = r.u64(), r.u64()
        return "", thread_exit_items(tid, kernel, user)
    if op == 5:  # Load Image
        base = r.ptr(ps)
        size = r.u32()
        pinfo = r.info()
        r.skip(2)
        path = r.string(pinfo)
        return path, load_image_items(base, size)
    return "", []


def thread_exit_items(tid: int, kernel: int, user: int) -> Items:
    return [("Thread ID", str(tid)), ("User Time", seconds(user)), ("Kernel Time", seconds(kernel))]


def load_image_items(base: int, size: int) -> Items:
    return [("Image Base", f"0x{base:x}"), ("Image Size", f"0x{size:x}")]


# --- registry -------------------------------------------------------------------------------------------------


def reg_type_name(t: int) -> str:
    return C.REG_TYPES.get(t, f"<Unknown: {t}>")


def reg_data(type_name: str, raw: bytes) -> str | None:
    """Registry value data as Procmon prints it in Detail (None: no Data item)."""
    if type_name == "REG_DWORD":
        return str(struct.unpack_from("<I", raw)[0]) if len(raw) >= 4 else ""
    if type_name == "REG_QWORD":
        return ""
    if type_name in ("REG_SZ", "REG_EXPAND_SZ"):
        return _cut(raw[: len(raw) - len(raw) % 2].decode("utf-16-le", "replace")).replace("\r\n", "\n;")
    if type_name == "REG_BINARY":
        return " ".join(f"{b:02X}" for b in raw)
    if type_name == "REG_MULTI_SZ":
        return ", ".join(multisz(raw))
    return ""


def _registry(cap: PmlCapture, op: int, r: _R, x: _R | None, tid: int, ps: int) -> tuple[str, Items]:
    pinfo = r.info()
    items: Items = []
    if op in (12, 14):  # RegLoadKey / RegRenameKey: the new path follows the path in the detail block
        ninfo = r.info()
        path = r.string(pinfo)
        new = r.string(ninfo)
        items.append(("Hive Path" if op == 12 else "New Name", new))
        return path, items
    if op in (0, 1):  # RegOpenKey / RegCreateKey
        r.skip(2)
        access = r.u32()
        path = r.string(pinfo)
        if access == 0:
            return path, items
        text = C.registry_access(access)
        items.append(("Desired Access", text))
        if x is not None and x.left() >= 8:
            granted = x.u32()
            if text == "Maximum Allowed":
                items.append(("Granted Access", C.registry_access(granted)))
            disp = x.u32()
            if disp in C.REG_DISPOSITIONS:
                items.append(("Disposition", C.REG_DISPOSITIONS[disp]))
        return path, items
    if op in (3, 5, 6, 7):  # RegQueryKey / RegQueryValue / RegEnumValue / RegEnumKey
        r.skip(2)
        length = r.u32()
        index = r.u32() if op in (6, 7) else None
        klass = r.u32()
        path = r.string(pinfo)
        if op in (3, 7):
            return path, _key_info(op, length, index, klass, x)
        return path, _value_info(op, length, index, klass, x)
    if op == 8:  # RegSetInfoKey
        r.skip(2)
        klass = r.u32()
        r.skip(4)
        length = r.u16()
        r.skip(2)
        path = r.string(pinfo)
        name = C.KEY_SET_INFORMATION_CLASSES.get(klass, f"<Unknown: {klass}>")
        items = [("KeySetInformationClass", name), ("Length", num(length))]
        if length > 0 and r.left() >= 4:
            if name == "KeyWriteTimeInformation" and r.left() >= 8:
                items.append(("LastWriteTime", date_text(r.u64(), cap.tz_minutes)))
            elif name == "KeyWow64FlagsInformation":
                items.append(("Wow64Flags", f"0x{r.u32():x}"))
        return path, items
    if op == 4:  # RegSetValue
        r.skip(2)
        rtype = r.u32()
        length = r.u32()
        data_len = r.u16()
        r.skip(2)
        path = r.string(pinfo)
        tname = reg_type_name(rtype)
        items = [("Type", tname), ("Length", num(length))]
        n = min(length, data_len)
        if n > 0 and not tname.startswith("<Unknown"):
            data = reg_data(tname, r.bytes(n))
            if data is not None:
                items.append(("Data", data))
        return path, items
    return r.string(pinfo), items


def _key_info(op: int, length: int, index: int | None, klass: int, x: _R | None) -> Items:
    name = C.KEY_INFORMATION_CLASSES.get(klass, str(klass))
    if x is None:
        return key_info_items(op, index, name, length)
    a = b = 0
    text = ""
    if name == "Name":
        x.wstr(x.u32())  # Procmon does not print the name it queried
    elif name in ("HandleTags", "Flags"):
        a = x.u32()
    elif name == "Cached":
        x.skip(12)
        a = x.u32()
        x.skip(4)
        b = x.u32()
    elif name == "Basic":
        x.skip(12)
        text = x.wstr(x.u32())
    elif name == "Full":
        x.skip(20)
        a = x.u32()
        x.skip(8)
        b = x.u32()
    elif name == "Node":
        x.skip(20)
        text = x.wstr(x.u32())
    return key_info_items(op, index, name, None, a, b, text)


def key_info_items(
    op: int, index: int | None, name: str, length: int | None, a: int = 0, b: int = 0, text: str = ""
) -> Items:
    """RegQueryKey / RegEnumKey Detail: ``length`` when there is no result block, else the result's fields
    (``a``/``b``: HandleTags, UserFlags or SubKeys/Values; ``text``: the key name)."""
    items: Items = [("Index", num(index or 0))] if op == 7 else [("Query", name)]
    if length is not None:
        items.append(("Length", num(length)))
    elif name == "HandleTags":
        items.append(("HandleTags", f"0x{a:x}"))
    elif name == "Flags":
        items.append(("UserFlags", f"0x{a:x}"))
    elif name in ("Cached", "Full"):
        items += [("SubKeys", num(a)), ("Values", num(b))]
    elif name in ("Basic", "Node"):
        items.append(("Name", text))
    return items


def _value_info(op: int, length: int, index: int | None, klass: int, x: _R | None) -> Items:
    if x is None:
        return value_info_items(op, index, length)
    x.skip(4)
    tname = reg_type_name(x.u32())
    name = ""
    vlen = 0
    data = b""
    if klass == 1:  # KeyValueFullInformation
        data_off = x.u32()
        vlen = x.u32()
        name = x.wstr(x.u32())
        x.p = data_off
        data = x.bytes(vlen)
    elif klass == 2:  # KeyValuePartialInformation
        vlen = x.u32()
        data = x.bytes(vlen)
    return value_info_items(op, index, None, tname, klass, vlen, name, data)


def value_info_items(
    op: int,
    index: int | None,
    length: int | None,
    tname: str = "",
    klass: int = 0,
    vlen: int = 0,
    name: str = "",
    data: bytes = b"",
) -> Items:
    """RegQueryValue / RegEnumValue Detail: ``length`` when there is no result block, else the value's
    type, length and data (full information also names the value, printed for RegEnumValue)."""
    items: Items = [("Index", num(index or 0))] if op == 6 else []
    if length is not None:
        items.append(("Length", num(length)))
        return items
    if klass not in (1, 2):
        items.append(("Type", tname))
        return items
    if klass == 1 and op == 6:
        items.append(("Name", name))
    items += [("Type", tname), ("Length", num(vlen))]
    if vlen > 0:
        text = reg_data(tname, data)
        if text is not None:
            items.append(("Data", text))
    return items


# --- file system ----------------------------------------------------------------------------------------------

_FsHandler = Callable[["PmlCapture", str, _R, _R, "_R | None", int], "tuple[str, Items]"]


def _fs_create(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    access = r.u32()
    sid_len = r.u8()
    r.skip(3)
    d.skip(0x10 + (4 if ps == 8 else 0))
    disp_opts = d.u32()
    disp, opts = disp_opts >> 24, disp_opts & 0xFFFFFF
    if ps == 8:
        d.skip(4)
    attrs = d.u16()
    share = d.u16()
    d.skip(4 + 2 * ps)
    alloc = d.u32()
    items: Items = [
        ("Desired Access", C.file_access(access)),
        ("Disposition", C.FILE_DISPOSITIONS.get(disp, "<unknown>")),
        ("Options", C.mask_names(opts, C.CREATE_OPTIONS)),
        ("Attributes", attributes(attrs)),
        ("ShareMode", C.mask_names(share, C.SHARE_MODES) if share else "None"),
        ("AllocationSize", num(alloc) if disp in (0, 2, 3, 5) else "n/a"),
    ]
    if sid_len:
        items.append(("Impersonating", sid_text(r.bytes(sid_len))))
    if x is not None and x.left() >= 4:
        items.append(("OpenResult", C.OPEN_RESULTS.get(x.u32(), "<unknown>")))
    return path, items


def sid_text(raw: bytes) -> str:
    """A binary SID as ``S-1-5-...``."""
    if len(raw) < 8 or raw[0] != 1:
        return ""
    count = raw[1]
    auth = int.from_bytes(raw[2:8], "big")
    subs = raw[8:]
    if len(subs) != 4 * count:
        return ""
    return f"S-1-{auth}" + "".join(f"-{v}" for v in struct.unpack(f"<{count}I", subs))


def _fs_read_write(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    pad = 4 if ps == 8 else 0
    d.skip(4)
    flags_prio = d.u32()
    d.skip(4)
    length = d.u32()
    d.skip(pad + 4 + pad)
    offset = d.s64()
    if x is not None and x.left() >= 4:
        length = x.u32()
    return path, read_write_items(offset, length, flags_prio)


def read_write_items(offset: int, length: int, flags_prio: int) -> Items:
    items: Items = [("Offset", num(offset)), ("Length", num(length))]
    io_flags = flags_prio & 0xE000FF
    prio = (flags_prio >> 0x11) & 7
    if io_flags:
        items.append(("I/O Flags", C.mask_names(io_flags, C.IO_FLAGS)))
    if prio:
        items.append(("Priority", C.PRIORITIES.get(prio, f"0x{prio:x}")))
    return items


def _fs_ioctl(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    pad = 4 if ps == 8 else 0
    d.skip(8)
    write_len = d.u32()
    read_len = d.u32()
    d.skip(pad + 4 + pad)
    name = C.ioctl_name(d.u32())
    offload = None
    if name in ("FSCTL_OFFLOAD_READ", "FSCTL_OFFLOAD_WRITE") and r.left() >= 16:
        offload = (r.s64(), r.u64())
    return path, ioctl_items(name, write_len, read_len, offload)


def ioctl_items(name: str, write_len: int, read_len: int, offload: tuple[int, int] | None) -> Items:
    """FileSystemControl / DeviceIoControl Detail: the control code's name, and the lengths it prints."""
    items: Items = [("Control", name)]
    if name == "FSCTL_PIPE_INTERNAL_WRITE":
        items.append(("Length", num(write_len)))
    elif name == "FSCTL_PIPE_INTERNAL_READ":
        items.append(("Length", num(read_len)))
    elif offload is not None:
        items += [("Offset", num(offload[0])), ("Length", num(offload[1]))]
    elif name in ("FSCTL_PIPE_TRANSCEIVE", "FSCTL_PIPE_INTERNAL_TRANSCEIVE"):
        items += [("WriteLength", num(write_len)), ("ReadLength", num(read_len))]
    return items


def _fs_query_directory(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    pad = 4 if ps == 8 else 0
    finfo = r.info()
    flt = r.string(finfo)
    path = directory_path(path, flt)
    d.skip(0x10 + pad + 4 + pad)
    klass = d.u32()
    names = None if x is None else _dir_names(x.b, klass) if klass in DIR_LAYOUT else []
    return path, directory_items(flt, klass, names)


def directory_path(path: str, flt: str) -> str:
    """QueryDirectory's Path: the directory, then the filter the call named (if any)."""
    if not flt:
        return path
    return path + flt if path.endswith("\\") else path + "\\" + flt


def directory_items(flt: str, klass: int, names: list[str] | None) -> Items:
    """QueryDirectory Detail: the filter, then (with a result block) the entries it listed."""
    items: Items = [("Filter", flt)] if flt else []
    if names is None:
        return items
    # Procmon numbers the entries from 0 (from 1 after a Filter) and prints the information class in
    # the place of the third item.
    first = 1 if flt else 0
    out = items + [(str(first + j), n) for j, n in enumerate(names)]
    if len(out) >= 2:
        cls_item = ("FileInformationClass", C.FILE_INFORMATION_CLASSES.get(klass, str(klass)))
        if len(out) > 2:
            out[2] = cls_item
        else:
            out.append(cls_item)
    return out


# directory information class -> (offset of the name length, offset of the name) in each entry
DIR_LAYOUT = {
    1: (0x3C, 0x40),
    2: (0x3C, 0x44),
    3: (0x3C, 0x5E),
    12: (0x08, 0x0C),
    37: (0x3C, 0x68),
    38: (0x3C, 0x50),
}


def _dir_names(b: bytes, klass: int) -> list[str]:
    out: list[str] = []
    pos = 0
    n = len(b)
    len_at, name_at = DIR_LAYOUT[klass]
    while pos + name_at <= n:
        nxt = struct.unpack_from("<I", b, pos)[0]
        ln = struct.unpack_from("<I", b, pos + len_at)[0]
        start = pos + name_at
        out.append(wtext(b[start : min(n, start + ln)]))
        if nxt == 0:
            break
        pos += nxt
    return out


def _fs_notify(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    d.skip(0x10 + (4 if ps == 8 else 0))
    return path, [("Filter", C.mask_names(d.u32(), C.NOTIFY_FILTERS))]


def _fs_query_info(
    cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int, op: str
) -> tuple[str, Items]:
    if x is None:
        return path, []
    tz = cap.tz_minutes
    if op in ("QueryBasicInformationFile", "QueryAllInformationFile", "QueryNetworkOpenInformationFile"):
        times = [x.u64() for _ in range(4)]
        items: Items = [
            (k, date_text(t, tz))
            for k, t in zip(
                ("CreationTime", "LastAccessTime", "LastWriteTime", "ChangeTime"), times, strict=True
            )
        ]
        if op == "QueryNetworkOpenInformationFile":
            # Procmon prints these two sizes through its date formatter
            items += [("AllocationSize", date_text(x.u64(), tz)), ("EndOfFile", date_text(x.u64(), tz))]
        items.append(("FileAttributes", attributes(x.u32())))
        if op == "QueryAllInformationFile":
            x.skip(4)
            alloc, eof = x.u64(), x.u64()
            links = x.u32()
            pend, dirf = x.u8(), x.u8()
            items += [
                ("AllocationSize", num(alloc)),
                ("EndOfFile", num(eof)),
                ("NumberOfLinks", num(links)),
                ("DeletePending", str(bool(pend))),
                ("Directory", str(bool(dirf))),
            ]
            x.skip(2)
            index = x.u64()
            ea = x.u32()
            access = x.u32()
            pos = x.s64()
            mode = x.u32()
            align = x.u32()
            items += [
                ("IndexNumber", f"0x{index:x}"),
                ("EaSize", num(ea)),
                ("Access", C.file_access(access)),
                ("Position", num(pos)),
                ("Mode", C.mask_names(mode, C.CREATE_OPTIONS)),
                ("AlignmentRequirement", C.ALIGNMENTS.get(align, f"0x{align:x}")),
            ]
        return path, items
    if op == "QueryStandardInformationFile":
        alloc, eof = x.u64(), x.u64()
        links = x.u32()
        pend, dirf = x.u8(), x.u8()
        return path, [
            ("AllocationSize", num(alloc)),
            ("EndOfFile", num(eof)),
            ("NumberOfLinks", num(links)),
            ("DeletePending", str(bool(pend))),
            ("Directory", str(bool(dirf))),
        ]
    if op == "QueryFileInternalInformationFile":
        return path, [("IndexNumber", f"0x{x.u64():x}")]
    if op == "QueryEaInformationFile":
        return path, [("EaSize", num(x.u32()))]
    if op == "QueryAttributeTagFile":
        a = x.u32()
        return path, [("Attributes", attributes(a)), ("ReparseTag", f"0x{x.u32():x}")]
    if op == "QueryNameInformationFile":
        d.skip(8)
        d.skip(4)
        bufsize = d.u32()
        ln = x.u32()
        return path, [("Name", x.wstr(min(max(bufsize - 4, 0), ln)))]
    return path, []


def _fs_query_volume(
    cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int, op: str
) -> tuple[str, Items]:
    if x is None:
        return path, []
    if op == "QueryInformationVolume":
        created = x.u64()
        serial = x.u32()
        label_len = x.u32()
        objects = x.u8()
        x.skip(1)
        label = x.wstr(label_len)
        return path, [
            ("VolumeCreationTime", date_text(created, cap.tz_minutes)),
            ("VolumeSerialNumber", f"{serial >> 16:04X}-{serial & 0xFFFF:04X}"),
            ("SupportsObjects", str(bool(objects))),
            ("VolumeLabel", label),
        ]
    if op == "QueryAttributeInformationVolume":
        attrs = x.u32()
        maxlen = x.u32()
        name = x.wstr(x.u32())
        text = C.mask_names(attrs, C.FS_ATTRIBUTES)
        rest = attrs
        for v, _n in C.FS_ATTRIBUTES:
            if rest & v == v:
                rest &= ~v
        if rest:
            text = f"{text}, 0x{rest:x}" if text else f"0x{rest:x}"
        return path, [
            ("FileSystemAttributes", text),
            ("MaximumComponentNameLength", str(maxlen)),
            ("FileSystemName", name),
        ]
    if op == "QuerySizeInformationVolume":
        total, avail = x.s64(), x.s64()
        spa, bps = x.u32(), x.u32()
        return path, [
            ("TotalAllocationUnits", num(total)),
            ("AvailableAllocationUnits", num(avail)),
            ("SectorsPerAllocationUnit", num(spa)),
            ("BytesPerSector", num(bps)),
        ]
    if op == "QueryFullSizeInformationVolume":
        total, caller, actual = x.s64(), x.s64(), x.s64()
        spa, bps = x.u32(), x.u32()
        return path, [
            ("TotalAllocationUnits", num(total)),
            ("CallerAvailableAllocationUnits", num(caller)),
            ("ActualAvailableAllocationUnits", num(actual)),
            ("SectorsPerAllocationUnit", num(spa)),
            ("BytesPerSector", num(bps)),
        ]
    if op == "QueryObjectIdInformationVolume":
        return path, [("ObjectId", x.bytes(16).hex().upper())]
    return path, []


def _fs_set_info(
    cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int, op: str
) -> tuple[str, Items]:
    if op == "SetDispositionInformationFile":
        return path, [("Delete", str(bool(r.u8())))]
    if op == "SetBasicInformationFile":
        times = [r.u64() for _ in range(4)]
        items: Items = [
            (k, date_text(t, cap.tz_minutes))
            for k, t in zip(
                ("CreationTime", "LastAccessTime", "LastWriteTime", "ChangeTime"), times, strict=True
            )
        ]
        items.append(("FileAttributes", attributes(r.u32())))
        return path, items
    if op == "SetEndOfFileInformationFile":
        return path, [("EndOfFile", num(r.s64()))]
    if op == "SetAllocationInformationFile":
        return path, [("AllocationSize", num(r.s64()))]
    return path, []


def _fs_lock(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int, op: str) -> tuple[str, Items]:
    # FLT_PARAMETERS.LockControl: PLARGE_INTEGER Length, ULONG Key, LARGE_INTEGER ByteOffset, PEPROCESS,
    # BOOLEAN FailImmediately, BOOLEAN ExclusiveLock (the length itself follows the path)
    d.skip(0x1C if ps == 8 else 0x14)
    offset = d.s64()
    d.skip(ps)
    fail, excl = d.u8(), d.u8()
    length = r.u32() if r.left() >= 4 else 0
    if op == "LockFile":
        return path, [
            ("Exclusive", str(bool(excl))),
            ("Offset", num(offset)),
            ("Length", num(length)),
            ("Fail Immediately", str(bool(fail))),
        ]
    return path, [("Offset", num(offset)), ("Length", num(length))]


def _fs_mod_write(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    if r.left() >= 8:
        return path, [("EndingOffset", num(r.s64()))]
    return path, []


def _fs_mapping(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    d.skip(0x0C)
    sync = d.u32()
    prot = d.u32()
    if ps == 8 and cap.current_result != 0:
        # on failure Procmon prints the protection from the next field (the low half of a pointer)
        prot = d.u32()
    items: Items = [("SyncType", C.SYNC_TYPES.get(sync, f"Unknown: {sync:#x}"))]
    for v, n in C.PAGE_PROTECTIONS:
        if prot & v:
            items.append(("PageProtection", n + ("|PAGE_NOCACHE" if prot & 0x200 else "")))
            break
    return path, items


def _fs_security(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    d.skip(0x0C)
    return path, [("Information", C.mask_names_hex(d.u32(), C.SECURITY_INFORMATION))]


def _fs_mdl(cap: PmlCapture, path: str, r: _R, d: _R, x: _R | None, ps: int) -> tuple[str, Items]:
    d.skip(ps + 4)
    return path, [("MDL", f"0x{d.ptr(ps):x}")]


_FS: dict[str, Callable[..., tuple[str, Items]]] = {
    "CreateFile": _fs_create,
    "ReadFile": _fs_read_write,
    "WriteFile": _fs_read_write,
    "FileSystemControl": _fs_ioctl,
    "DeviceIoControl": _fs_ioctl,
    "QueryDirectory": _fs_query_directory,
    "NotifyChangeDirectory": _fs_notify,
    "CreateFileMapping": _fs_mapping,
    "QuerySecurityFile": _fs_security,
    "SetSecurityFile": _fs_security,
    "FASTIO_ACQUIRE_FOR_MOD_WRITE": _fs_mod_write,
    "FASTIO_MDL_READ_COMPLETE": _fs_mdl,
}
_FS_SUB: dict[int, Callable[..., tuple[str, Items]]] = {
    25: _fs_query_info,
    30: _fs_query_volume,
    26: _fs_set_info,
    37: _fs_lock,
}


def _filesystem(cap: PmlCapture, op: int, r: _R, x: _R | None, tid: int, ps: int) -> tuple[str, Items]:
    sub = r.u8()
    r.skip(3)
    d = _R(r.bytes(ps * 5 + 0x14))
    pinfo = r.info()
    r.skip(2)
    path = r.string(pinfo)
    name = C.operation_name(C.FILE_SYSTEM, op, sub)
    if name == C.UNKNOWN:
        return path, []
    h = _FS.get(name)
    if h is not None:
        return h(cap, path, r, d, x, ps)
    hs = _FS_SUB.get(op)
    if hs is not None:
        return hs(cap, path, r, d, x, ps, name)
    return path, []


# --- network, profiling ---------------------------------------------------------------------------------------


def _network(cap: PmlCapture, op: int, r: _R, x: _R | None, tid: int, ps: int) -> tuple[str, Items]:
    flags = r.u16()
    r.skip(2)
    length = r.u32()
    src, dst = r.bytes(16), r.bytes(16)
    sport, dport = r.u16(), r.u16()
    tcp = bool(flags & 4)
    path = (
        f"{cap.host_name(src, bool(flags & 1))}:{cap.port_name(sport, tcp)} -> "
        f"{cap.host_name(dst, bool(flags & 2))}:{cap.port_name(dport, tcp)}"
    )
    items: Items = [("Length", str(length))]
    extra = multisz(r.bytes(r.left()))
    for j in range(len(extra) // 2):
        items.append((extra[2 * j], extra[2 * j + 1]))
    return path, items


def _profiling(cap: PmlCapture, op: int, r: _R, x: _R | None, tid: int, ps: int) -> tuple[str, Items]:
    if op == 1:
        user, kernel, ws, priv = r.u64(), r.u64(), r.u64(), r.u64()
        return "", [
            ("User Time", f"{seconds(user)} seconds"),
            ("Kernel Time", f"{seconds(kernel)} seconds"),
            ("Private Bytes", num(priv)),
            ("Working Set", num(ws)),
        ]
    if op == 0:
        user, kernel, switches = r.u32(), r.u32(), r.u32()
        return f"Thread {tid}", [
            ("User Time", seconds(user)),
            ("Kernel Time", seconds(kernel)),
            ("Context Switches", num(switches)),
        ]
    return "", []


_CLASSES = {1: _process, 2: _registry, 3: _filesystem, 4: _profiling, 5: _network, 6: _filesystem}


WINDOW = 4096  # one read covers header, stack and details of almost every event
_HEAD = struct.Struct("<4xIIH22xIH2xII")  # tid, class, operation, result, depth, detail size, extra offset


def decode(cap: PmlCapture, i: int) -> Decoded:
    """Decode event ``i``'s Path and Detail; a damaged block yields what was readable and says why."""
    return decode_at(cap, i, int(cap.offsets[i]))


SPAN = 1 << 22  # bytes read at once when decoding every event in order


def decode_all(cap: PmlCapture, chunk: int = 1 << 16) -> Iterator[Decoded]:
    """Decode every event in capture order: the file is read a few MB at a time and each event decoded
    in place; an event that reaches past what was read (or past the end of the file) goes through
    :func:`decode_at`, which reads what it needs and says what was lost."""
    n = len(cap)
    ps = cap.pointer_size
    head, u16, classes = _HEAD.unpack_from, _U16, _CLASSES
    buf, base, blen = b"", 0, 0
    for a in range(0, n, chunk):
        for j, off in enumerate(cap.offsets[a : a + chunk].tolist()):
            b0 = off - base
            if b0 < 0 or b0 + 0x34 > blen:
                buf, base = cap.span(off, SPAN), off
                blen, b0 = len(buf), 0
                if blen < 0x34:
                    yield decode_at(cap, a + j, off)
                    continue
            tid, klass, op, result, depth, size, xo = head(buf, b0)
            start = b0 + 0x34 + depth * ps
            end = start + size
            x = None
            if xo:
                xp = b0 + xo
                xe = xp + 2 + (u16(buf, xp)[0] if xp + 2 <= blen else 0)
                if xp + 2 > blen or xe > blen:
                    end = blen + 1  # not all here: the careful path
                else:
                    x = _R(buf[xp + 2 : xe])
            if end > blen:
                if b0 and size + xo < SPAN // 2:  # read from this event on, then try again
                    buf, base = cap.span(off, SPAN), off
                    blen = len(buf)
                yield decode_at(cap, a + j, off)
                continue
            handler = classes.get(klass)
            if handler is None:
                yield Decoded("", [], None)
                continue
            cap.current_result = result
            try:
                path, items = handler(cap, op, _R(buf[start:end]), x, tid, ps)
            except (struct.error, ValueError, IndexError, KeyError) as e:
                yield Decoded("", [], f"event {a + j:,}: detail block damaged ({type(e).__name__})")
                continue
            yield Decoded(path, items, None)


def decode_at(cap: PmlCapture, i: int, off: int, whole: bytes | mmap.mmap | None = None) -> Decoded:
    """:func:`decode` with the event's file offset already known (``whole``: the entire file, e.g. its
    mapping, to read from instead of a cached block)."""
    # the event starts at buf[b0] (no copy on the common path)
    buf, b0 = (whole, off) if whole is not None else cap.window(off, WINDOW)
    avail = len(buf) - b0
    if avail < 0x34:
        return Decoded("", [], f"event {i:,}: header runs past the end of the file")
    tid, klass, op, result, depth, size, xo = _HEAD.unpack_from(buf, b0)
    ps = cap.pointer_size
    start = 0x34 + depth * ps
    end = start + size
    xs = 0
    if xo and xo + 2 <= avail:
        xs = _U16(buf, b0 + xo)[0]
    need = max(end, xo + 2 + xs if xo else 0)
    if need > avail and avail < cap.remaining(off):
        buf, b0 = cap.read(off, need), 0
        avail = len(buf)
        if xo and not xs and xo + 2 <= avail:
            xs = _U16(buf, xo)[0]
            if xo + 2 + xs > avail:
                buf = cap.read(off, xo + 2 + xs)
                avail = len(buf)
    damaged = None
    if end > avail:
        damaged = f"event {i:,}: detail block runs past the end of the file"
        end = avail
    block = buf[b0 + start : b0 + end] if start < end else b""
    x = None
    if xo:
        if xo + 2 <= avail:
            if xo + 2 + xs > avail:
                damaged = damaged or f"event {i:,}: extra detail runs past the end of the file"
            x = _R(buf[b0 + xo + 2 : b0 + min(avail, xo + 2 + xs)])
        else:
            damaged = damaged or f"event {i:,}: extra detail offset past the end of the file"
    handler = _CLASSES.get(klass)
    if handler is None:
        return Decoded("", [], None)
    cap.current_result = result
    try:
        path, items = handler(cap, op, _R(block), x, tid, ps)
    except (struct.error, ValueError, IndexError, KeyError) as e:
        return Decoded("", [], damaged or f"event {i:,}: detail block damaged ({type(e).__name__})")
    return Decoded(path, items, damaged)
