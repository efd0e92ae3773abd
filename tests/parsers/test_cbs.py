"""CBS.log / CbsPersist parser: real case lines, fixture shapes from formats.md, damage, chunking."""

from __future__ import annotations

import codecs
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.ingest import open_bundle
from culprit.model import Severity
from culprit.parsers import cbs as cbs_mod
from culprit.parsers import sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.cbs import CbsParser
from tests.conftest import case_path, data_path

CASE = ("kb4474419-registry-denied", "bad", "Windows", "Logs", "CBS")
PKG = "Package_for_KB4474419~31bf3856ad364e35~amd64~~6.1.3.2"
E_ACCESSDENIED = 0x80070005
FRAMES = 2  # CSI (F) frames in cbs_failure_shapes.log


def parse(path: Path, offset: int | None = 480, name: str | None = None) -> tuple[list, ParseContext]:
    src = Source(path, name or path.name)
    ctx = ParseContext(src.name, utc_offset=offset)
    return list(CbsParser().parse(src, ctx)), ctx


def by_line(events: list) -> dict[int, object]:
    return {e.origin.line: e for e in events if e.origin.line is not None}


# --- the KB4474419 case ----------------------------------------------------------------------


def test_case_driver_failure_chain() -> None:
    evs, ctx = parse(case_path(*CASE, "CBS.log"))
    assert ctx.warning_count == 0
    lines = by_line(evs)

    install = lines[124]
    assert install.kind == "cbs:driver"
    assert install.code == 5
    assert dict(install.fields) == {
        "operation": "INSTALL",
        "index": 0,
        "phase": 1,
        "win32": 5,
        "inf": "cpu.inf",
        "level": "Info",
        "component": "CBS",
    }
    assert install.local_time == datetime(2024, 9, 3, 10, 30, 41)  # noqa: DTZ001
    assert install.time == datetime(2024, 9, 3, 2, 30, 41, tzinfo=UTC)
    assert install.utc_offset == 480
    assert install.origin.text == (
        "2024-09-03 10:30:41, Info                  CBS    INSTALL index: 0, phase: 1, result 5, inf: cpu.inf"
    )

    record = lines[125]
    assert record.kind == "cbs:driver"
    assert dict(record.fields) == {
        "hresult": E_ACCESSDENIED,
        "inf": "cpu.inf",
        "level": "Info",
        "component": "CBS",
    }
    assert record.code == E_ACCESSDENIED

    startup = lines[129]
    assert startup.kind == "cbs:startup"
    assert startup.severity is Severity.ERROR
    assert startup.code == E_ACCESSDENIED
    assert dict(startup.fields) == {
        "hresult": E_ACCESSDENIED,
        "symbol": "E_ACCESSDENIED",
        "stage": "Startup",
        "failure": True,
        "rollback": False,
        "level": "Error",
        "component": "CBS",
    }
    assert startup.message == (
        "Startup: Failed while processing non-critical driver operations queue. [HRESULT = 0x80070005 - E_ACCESSDENIED]"  # noqa: E501
    )

    rollback = lines[130]
    assert rollback.kind == "cbs:startup" and rollback.fields["rollback"] is True

    rolled = lines[137]
    assert rolled.fields["state"] == "Staged"
    assert rolled.fields["package"] == PKG and rolled.fields["kb"] == "KB4474419"

    wer = lines[165]
    assert wer.kind == "cbs:wer"
    assert dict(wer.fields) == {
        "hresult": E_ACCESSDENIED,
        "package": PKG,
        "arch": "amd64",
        "version": "6.1.3.2",
        "kb": "KB4474419",
        "failure_source": "DOQ",
        "start_state": "Staged",
        "target_state": "Installed",
        "client": "WindowsUpdateAgent",
        "level": "Info",
        "component": "CBS",
    }


