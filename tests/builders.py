"""Builders for binary fixtures the tests need (cabinets, zips); written here, not copied."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def build_cab(members: dict[str, bytes], compress: bool = True, compression_type: int | None = None) -> bytes:
    """An MS-CAB with one folder holding ``members`` (MSZIP-compressed unless ``compress`` is False)."""
    stream = b"".join(members.values())
    blocks = [stream[i : i + 0x8000] for i in range(0, len(stream), 0x8000)] or [b""]
    ctype = compression_type if compression_type is not None else (1 if compress else 0)
    datas = []
    window = b""
    for blk in blocks:
        if ctype == 1:
            c = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=window) if window else zlib.compressobj(9, zlib.DEFLATED, -15)
            payload = b"CK" + c.compress(blk) + c.flush(zlib.Z_FULL_FLUSH)
            window = (window + blk)[-0x8000:]
        else:
            payload = blk
        datas.append(struct.pack("<IHH", 0, len(payload), len(blk)) + payload)
    files = b""
    off = 0
    for name, data in members.items():
        files += struct.pack("<IIHHHH", len(data), off, 0, 0x5921, 0x4B97, 0x20) + name.encode("cp437") + b"\x00"
        off += len(data)
    header_len = 36
    folder_len = 8
    coff_files = header_len + folder_len
    coff_data = coff_files + len(files)
    total = coff_data + sum(len(d) for d in datas)
    header = b"MSCF" + struct.pack("<IIIIIBBHHHHH", 0, total, 0, coff_files, 0, 3, 1, 1, len(members), 0, 0, 0)
    folder = struct.pack("<IHH", coff_data, len(datas), ctype)
    return header + folder + files + b"".join(datas)


def build_zip(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, target)
    return buf.getvalue()
