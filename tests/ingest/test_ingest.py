"""Bundle ingestion: folders, zips, cabinets, nesting, and archives that try to hurt us."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from culprit.errors import HostileArchiveError, InputError
from culprit.ingest import Limits, open_bundle
from tests.builders import build_cab, build_zip

CBS_LINE = b"2024-09-03 10:15:22, Info                  CBS    Starting TrustedInstaller initialization.\r\n"


def names(bundle) -> list[str]:
    return [s.name for s in bundle.sources]


def test_folder_bundle_lists_files_with_display_paths(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    (root / "Windows" / "Logs" / "CBS").mkdir(parents=True)
    (root / "Windows" / "Logs" / "CBS" / "CBS.log").write_bytes(CBS_LINE)
    (root / "fltmc.txt").write_bytes(b"x")
    with open_bundle(root) as b:
        assert names(b) == ["bad/fltmc.txt", "bad/Windows/Logs/CBS/CBS.log"]


def test_single_file_is_a_bundle(tmp_path: Path) -> None:
    f = tmp_path / "CBS.log"
    f.write_bytes(CBS_LINE)
    with open_bundle(f) as b:
        assert names(b) == ["CBS.log"]
        assert b.sources[0].path == f


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_bundle(tmp_path / "nope")


def test_cab_member_extracted(tmp_path: Path) -> None:
    data = CBS_LINE * 5000  # > 32 KiB: several MSZIP blocks sharing a window
    cab = tmp_path / "CbsPersist_20240903101522.cab"
    cab.write_bytes(build_cab({"CbsPersist_20240903101522.log": data}))
    with open_bundle(cab) as b:
        assert names(b) == ["CbsPersist_20240903101522.cab/CbsPersist_20240903101522.log"]
        assert b.sources[0].path.read_bytes() == data


def test_uncompressed_cab_and_several_members(tmp_path: Path) -> None:
    cab = tmp_path / "x.cab"
    cab.write_bytes(build_cab({"a.log": b"A" * 40000, "sub\\b.log": b"B" * 10}, compress=False))
    with open_bundle(cab) as b:
        got = {s.name: s.path.read_bytes() for s in b.sources}
    assert got == {"x.cab/a.log": b"A" * 40000, "x.cab/sub/b.log": b"B" * 10}


def test_nested_cab_in_zip(tmp_path: Path) -> None:
    cab = build_cab({"CbsPersist_1.log": CBS_LINE})
    z = tmp_path / "bundle.zip"
    z.write_bytes(build_zip({"Windows/Logs/CBS/CbsPersist_1.cab": cab, "Windows/Logs/CBS/CBS.log": CBS_LINE}))
    with open_bundle(z) as b:
        assert names(b) == [
            "bundle.zip/Windows/Logs/CBS/CBS.log",
            "bundle.zip/Windows/Logs/CBS/CbsPersist_1.cab/CbsPersist_1.log",
        ]
        assert all(s.path.read_bytes() == CBS_LINE for s in b.sources)


def test_lzx_cab_is_skipped_with_reason(tmp_path: Path) -> None:
    cab = tmp_path / "lzx.cab"
    cab.write_bytes(build_cab({"a.log": b"x"}, compression_type=3))
    with open_bundle(cab) as b:
        assert b.sources == []
        assert b.skipped and "LZX compression is not supported" in b.skipped[0][1]


def test_truncated_cab_is_a_clear_error(tmp_path: Path) -> None:
    cab = tmp_path / "t.cab"
    cab.write_bytes(build_cab({"a.log": CBS_LINE * 100})[:60])
    with pytest.raises(InputError, match="truncated"):
        open_bundle(cab)


@pytest.mark.parametrize("evil", ["../../etc/passwd", "a/../../b.log", "..\\..\\win.ini"])
def test_zip_slip_refused(tmp_path: Path, evil: str) -> None:
    z = tmp_path / "evil.zip"
    z.write_bytes(build_zip({"ok.log": b"x", evil: b"pwned"}))
    with pytest.raises(HostileArchiveError, match="traversal"):
        open_bundle(z)
    assert not (tmp_path.parent / "b.log").exists()


@pytest.mark.parametrize("evil", ["/etc/passwd", "C:\\Windows\\win.ini", "\\\\server\\share\\x"])
def test_absolute_member_refused(tmp_path: Path, evil: str) -> None:
    z = tmp_path / "abs.zip"
    z.write_bytes(build_zip({evil: b"x"}))
    with pytest.raises(HostileArchiveError, match="absolute"):
        open_bundle(z)


def test_symlink_entry_ignored_not_followed(tmp_path: Path) -> None:
    z = tmp_path / "link.zip"
    z.write_bytes(build_zip({"CBS.log": CBS_LINE}, symlinks={"passwd": "/etc/passwd"}))
    with open_bundle(z) as b:
        assert names(b) == ["link.zip/CBS.log"]
        assert ("link.zip/passwd", "link ignored") in b.skipped


def test_symlink_in_folder_ignored(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    root.mkdir()
    (root / "CBS.log").write_bytes(CBS_LINE)
    os.symlink("/etc/passwd", root / "passwd")
    os.symlink("/etc", root / "etc")
    with open_bundle(root) as b:
        assert names(b) == ["bundle/CBS.log"]
        assert {n for n, _ in b.skipped} == {"bundle/passwd", "bundle/etc"}


def test_zip_bomb_1000_to_1_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("CBS.log", b"\0" * (20 * 1024 * 1024))
    info = zipfile.ZipFile(io.BytesIO(buf.getvalue())).infolist()[0]
    assert info.file_size / info.compress_size > 900
    z = tmp_path / "bomb.zip"
    z.write_bytes(buf.getvalue())
    with pytest.raises(HostileArchiveError, match="compression bomb"):
        open_bundle(z)


def test_lying_zip_header_caught_while_copying(tmp_path: Path) -> None:
    # A member whose header under-states its size is stopped at the stated size.
    z = tmp_path / "lie.zip"
    z.write_bytes(build_zip({"a.log": b"A" * 5000}))
    raw = bytearray(z.read_bytes())
    # patch the central directory's uncompressed size (offset 24 in the CD record) to 10
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    lh = raw.find(b"PK\x03\x04")
    raw[lh + 22 : lh + 26] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    with pytest.raises(InputError):
        open_bundle(z)


def test_100k_entries_refused(tmp_path: Path) -> None:
    z = tmp_path / "many.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_STORED) as zf:
        for i in range(100_000):
            zf.writestr(f"f{i}.log", b"")
    with pytest.raises(HostileArchiveError, match="entries"):
        open_bundle(z)


def test_nesting_depth_limited(tmp_path: Path) -> None:
    inner = build_zip({"CBS.log": CBS_LINE})
    for _ in range(6):
        inner = build_zip({"inner.zip": inner})
    z = tmp_path / "deep.zip"
    z.write_bytes(inner)
    with pytest.raises(HostileArchiveError, match="nested deeper"):
        open_bundle(z)


def test_total_size_cap(tmp_path: Path) -> None:
    z = tmp_path / "big.zip"
    z.write_bytes(build_zip({"a.log": os.urandom(300_000), "b.log": os.urandom(300_000)}))
    with pytest.raises(HostileArchiveError, match="expands past"):
        open_bundle(z, Limits(max_total_bytes=500_000))


def test_damaged_zip_is_a_clear_error(tmp_path: Path) -> None:
    z = tmp_path / "broken.zip"
    z.write_bytes(b"PK\x03\x04" + os.urandom(200))
    with pytest.raises(InputError, match="damaged zip"):
        open_bundle(z)


def test_temp_files_removed_on_close(tmp_path: Path) -> None:
    z = tmp_path / "b.zip"
    z.write_bytes(build_zip({"CBS.log": CBS_LINE}))
    b = open_bundle(z)
    extracted = b.sources[0].path
    assert extracted.exists()
    b.close()
    assert not extracted.exists()


def test_manifest_read(tmp_path: Path) -> None:
    z = tmp_path / "c.zip"
    z.write_bytes(build_zip({"manifest.json": b'{"timezone_offset_minutes": 480, "locale": "zh-CN"}', "CBS.log": CBS_LINE}))
    with open_bundle(z) as b:
        assert b.utc_offset == 480
        assert b.locale == "zh-CN"
        assert all(s.locale == "zh-CN" for s in b.sources)


def test_bad_manifest_is_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "m"
    root.mkdir()
    (root / "manifest.json").write_bytes(b"{not json")
    with open_bundle(root) as b:
        assert b.manifest is None
        assert "manifest.json not used" in b.warnings[0].message


def test_damaged_archive_inside_a_folder_is_skipped_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    root.mkdir()
    (root / "CBS.log").write_bytes(CBS_LINE)
    (root / "old.zip").write_bytes(b"PK\x03\x04" + os.urandom(100))
    with open_bundle(root) as b:
        assert names(b) == ["bundle/CBS.log"]
        assert b.skipped[0][0] == "bundle/old.zip" and "damaged archive not read" in b.skipped[0][1]


def test_hostile_archive_inside_a_folder_is_still_fatal(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    root.mkdir()
    (root / "evil.zip").write_bytes(build_zip({"../x.log": b"x"}))
    with pytest.raises(HostileArchiveError):
        open_bundle(root)