def test_case_sessions_exec_perf_runs() -> None:
    evs, _ = parse(case_path(*CASE, "CBS.log"))
    lines = by_line(evs)
    s = lines[57]
    assert s.kind == "cbs:session"
    assert s.fields["session"] == "31128999_1337659839"
    assert s.fields["action"] == "initialized"
    assert s.fields["client"] == "WindowsUpdateAgent"
    # The FILETIME in the id is the session's UTC start: 02:16:39.99 UTC = 10:16:40 local (UTC+8).
    assert s.fields["session_time"] == datetime(2024, 9, 3, 2, 16, 39, 987654, tzinfo=UTC)

    fin = lines[91]
    assert (fin.fields["action"], fin.fields["reboot_required"], fin.fields["hresult"]) == (
        "finalized",
        True,
        0,
    )

    ex = lines[90]
    assert ex.kind == "cbs:exec"
    assert ex.fields["action"] == "Processing complete"
    assert ex.fields["session"] == "31128999_1337659839"
    assert ex.fields["package"] == PKG and ex.fields["symbol"] == "S_OK"

    inst = lines[75]
    assert inst.fields["action"] == "Installing Package"
    assert inst.fields["deployment"] == "amd64_cpu.inf_31bf3856ad364e35_6.1.7601.24499_none_4f2e8c0a1b7d3e96"

    perf = lines[121]
    assert (perf.kind, perf.fields["phase"], perf.fields["state"]) == (
        "cbs:perf",
        "Doqe: Install started",
        "started",
    )

    runs = [
        (e.origin.line, e.fields["boundary"]) for e in evs if e.kind == "cbs:run" and e.fields["boundary"]
    ]
    assert runs == [(1, "start"), (96, "end"), (97, "start"), (144, "end"), (145, "start"), (189, "end")]

    pkg = lines[46]
    assert pkg.kind == "cbs:package"
    assert (pkg.fields["current_state"], pkg.fields["applicable_state"]) == ("Absent", "Installed")

    summary = evs[-1]
    assert summary.kind == "cbs:summary"
    assert summary.fields["lines"] == 189
    assert summary.fields["plain_info_lines"] == 189 - sum(
        1 + len(e.fields.get("continuation", "").splitlines()) for e in evs[:-1]
    )


def test_every_error_warning_and_coded_line_is_an_event() -> None:
    path = case_path(*CASE, "CBS.log")
    evs, _ = parse(path)
    kept = {e.origin.line for e in evs}
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line[:4].isdigit():
            continue
        coded = any(
            k in line for k in ("HRESULT", ", Error ", ", Warning ", "0x8", "(F)", "Failed", "failed")
        )
        if coded:
            assert n in kept, line


def test_utc_offsets_from_csi_stamps_and_session_ids() -> None:
    src = Source(case_path(*CASE, "CBS.log"), "CBS.log")
    offs = list(CbsParser.utc_offsets(src))
    assert len(offs) > 10
    assert set(offs) == {480}
    fix = Source(data_path("parsers", "cbs", "cbs_failure_shapes.log"), "x")
    assert set(CbsParser.utc_offsets(fix)) == {-360}


def test_cbspersist_from_cab_is_parsed() -> None:
    with open_bundle(case_path("kb4474419-registry-denied", "bad")) as b:
        srcs = [s for s in b.sources if s.filename.startswith("CbsPersist_")]
        assert len(srcs) == 1
        cls, _ = sniff(srcs[0])
        assert cls is CbsParser
        ctx = ParseContext(srcs[0].name, 480)
        evs = list(CbsParser().parse(srcs[0], ctx))
    assert ctx.warning_count == 0
    assert sum(1 for e in evs if e.kind == "cbs:session") >= 10
    assert evs[0].origin.artifact.endswith("CbsPersist_20240903101522.log")


# --- shapes from formats.md (constructed fixture) ---------------------------------------------


def test_failure_shapes_fixture() -> None:
    evs, ctx = parse(data_path("parsers", "cbs", "cbs_failure_shapes.log"), offset=-360)
    assert ctx.warning_count == 0
    lines = by_line(evs)

    f = lines[10]
    assert f.kind == "cbs:csi_failure"
    assert f.code == 0xD000042A
    assert dict(f.fields) == {
        "csi_seq": 0xEE,
        "symbol": "STATUS_REQUEST_OUT_OF_SEQUENCE",
        "correlation": 785758,
        "function": "CCSDirectTransaction::PerformChangeAnalysis(...)",
        "gle": 0xD000042A,
        "level": "Error",
        "component": "CSI",
    }
    assert f.time == datetime(2016, 10, 31, 17, 25, 11, tzinfo=UTC)

    # hr: form with two continuation lines: one record, origin at its first line.
    hr = lines[12]
    assert hr.code == 0x800705AA
    assert hr.fields["continuation"].splitlines() == [
        "    Install (5): flags: 0 tlc: [amd64_microsoft-windows-ntdll_31bf3856ad364e35_6.1.7601.23572_none_d0e3f5b6e7b1f1a2, Version = 6.1.7601.23572]",  # noqa: E501
        "    Completion status: 0x800705aa",
    ]
    assert hr.origin.text.count("\n") == 2
    assert 13 not in lines and 14 not in lines

    assert lines[17].severity is Severity.WARNING
    change = lines[18]
    assert change.kind == "cbs:package"
    assert change.fields["failure_source"] == "Execute"
    assert change.fields["client"] == "wusa"
    assert change.code == 0x80070308

    done = lines[20]
    assert done.fields["symbol"] == "CBS_E_INSTALLERS_FAILED"
    assert done.fields["session_time"] == datetime(2016, 10, 31, 17, 24, 51, 432100, tzinfo=UTC)


