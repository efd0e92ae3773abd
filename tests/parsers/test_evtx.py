"""EVTX parser: real corpus event logs, install-relevant record mapping, damaged files, no library."""

from __future__ import annotations

import builtins
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from culprit import parsers
from culprit.model import Event, Severity
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.evtx import MISSING_LIBRARY, EvtxParser
from tests.conftest import SHARED, corpus_path, data_path

SYSTEM_WIN11 = "museum_win11-22000_System.evtx"


def need_evtx() -> None:
    pytest.importorskip("evtx", reason="the optional 'evtx' extra is not installed")


def parse(path: Path) -> tuple[list[Event], ParseContext]:
    need_evtx()
    src = Source(path, path.name)
    ctx = ParseContext(src.name)
    return list(EvtxParser().parse(src, ctx)), ctx


def record(events: list[Event], rid: int) -> Event:
    found = [e for e in events if e.origin.record == rid]
    assert len(found) == 1
    return found[0]


def fixture_records() -> list[dict[str, Any]]:
    return json.loads(data_path("parsers", "evtx", "records.json").read_text("utf-8"))


def one(rid: int) -> tuple[Event | None, ParseContext]:
    ctx = ParseContext("Application.evtx")
    rec = next(r for r in fixture_records() if r["event_record_id"] == rid)
    return EvtxParser().record_event(rec, ctx), ctx


# --- real files ---------------------------------------------------------------------------


def test_sniff_corpus_file() -> None:
    cls, _ = parsers.sniff(Source(corpus_path("evtx", SYSTEM_WIN11), "System.evtx"))
    assert cls is EvtxParser


def test_scm_7000_service_failed_to_start() -> None:
    evs, ctx = parse(corpus_path("evtx", "omerbenamram_system.evtx"))
    e = record(evs, 35)
    assert e.kind == "evtx:scm"
    assert dict(e.fields) == {
        "provider": "Service Control Manager", "event_id": 7000, "channel": "System",
        "computer": "WIN-P4SIAA0SQCO", "level": 2, "record_id": 35,
        "data": {"param1": "CldFlt", "param2": "%%50"}, "inserts": [], "service": "CldFlt", "win32": 50,
    }
    assert e.time == datetime(2017, 7, 12, 17, 16, 28, 214161, tzinfo=UTC)
    assert (e.code, e.severity, e.process.pid, e.process.tid) == (50, Severity.ERROR, 620, 1132)
    assert ctx.warning_count == 0


def test_scm_7045_service_installed() -> None:
    evs, _ = parse(corpus_path("evtx", SYSTEM_WIN11))
    e = record(evs, 53)
    assert e.kind == "evtx:scm"
    assert (e.fields["service"], e.fields["path"], e.fields["service_type"], e.fields["start_type"],
            e.fields["account"]) == ("Intel(R) PRO/1000 PCI Express Network Connection Driver I",
                                     r"\SystemRoot\System32\drivers\e1i68x64.sys", "kernel mode driver",
                                     "demand start", "")


def test_wu_20_install_failure() -> None:
    evs, _ = parse(corpus_path("evtx", SYSTEM_WIN11))
    fails = [e for e in evs if e.kind == "evtx:wu-install" and e.fields["result"] == "failure"]
    assert len(fails) == 5
    e = fails[0]
    assert e.fields["data"]["errorCode"] == "0x80073d02"
    assert (e.fields["hresult"], e.code, e.severity) == (0x80073D02, 0x80073D02, Severity.ERROR)
    assert e.fields["title"] == "9WZDNCRFJBH4-Microsoft.Windows.Photos"
    assert e.fields["update_guid"] == "6CE0FD31-E410-43E3-AACA-EDD43C217639"
    assert e.fields["kb"] is None and e.fields["revision"] == 1
    ok = [e for e in evs if e.kind == "evtx:wu-install" and e.fields["result"] == "success"]
    assert any(e.fields["kb"] == "KB5007040" for e in ok)


def test_servicing_userdata_records() -> None:
    evs, _ = parse(corpus_path("evtx", "museum_stolenszechuan-2012r2_Setup.evtx"))
    e = record(evs, 2)
    assert e.kind == "evtx:servicing"
    assert dict(e.fields) == {
        "provider": "Microsoft-Windows-Servicing", "event_id": 2, "channel": "Setup",
        "computer": "WIN-E0PO207ERMD",
        "level": 0, "record_id": 2,
        "data": {"PackageIdentifier": "KB2999226", "IntendedPackageState": "Installed", "ErrorCode": "0x0",
                 "Client": "WindowsUpdateAgent"},
        "inserts": [], "user_data": "CbsPackageChangeState", "package": "KB2999226", "kb": "KB2999226",
        "hresult": 0, "client": "WindowsUpdateAgent", "initial_state": None, "intended_state": "Installed",
        "result": "success",
    }
    first = record(evs, 1)
    assert (first.fields["result"], first.fields["initial_state"]) == ("initiated", "Absent")


