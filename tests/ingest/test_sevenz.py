"""7-Zip bundles: read like zips, and refused or skipped for the same hostile shapes (traversal, absolute
names, bombs, too many entries, members larger than declared), with encrypted and damaged archives
named instead of half-read."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import py7zr
import pytest

from culprit.errors import HostileArchiveError, InputError
from culprit.ingest import Limits, open_bundle, sevenz

CBS_LINE = b"2024-09-03 10:15:22, Info                  CBS    Starting TrustedInstaller initialization.\r\n"


def build_7z(path: Path, members: dict[str, bytes], password: str | None = None) -> Path:
    """A 7z archive; names py7zr refuses to write (``..``, absolute) are written as placeholders of the
    same length and patched into the (unencoded) header afterwards, with its CRCs recomputed."""
    evil = {n: "x" * len(n) for n in members if n.startswith("/") or ".." in n.replace("\\", "/").split("/")}
    with py7zr.SevenZipFile(path, "w", password=password) as z:
        if password:
            z.set_encrypted_header(True)
        else:
            z.set_encoded_header_mode(False)
        for name, data in members.items():
            z.writestr(data, evil.get(name, name))
    if evil:
        raw = bytearray(path.read_bytes())
        off, size = struct.unpack_from("<QQ", raw, 12)
        start = 32 + off
        header = bytes(raw[start : start + size])
        for real, fake in evil.items():
            header = header.replace(fake.encode("utf-16-le"), real.encode("utf-16-le"), 1)
        raw[start : start + size] = header
        struct.pack_into("<I", raw, 28, zlib.crc32(header))
        struct.pack_into("<I", raw, 8, zlib.crc32(bytes(raw[12:32])))
        path.write_bytes(bytes(raw))
    return path


def names(bundle) -> list[str]:
    return [s.name for s in bundle.sources]


def test_members_extracted_with_their_names(tmp_path: Path) -> None:
    data = CBS_LINE * 5000
    a = build_7z(
        tmp_path / "bad.7z",
        {"Windows/Logs/CBS/CBS.log": data, "system/日志.txt": "中文".encode("gbk"), "Windows/INF/x.inf": b"[V]"},
    )
    with open_bundle(a) as b:
        got = {s.name: s.path.read_bytes() for s in b.sources}
    assert got == {
        "bad.7z/Windows/Logs/CBS/CBS.log": data,
        "bad.7z/system/日志.txt": "中文".encode("gbk"),
        "bad.7z/Windows/INF/x.inf": b"[V]",
    }


def test_zip_inside_7z_is_opened_too(tmp_path: Path) -> None:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("CBS.log", CBS_LINE)
    a = build_7z(tmp_path / "outer.7z", {"inner.zip": buf.getvalue()})
    with open_bundle(a) as b:
        assert names(b) == ["outer.7z/inner.zip/CBS.log"]


@pytest.mark.parametrize("evil", ["../../etc/passwd", "a/../../b.log", "..\\..\\win.ini"])
def test_traversal_refused(tmp_path: Path, evil: str) -> None:
    a = build_7z(tmp_path / "evil.7z", {"ok.log": b"x", evil: b"pwned"})
    with pytest.raises(HostileArchiveError, match="traversal"):
        open_bundle(a)
    assert not (tmp_path.parent / "b.log").exists() and not (tmp_path.parent / "win.ini").exists()


@pytest.mark.parametrize("evil", ["/etc/passwd", "C:\\Windows\\win.ini"])
def test_absolute_member_refused(tmp_path: Path, evil: str) -> None:
    a = build_7z(tmp_path / "abs.7z", {evil: b"x"})
    with pytest.raises(HostileArchiveError, match="absolute"):
        open_bundle(a)


def test_bomb_refused_before_anything_is_written(tmp_path: Path) -> None:
    a = build_7z(tmp_path / "bomb.7z", {"CBS.log": b"\0" * (64 * 1024 * 1024)})
    assert os.path.getsize(a) * 1000 < 64 * 1024 * 1024
    before = set(Path(os.environ.get("TMPDIR", "/tmp")).glob("culprit-*"))
    with pytest.raises(HostileArchiveError, match="compression bomb"):
        open_bundle(a)
    assert set(Path(os.environ.get("TMPDIR", "/tmp")).glob("culprit-*")) == before


def test_too_many_entries_refused(tmp_path: Path) -> None:
    a = build_7z(tmp_path / "many.7z", {f"f{i}.log": b"x" for i in range(60)})
    with pytest.raises(HostileArchiveError, match="entries"):
        open_bundle(a, limits=Limits(max_entries=50))


def test_member_larger_than_declared_is_caught_while_writing(tmp_path: Path) -> None:
    """A header that under-states a member's size: the writer stops at the declared size."""
    a = build_7z(tmp_path / "lie.7z", {"CBS.log": CBS_LINE * 100})
    dest = tmp_path / "out.log"
    with pytest.raises(HostileArchiveError, match="larger than its header says"):
        sevenz.extract(a, {"CBS.log": (dest, 10)})
    assert dest.stat().st_size <= 10


def test_encrypted_archive_is_skipped_with_the_reason(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    root.mkdir()
    (root / "CBS.log").write_bytes(CBS_LINE)
    build_7z(root / "secret.7z", {"setupapi.dev.log": b"x"}, password="p@ss")
    with open_bundle(root) as b:
        assert names(b) == ["bundle/CBS.log"]
        assert ("bundle/secret.7z", "encrypted 7z archive not read (ask for it without a password)") in b.skipped


def test_damaged_7z_alone_is_a_clear_error_and_among_files_is_skipped(tmp_path: Path) -> None:
    a = build_7z(tmp_path / "cut.7z", {"CBS.log": CBS_LINE * 2000})
    raw = a.read_bytes()
    a.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="damaged 7z"):
        open_bundle(a)
    root = tmp_path / "bundle"
    root.mkdir()
    (root / "CBS.log").write_bytes(CBS_LINE)
    (root / "cut.7z").write_bytes(raw[: len(raw) // 2])
    with open_bundle(root) as b:
        assert names(b) == ["bundle/CBS.log"]
        assert b.skipped[0][0] == "bundle/cut.7z" and "damaged 7z" in b.skipped[0][1]


def test_corrupt_data_with_intact_header_is_not_half_read(tmp_path: Path) -> None:
    a = build_7z(tmp_path / "crc.7z", {"CBS.log": os.urandom(200_000)})
    raw = bytearray(a.read_bytes())
    raw[100:140] = bytes(40)  # inside the packed stream, the header at the end stays intact
    a.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="damaged 7z"):
        open_bundle(a)