def test_dism_hosted_session_and_wrapped_gle() -> None:
    """Clients with blanks, packages not named Package_*, a frame whose [gle=] wrapped to the next line."""
    evs, ctx = parse(data_path("parsers", "cbs", "cbs_failure_shapes.log"), offset=-360)
    assert ctx.warning_count == 0
    lines = by_line(evs)
    s = lines[23]
    assert (s.kind, s.fields["client"], s.fields["session"]) == (
        "cbs:session",
        "DISM Package Manager Provider",
        "30552987_3240663848",
    )
    assert s.fields["session_time"] == datetime(2016, 10, 31, 17, 25, 20, 77700, tzinfo=UTC)
    ex = lines[24]
    assert (ex.fields["client"], ex.fields["package"], ex.fields["arch"], ex.fields["version"]) == (
        "DISM Package Manager Provider",
        "OpenSSH-Server-Package~31bf3856ad364e35~amd64~~10.0.17763.1",
        "amd64",
        "10.0.17763.1",
    )
    assert "kb" not in ex.fields
    f = lines[25]
    assert f.kind == "cbs:csi_failure"
    assert (f.code, f.fields["gle"], f.fields["symbol"], f.fields["correlation"]) == (
        0xD0000022,
        0xD0000022,
        "STATUS_ACCESS_DENIED",
        3318274,
    )
    assert f.fields["function"].startswith(
        "Windows::Rtl::SystemImplementation::DirectRegistryProvider::SysCreateKey("
    )
    assert f.fields["continuation"] == "[gle=0xd0000022]"
    assert set(CbsParser.utc_offsets(Source(data_path("parsers", "cbs", "cbs_failure_shapes.log"), "x"))) == {
        -360
    }