def test_servicing_textized_states_win10() -> None:
    evs, _ = parse(corpus_path("evtx", "museum_win10-19043_Setup.evtx"))
    e = record(evs, 1)
    assert (e.fields["initial_state"], e.fields["intended_state"], e.fields["kb"]) == ("Absent", "Installed",
                                                                                      "KB5005716")


def test_msiinstaller_1033_and_11707() -> None:
    evs, _ = parse(corpus_path("evtx", "museum_server2022_Application.evtx"))
    inst = record(evs, 21)
    assert inst.kind == "evtx:msi"
    assert {k: inst.fields[k] for k in ("product", "version", "language", "status", "manufacturer",
                                        "product_code")} == {
        "product": "Microsoft Visual C++ 2022 X86 Minimum Runtime - 14.32.31326", "version": "14.32.31326",
        "language": 1033, "status": 0, "manufacturer": "Microsoft Corporation",
        "product_code": "{46E11E7F-01E1-44D0-BB86-C67342D253DD}",
    }
    done = record(evs, 20)
    assert (done.fields["error"], done.fields["outcome"], done.fields["product"]) == (
        1707, "success", "Microsoft Visual C++ 2022 X86 Minimum Runtime - 14.32.31326")


def test_wer_1001_wcp_failure_params() -> None:
    evs, _ = parse(corpus_path("evtx", "museum_win10-19043_Application.evtx"))
    e = record(evs, 297)
    assert e.kind == "evtx:wer"
    assert e.fields["event_name"] == "WindowsWcpOtherFailure3"
    assert e.fields["params"][:5] == ["10.0.19041.1371:1", r"wcp\componentstore\storelayout.cpp",
                                      "ComponentStore::CRawStoreLayout::HydrateFileUsingForwardAndReverseDeltas",
                                      "1682", "800f0984"]
    assert e.fields["report_path"].endswith("4318f466-4848-4745-bb07-3d7718c6d5df")


def test_every_corpus_evtx_parses() -> None:
    files = sorted((SHARED / "corpus" / "evtx").glob("*.evtx"))
    if not files:
        pytest.skip("shared corpus not available")
    for f in files:
        assert parsers.sniff(Source(f, f.name))[0] is EvtxParser
        evs, ctx = parse(f)
        assert len(evs) > 0, f
        assert ctx.warning_count < max(1, 0.01 * len(evs)), (f, ctx.warnings[:3])
        ids = [e.origin.record for e in evs]
        assert len(set(ids)) == len(ids)


# --- record mapping (records written by us in the shape the evtx package returns) ---------


def test_app_crash_unnamed_inserts() -> None:
    e, _ = one(101)
    assert e is not None and e.kind == "evtx:app-crash"
    f = {k: v for k, v in e.fields.items() if k not in ("data", "inserts")}
    assert f == {
        "provider": "Application Error", "event_id": 1000, "channel": "Application",
        "computer": "BANK-WS-0457",
        "level": 2, "record_id": 101, "process": "MicrosoftEdgeUpdate.exe", "module": "schk.dll",
        "module_version": "3.2.0.118", "module_path": r"C:\Program Files (x86)\TMS\schk.dll",
        "path": r"C:\Program Files (x86)\Microsoft\Temp\EU5A1C.tmp\MicrosoftEdgeUpdate.exe",
        "exception": 0xC0000005, "fault_offset": "0000a1b2", "pid": 7140,
    }
    assert (e.code, e.severity) == (0xC0000005, Severity.ERROR)


def test_app_crash_all_digit_exception_is_hex() -> None:
    rec = next(r for r in fixture_records() if r["event_record_id"] == 102)
    rec = dict(rec, data=rec["data"].replace('"c0000005"', '"80000003"'))
    e = EvtxParser().record_event(rec, ParseContext("a.evtx"))
    assert e is not None and e.fields["exception"] == 0x80000003


