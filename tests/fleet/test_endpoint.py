"""One bundle → one row, on damaged input too (without Dask: the worker function is plain Python)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from culprit.fleet import endpoint
from culprit.fleet.endpoint import ROW_VERSION, analyze_bundle, empty_row
from tests.fleet.conftest import (
    clean_bundle,
    edge_bundle,
    manifest,
    small_kb_bundle,
    truncated_zip,
    zip_folder,
)


def test_small_kb_bundle_row(tmp_path: Path) -> None:
    b = small_kb_bundle(tmp_path, "pc", "BRANCH-PC-1")
    row = analyze_bundle(str(b))
    assert set(row) == set(empty_row(""))
    expected = {
        "path": str(b),
        "bundle": "pc",
        "host": "BRANCH-PC-1",
        "os_build": "7601.24384",
        "locale": "zh-CN",
        "identity_from": "manifest",
        "outcome": "unexplained",
        "failure": "KB4474419",
        "failure_code": "0x80070005",
        "failure_symbol": "E_ACCESSDENIED",
        "finding": "registry-write-denied",
        "title": r"KB4474419: cpu.inf was denied writing HKLM\SYSTEM\CurrentControlSet\Services\AmdK8",
        "culprit": None,
        "culprit_role": None,
        "product": None,
        "vendor": None,
        "confidence": None,
        "error": None,
        "error_kind": None,
        "worker": None,
        "version": ROW_VERSION,
        "artifacts": 4,
    }
    assert {k: row[k] for k in expected} == expected
    assert row["signature_text"].startswith("kb4474419|0x80070005|registry-write-denied||")
    assert len(row["sha256"]) == 64 and row["seconds"] > 0
    assert {"procmon", "driverquery"} <= set(row["missing"].split(","))  # the analysis' own requests
    (rule,) = json.loads(row["allow"])
    assert rule["process"] == r"C:\Windows\servicing\TrustedInstaller.exe"
    assert len(rule["registry_keys"]) == 5 and len(rule["files"]) == 5


def test_identity_falls_back_to_the_logs_field_by_field(tmp_path: Path) -> None:
    b = small_kb_bundle(tmp_path, "pc", "X")
    (b / "manifest.json").write_text(
        json.dumps({"schema": "culprit.manifest/1", "host": "ONLY-HOST"}), encoding="utf-8"
    )
    row = analyze_bundle(str(b))
    # os build from CBS's "Loaded Servicing Stack v6.1.7601.24384", locale from the CP936 logs
    assert (row["host"], row["os_build"], row["locale"], row["identity_from"]) == (
        "ONLY-HOST",
        "7601",
        "zh-CN",
        "manifest+logs",
    )
    (b / "manifest.json").unlink()
    row = analyze_bundle(str(b))
    assert (row["host"], row["os_build"], row["identity_from"]) == (None, "7601", "logs")


def test_good_folder_inside_a_zip_is_the_good_machine(tmp_path: Path) -> None:
    # bundle zip with one top folder holding bad/ and good/
    staging = tmp_path / "s"
    edge_bundle(staging / "wrap", "BANK-WS-0457")
    z = zip_folder(staging / "wrap", tmp_path / "edge.zip")
    row = analyze_bundle(str(z))
    assert (row["finding"], row["culprit"], row["host"]) == ("injected-module", "schk.dll", "BANK-WS-0457")
    assert row["missing"] is None  # the good machine's capture was used as good evidence


def test_clean_bundle(tmp_path: Path) -> None:
    row = analyze_bundle(str(clean_bundle(tmp_path, "ok", "BANK-WS-2001")))
    assert (row["outcome"], row["signature_text"], row["failure"], row["finding"]) == (
        "no-failure",
        "no-failure",
        None,
        None,
    )
    assert (row["host"], row["os_build"]) == ("BANK-WS-2001", "17763.2928")


def test_damaged_bundles_are_rows(tmp_path: Path) -> None:
    cut = truncated_zip(small_kb_bundle(tmp_path / "s", "c", "C"), tmp_path / "cut.zip")
    row = analyze_bundle(str(cut))
    assert (row["outcome"], row["error_kind"]) == ("unreadable", "InputError")
    assert "damaged zip archive" in row["error"] and row["sha256"]
    assert row["signature_text"] == "unreadable"

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/cron.d/x", "boom")
    row = analyze_bundle(str(evil))
    assert row["error_kind"] == "HostileArchiveError" and "path traversal" in row["error"]

    empty = tmp_path / "empty"
    empty.mkdir()
    row = analyze_bundle(str(empty))
    assert row["error_kind"] == "InputError" and "nothing usable" in row["error"]

    row = analyze_bundle(str(tmp_path / "nope"))
    assert row["error_kind"] == "InputError" and row["sha256"] is None

    huge = tmp_path / "huge" / "Windows" / "Logs" / "CBS"
    huge.mkdir(parents=True)
    (huge / "CBS.log").write_bytes(b"2024-09-03 10:15:22, Info CBS " + b"A" * 5_000_000 + b"\r\n")
    manifest(tmp_path / "huge", "H", "7601")
    row = analyze_bundle(str(tmp_path / "huge"))
    assert row["error"] is None and row["host"] == "H"


def test_a_bug_costs_one_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(ws: object, lang: str = "en") -> None:
        raise KeyError("oops")

    monkeypatch.setattr("culprit.analysis.analyze", boom)
    row = analyze_bundle(str(small_kb_bundle(tmp_path, "pc", "P")))
    assert row["error_kind"] == "InternalError" and row["error"] == "internal error: KeyError: 'oops'"


def test_known_hash_returns_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    b = small_kb_bundle(tmp_path, "pc", "P")
    first = analyze_bundle(str(b))
    monkeypatch.setattr(endpoint, "_analyze", lambda p: pytest.fail("analyzed again"))
    assert analyze_bundle(str(b), known=frozenset({first["sha256"]})) == {
        "path": str(b),
        "sha256": first["sha256"],
        "reused": True,
    }


def test_unreadable_file_inside_a_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def vanish(path: str) -> dict:
        raise PermissionError(
            13, "Permission denied", str(tmp_path / "pc" / "Windows" / "Logs" / "CBS" / "CBS.log")
        )

    b = small_kb_bundle(tmp_path, "pc", "P")
    monkeypatch.setattr(endpoint, "_analyze", vanish)
    row = analyze_bundle(str(b))
    assert (row["error_kind"], row["outcome"]) == ("OSError", "unreadable")
    assert row["error"] == f"cannot read: {b}/Windows/Logs/CBS/CBS.log: Permission denied"