def test_small_chunks_give_the_same_events(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Records never split across read chunks: a tiny chunk size must not change anything."""
    data = (
        case_path(*CASE, "CBS.log").read_bytes()
        + data_path("parsers", "cbs", "cbs_failure_shapes.log").read_bytes()
    )
    p = tmp_path / "CBS.log"
    p.write_bytes(data * 3)
    want, _ = parse(p)
    monkeypatch.setattr(cbs_mod, "CHUNK", 997)
    got, ctx = parse(p)
    assert ctx.warning_count == 0
    assert [(e.origin.line, e.kind, e.origin.text) for e in got] == [
        (e.origin.line, e.kind, e.origin.text) for e in want
    ]
    assert got[-1].fields == want[-1].fields


def test_utf16_cbs_log_is_transcoded(tmp_path: Path) -> None:
    text = data_path("parsers", "cbs", "cbs_failure_shapes.log").read_text("utf-8")
    p = tmp_path / "CBS.log"
    p.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    got, ctx = parse(p, offset=-360)
    want, _ = parse(data_path("parsers", "cbs", "cbs_failure_shapes.log"), offset=-360)
    assert ctx.warning_count == 0
    assert [(e.origin.line, e.kind, dict(e.fields)) for e in got] == [
        (e.origin.line, e.kind, dict(e.fields)) for e in want
    ]


# --- damaged input ----------------------------------------------------------------------------


def test_truncated_file_keeps_the_partial_last_record(tmp_path: Path) -> None:
    data = case_path(*CASE, "CBS.log").read_bytes()
    cut = data.index(b"Startup: Failed while processing") + 30
    p = tmp_path / "CBS.log"
    p.write_bytes(data[:cut])
    evs, ctx = parse(p)
    assert ctx.warning_count == 0
    last = [e for e in evs if e.kind != "cbs:summary"][-1]
    assert last.origin.line == 129 and last.severity is Severity.ERROR


def test_binary_garbage_is_warned_not_raised(tmp_path: Path) -> None:
    data = data_path("parsers", "cbs", "cbs_failure_shapes.log").read_bytes()
    rnd = random.Random(7)
    garbage = bytes(rnd.randrange(256) for _ in range(5000))
    p = tmp_path / "CBS.log"
    p.write_bytes(data + garbage + b"\r\n" + data)
    evs, ctx = parse(p, offset=-360)
    assert ctx.warning_count >= 1
    assert any("binary data" in w.message for w in ctx.warnings)
    assert sum(1 for e in evs if e.kind == "cbs:csi_failure") == 2 * FRAMES


def test_ten_megabyte_line_is_cut_with_a_warning(tmp_path: Path) -> None:
    data = data_path("parsers", "cbs", "cbs_failure_shapes.log").read_bytes()
    huge = b"2016-10-31 11:25:20, Error                 CBS    " + b"A" * (10 << 20) + b"\r\n"
    p = tmp_path / "CBS.log"
    p.write_bytes(data + huge + data)
    evs, ctx = parse(p, offset=-360)
    n = data.count(b"\n")
    assert any("longer than" in w.message for w in ctx.warnings)
    errs = [e for e in evs if e.origin.line == n + 1]
    assert len(errs) == 1 and errs[0].severity is Severity.ERROR
    assert len(errs[0].origin.text) <= cbs_mod.MAX_TEXT
    # the file goes on after the long line, with line numbers intact
    assert sum(1 for e in evs if e.kind == "cbs:csi_failure") == 2 * FRAMES
    assert any(e.origin.line == n + 1 + 10 for e in evs if e.kind == "cbs:csi_failure")


def test_wrong_encoding_bytes_are_replaced_with_a_warning(tmp_path: Path) -> None:
    p = tmp_path / "CBS.log"
    good = data_path("parsers", "cbs", "cbs_failure_shapes.log").read_bytes()
    bad = "2016-10-31 11:25:20, Error                 CBS    Failed for C:\\Users\\José [HRESULT = 0x80070005 - E_ACCESSDENIED]\r\n"  # noqa: E501
    reps = 70_000 // len(good) + 1  # the encoding is sniffed from the first 64 KiB: valid UTF-8
    p.write_bytes(good * reps + bad.encode("cp1252"))
    evs, ctx = parse(p, offset=-360)
    assert [w.message for w in ctx.warnings] == ["bytes not valid utf-8 replaced"]
    n = good.count(b"\n") * reps + 1
    assert ctx.warnings[0].line == n
    last = next(e for e in evs if e.origin.line == n)
    assert last.code == E_ACCESSDENIED
    assert "Jos\ufffd" in last.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(tmp_path: Path, blob: bytes) -> None:
    p = tmp_path / "CBS.log"
    prefix = b"2024-09-03 10:30:41, Info                  CBS    Session: 1_2 initialized by client x.\r\n"
    for data in (blob, prefix + blob):
        p.write_bytes(data)
        src = Source(p, "CBS.log")
        ctx = ParseContext("CBS.log", 0)
        evs = list(CbsParser().parse(src, ctx))
        assert evs[-1].kind == "cbs:summary"
        list(CbsParser.utc_offsets(src))


# --- every real file of this kind --------------------------------------------------------------


def test_every_case_cbs_file_parses_cleanly() -> None:
    root = case_path()
    with open_bundle(root) as b:
        srcs = [s for s in b.sources if sniff(s)[0] is CbsParser]
        assert len(srcs) >= 2
        for s in srcs:
            ctx = ParseContext(s.name, 0)
            evs = list(CbsParser().parse(s, ctx))
            lines = evs[-1].fields["lines"]
            assert len(evs) > 1, s.name
            assert ctx.warning_count < max(1, lines // 100), (s.name, ctx.warnings[:3])


def test_keyword_fallback_builds_the_same_events(monkeypatch: pytest.MonkeyPatch) -> None:
    """Events are built positionally when the model's field order allows; the keyword path is the same."""
    path = data_path("parsers", "cbs", "cbs_failure_shapes.log")
    fast, _ = parse(path, offset=-360)
    monkeypatch.setattr(cbs_mod, "_POSITIONAL", False)
    slow, _ = parse(path, offset=-360)
    assert fast == slow
    assert cbs_mod._POSITIONAL is False