def test_app_crash_named_fields_same_answer() -> None:
    a, _ = one(101)
    b, _ = one(102)
    keys = ("process", "module", "module_version", "module_path", "path", "exception", "fault_offset", "pid")
    assert a is not None and b is not None
    assert {k: a.fields[k] for k in keys} == {k: b.fields[k] for k in keys}


def test_wer_appcrash() -> None:
    e, _ = one(103)
    assert e is not None and e.kind == "evtx:wer"
    assert (e.fields["event_name"], e.fields["process"], e.fields["module"], e.fields["exception"]) == (
        "APPCRASH", "MicrosoftEdgeUpdate.exe", "schk.dll", 0xC0000005)


def test_wer_cbs_servicing_failure() -> None:
    e, _ = one(104)
    assert e is not None
    assert {k: e.fields[k] for k in ("package", "kb", "version", "arch", "hresult", "phase", "client")} == {
        "package": "Package_for_KB4474419", "kb": "KB4474419", "version": "6.1.3.3", "arch": "amd64",
        "hresult": 0x80070005, "phase": "Execute", "client": "WindowsUpdateAgent",
    }
    assert e.code == 0x80070005


def test_servicing_3_failure() -> None:
    e, _ = one(105)
    assert e is not None and e.kind == "evtx:servicing"
    assert (e.fields["result"], e.fields["hresult"], e.fields["kb"], e.severity) == (
        "failure", 0x80070005, "KB4474419", Severity.ERROR)


def test_msi_failure_events() -> None:
    failed, _ = one(106)
    assert failed is not None
    assert (failed.fields["error"], failed.fields["outcome"], failed.fields["product"],
            failed.fields["product_code"]) == (1708, "failure", "Microsoft Edge",
                                               "{A6AADA8E-5960-5609-8BBE-A2A10274B245}")
    assert failed.severity is Severity.ERROR
    status, _ = one(107)
    assert status is not None and (status.fields["status"], status.code, status.severity) == (
        1603, 1603, Severity.ERROR)


def test_record_without_event_element_warns() -> None:
    e, ctx = one(108)
    assert e is None and ctx.warning_count == 1


# --- damaged files and a missing library ---------------------------------------------------


@pytest.fixture()
def system_bytes() -> bytes:
    return corpus_path("evtx", SYSTEM_WIN11).read_bytes()


def test_truncated_inside_a_chunk(tmp_path: Path, system_bytes: bytes) -> None:
    p = tmp_path / "t.evtx"
    p.write_bytes(system_bytes[: 4096 + 65536 + 30000])
    evs, ctx = parse(p)
    assert len(evs) > 100
    assert any("truncated" in w.message for w in ctx.warnings)


def test_truncated_inside_the_header(tmp_path: Path, system_bytes: bytes) -> None:
    p = tmp_path / "h.evtx"
    p.write_bytes(system_bytes[:3000])
    evs, ctx = parse(p)
    assert evs == [] and ctx.warning_count >= 1


def test_garbage_over_records(tmp_path: Path, system_bytes: bytes) -> None:
    b = bytearray(system_bytes)
    b[4096 + 9000 : 4096 + 13000] = random.Random(1).randbytes(4000)
    p = tmp_path / "g.evtx"
    p.write_bytes(bytes(b))
    evs, ctx = parse(p)
    assert ctx.warning_count >= 1
    assert any("could not be rendered" in w.message for w in ctx.warnings)
    assert len(evs) > 900  # the other chunks still read


def test_garbage_after_magic(tmp_path: Path) -> None:
    p = tmp_path / "x.evtx"
    p.write_bytes(b"ElfFile\x00" + random.Random(2).randbytes(100_000))
    evs, ctx = parse(p)
    assert evs == [] and ctx.warning_count >= 1


def test_library_missing_is_a_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # runs whether or not the extra is installed: the import is made to fail either way
    real_import = builtins.__import__

    def no_evtx(name: str, *a: Any, **k: Any) -> Any:
        if name == "evtx":
            raise ImportError("No module named 'evtx'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_evtx)
    p = tmp_path / "s.evtx"
    p.write_bytes(b"ElfFile\x00" + bytes(4088 + 65536))
    src = Source(p, p.name)
    assert EvtxParser.sniff(src) == 0.95
    ctx = ParseContext(src.name)
    evs = list(EvtxParser().parse(src, ctx))
    assert evs == []
    assert [w.message for w in ctx.warnings] == [MISSING_LIBRARY]
    assert "pip install 'culprit[evtx]'" in MISSING_LIBRARY
