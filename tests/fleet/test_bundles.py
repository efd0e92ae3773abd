"""PATHS → bundles, and the bundle hash that resume keys on."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

from culprit.fleet.bundles import bundle_sha256, expand, is_bundle_folder


def _bundle(root: Path, name: str, text: str = "2024-09-03 10:15:22, Info  CBS  x\n") -> Path:
    b = root / name / "Windows" / "Logs" / "CBS"
    b.mkdir(parents=True)
    (b / "CBS.log").write_text(text, encoding="utf-8")
    return root / name


def test_folder_of_bundles(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    _bundle(fleet, "host-b")
    _bundle(fleet, "host-a")
    with zipfile.ZipFile(fleet / "host-c.zip", "w") as zf:
        zf.writestr("Windows/Logs/CBS/CBS.log", "x\n")
    (fleet / "notes.txt").write_text("not a bundle\n", encoding="utf-8")
    (fleet / ".hidden").mkdir()
    exp = expand([str(fleet)])
    assert exp.bundles == [str(fleet / "host-a"), str(fleet / "host-b"), str(fleet / "host-c.zip")]
    assert exp.notes == [] and exp.missing == []


def test_bundle_folder_is_one_bundle(tmp_path: Path) -> None:
    b = _bundle(tmp_path, "host-a")
    assert is_bundle_folder(b)
    assert expand([str(b)]).bundles == [str(b)]
    m = tmp_path / "collected"
    m.mkdir()
    (m / "manifest.json").write_text("{}", encoding="utf-8")
    assert expand([str(m)]).bundles == [str(m)]
    case = tmp_path / "case"
    (case / "bad").mkdir(parents=True)
    (case / "good").mkdir()
    assert is_bundle_folder(case)


def test_globs_lists_and_missing(tmp_path: Path) -> None:
    a, b = _bundle(tmp_path, "a1"), _bundle(tmp_path, "a2")
    exp = expand([str(tmp_path / "a*"), str(a), str(tmp_path / "zz*"), str(tmp_path / "gone")])
    assert exp.bundles == [str(a), str(b)]  # each once
    assert exp.notes == [f"{tmp_path / 'zz*'}: no match"]
    assert exp.missing == [str(tmp_path / "gone")]

    lst = tmp_path / "lists" / "patchday.txt"
    lst.parent.mkdir()
    lst.write_bytes(b"\xef\xbb\xbf# bundles of 2024-09-10\n\n../a2\n" + str(a).encode() + b"\n../missing\n")
    exp = expand([str(lst)])
    assert exp.bundles == [str(b), str(a)]
    assert exp.missing == [str(tmp_path / "missing")]


def test_a_log_or_archive_is_a_bundle_not_a_list(tmp_path: Path) -> None:
    log = tmp_path / "CBS.log"
    log.write_text(
        "2024-09-03 10:15:22, Info  CBS  Starting TrustedInstaller initialization.\n", encoding="utf-8"
    )
    assert expand([str(log)]).bundles == [str(log)]
    z = tmp_path / "one.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("x.log", "x")
    assert expand([str(z)]).bundles == [str(z)]
    binary = tmp_path / "blob"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    assert expand([str(binary)]).bundles == [str(binary)]


def test_folder_hash_is_content_and_relative_paths(tmp_path: Path) -> None:
    a = _bundle(tmp_path / "x", "host")
    b = _bundle(tmp_path / "y", "elsewhere")
    assert bundle_sha256(a) == bundle_sha256(b)  # location and folder name do not count
    os.utime(b / "Windows/Logs/CBS/CBS.log", (1, 1))
    assert bundle_sha256(a) == bundle_sha256(b)  # nor do times
    (b / "Windows/Logs/CBS/CBS.log").write_text("changed\n", encoding="utf-8")
    assert bundle_sha256(a) != bundle_sha256(b)
    c = _bundle(tmp_path / "z", "host")
    (c / "Windows/Logs/CBS/CBS.log").rename(c / "Windows/Logs/CBS/CBS.old.log")
    assert bundle_sha256(a) != bundle_sha256(c)
    os.symlink("/etc/hostname", a / "link")  # links are not evidence (ingest skips them too)
    assert bundle_sha256(a) == bundle_sha256(_bundle(tmp_path / "w", "host"))
    expected = hashlib.sha256(
        b"Windows/Logs/CBS/CBS.log\0"
        + hashlib.sha256((a / "Windows/Logs/CBS/CBS.log").read_bytes()).hexdigest().encode()
        + b"\n"
    ).hexdigest()
    assert bundle_sha256(a) == expected


def test_file_hash(tmp_path: Path) -> None:
    f = tmp_path / "b.zip"
    f.write_bytes(b"PK\x03\x04" + b"x" * 3_000_000)
    assert bundle_sha256(f) == hashlib.sha256(f.read_bytes()).hexdigest()


def test_grouping_folders_of_archives_are_walked(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet"
    for rel in ("branch-A/h1.zip", "branch-A/h2.zip", "branch-B/east/h3.cab"):
        (fleet / rel).parent.mkdir(parents=True, exist_ok=True)
        (fleet / rel).write_bytes(b"PK\x05\x06" + b"\0" * 18)
    hand = fleet / "hand-collected" / "CBS"  # no marker, no loose file at the top: still one bundle
    hand.mkdir(parents=True)
    (hand / "CBS.log").write_text("x\n", encoding="utf-8")
    exp = expand([str(fleet)])
    assert exp.bundles == [
        str(fleet / "branch-A/h1.zip"),
        str(fleet / "branch-A/h2.zip"),
        str(fleet / "branch-B/east/h3.cab"),
        str(fleet / "hand-collected"),
    ]
