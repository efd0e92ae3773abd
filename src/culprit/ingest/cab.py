"""MS-CAB (Microsoft Cabinet) reader, enough for CbsPersist_*.cab and collector bundles.

Layout (MS-CAB spec, [MS-CAB] on Microsoft Learn): CFHEADER (``MSCF``), then CFFOLDER
records (offset of the first CFDATA, block count, compression type), CFFILE records
(uncompressed size, offset inside the folder's uncompressed stream, folder index, name),
and per folder a run of CFDATA blocks (checksum, compressed and uncompressed size, data).

Compression: 0 = none, 1 = MSZIP (each block is ``CK`` + a raw deflate stream whose window
carries over from the previous block), 2 = Quantum, 3 = LZX. Quantum and LZX are reported as
unsupported with a clear message; the file is listed as skipped, never half-read.

Every size in the file is checked against the real data before anything is trusted.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from culprit.errors import HostileArchiveError, InputError

MAGIC = b"MSCF"
_FOLDER = struct.Struct("<IHH")
_FILE = struct.Struct("<IIHHHH")
_DATA = struct.Struct("<IHH")
BLOCK_MAX = 0x8000 + 6144  # uncompressed block is at most 32 KiB; compressed a little more

COMPRESSION_NAMES = {0: "none", 1: "MSZIP", 2: "Quantum", 3: "LZX"}


class UnsupportedCab(InputError):
    """The cabinet is well formed but uses a compression culprit cannot decode."""


@dataclass(frozen=True, slots=True)
class CabMember:
    name: str
    size: int
    folder: int
    offset: int  # offset in the folder's uncompressed stream
    attribs: int


@dataclass(frozen=True, slots=True)
class _Folder:
    data_offset: int
    blocks: int
    compression: int


def is_cab(head: bytes) -> bool:
    return head[:4] == MAGIC


def _read_exact(fp: BinaryIO, n: int, what: str) -> bytes:
    b = fp.read(n)
    if len(b) != n:
        raise InputError(f"cabinet truncated while reading {what}")
    return b


def read_directory(fp: BinaryIO) -> tuple[list[_Folder], list[CabMember], int]:
    """Parse the header, folders and file records; returns ``(folders, members, reserve_data)``."""
    fp.seek(0)
    hdr = _read_exact(fp, 36, "the header")
    if hdr[:4] != MAGIC:
        raise InputError("not a cabinet (no MSCF signature)")
    (cb_cabinet,) = struct.unpack_from("<I", hdr, 8)
    (coff_files,) = struct.unpack_from("<I", hdr, 16)
    _minor, _major, n_folders, n_files, flags = struct.unpack_from("<BBHHH", hdr, 24)
    if flags & 0x0003:
        raise UnsupportedCab("multi-cabinet sets (continued cabinets) are not supported")
    reserve_folder = reserve_data = 0
    if flags & 0x0004:
        cb_hdr_res, reserve_folder, reserve_data = struct.unpack("<HBB", _read_exact(fp, 4, "reserve sizes"))
        fp.seek(cb_hdr_res, 1)
    folders = []
    for _ in range(n_folders):
        off, blocks, comp = _FOLDER.unpack(_read_exact(fp, _FOLDER.size, "a folder record"))
        fp.seek(reserve_folder, 1)
        folders.append(_Folder(off, blocks, comp & 0x000F))
    fp.seek(coff_files)
    members = []
    for _ in range(n_files):
        size, off, ifolder, _date, _time, attribs = _FILE.unpack(_read_exact(fp, _FILE.size, "a file record"))
        name_bytes = bytearray()
        while True:
            c = _read_exact(fp, 1, "a file name")
            if c == b"\x00":
                break
            name_bytes += c
            if len(name_bytes) > 1024:
                raise HostileArchiveError("cabinet file name longer than 1024 bytes")
        enc = "utf-8" if attribs & 0x80 else "cp437"
        name = name_bytes.decode(enc, errors="replace")
        if ifolder >= len(folders):
            raise InputError(f"cabinet member {name!r} points at folder {ifolder} of {len(folders)}")
        members.append(CabMember(name, size, ifolder, off, attribs))
    _ = cb_cabinet
    return folders, members, reserve_data


def _folder_stream(fp: BinaryIO, folder: _Folder, reserve_data: int, limit: int) -> Iterator[bytes]:
    """Yield the uncompressed data of one folder, block by block, never more than ``limit``."""
    if folder.compression not in (0, 1):
        name = COMPRESSION_NAMES.get(folder.compression, str(folder.compression))
        raise UnsupportedCab(
            f"{name} compression is not supported (only none and MSZIP); expand the cabinet with "
            "'expand -F:* file.cab dir' on Windows and send the folder"
        )
    fp.seek(folder.data_offset)
    window = b""
    total = 0
    for i in range(folder.blocks):
        _csum, cb_data, cb_uncomp = _DATA.unpack(_read_exact(fp, _DATA.size, f"data block {i}"))
        fp.seek(reserve_data, 1)
        if cb_data > BLOCK_MAX or cb_uncomp > 0x8000:
            raise HostileArchiveError(f"cabinet data block {i} claims {cb_data}/{cb_uncomp} bytes (max 32 KiB)")
        data = _read_exact(fp, cb_data, f"data block {i}")
        if folder.compression == 0:
            out = data
        else:
            if data[:2] != b"CK":
                raise InputError(f"MSZIP block {i} has no CK signature")
            d = zlib.decompressobj(-15, zdict=window) if window else zlib.decompressobj(-15)
            try:
                out = d.decompress(data[2:], 0x8000 + 1)
            except zlib.error as e:
                raise InputError(f"MSZIP block {i} is corrupt: {e}") from None
            window = (window + out)[-0x8000:]
        if cb_uncomp and len(out) != cb_uncomp:
            raise InputError(f"cabinet data block {i} gave {len(out)} bytes, header says {cb_uncomp}")
        total += len(out)
        if total > limit:
            raise HostileArchiveError(f"cabinet expands past the {limit:,}-byte limit")
        yield out


def extract_member(fp: BinaryIO, member: CabMember, out: BinaryIO, limit: int) -> int:
    """Write one member's bytes to ``out``; returns the byte count.

    Members of one folder share a stream, so this decodes the folder from its start up to the
    end of the member (cabinets in bundles are small; CbsPersist has one member).
    """
    folders, _members, reserve = read_directory(fp)
    folder = folders[member.folder]
    pos = 0
    written = 0
    end = member.offset + member.size
    for block in _folder_stream(fp, folder, reserve, limit):
        b0, b1 = pos, pos + len(block)
        pos = b1
        if b1 <= member.offset:
            continue
        piece = block[max(0, member.offset - b0) : min(len(block), end - b0)]
        out.write(piece)
        written += len(piece)
        if pos >= end:
            break
    if written != member.size:
        raise InputError(f"cabinet member {member.name!r} is truncated ({written:,} of {member.size:,} bytes)")
    return written
