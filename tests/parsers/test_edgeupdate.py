"""MicrosoftEdgeUpdate.log parser: the case logs (UTF-16LE), our ANSI fixture, damaged input."""
# ruff: noqa: DTZ001  (naive datetimes here are the local times as the log writes them)

from __future__ import annotations

import codecs
import random
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit import parsers
from culprit.model import Event, Severity
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.edgeupdate import EdgeUpdateParser
from tests.conftest import case_path, data_path

LOG = ("ProgramData", "Microsoft", "EdgeUpdate", "Log", "MicrosoftEdgeUpdate.log")
BAD = ("edge-injected-dll", "bad", *LOG)
GOOD = ("edge-injected-dll", "good", *LOG)
FIXTURE = ("parsers", "edgeupdate", "ansi_install_failed.log")


def parse(path: Path, offset: int | None = 480) -> tuple[list[Event], ParseContext]:
    src = Source(path, "MicrosoftEdgeUpdate.log")
    ctx = ParseContext(src.name, offset)
    return list(EdgeUpdateParser().parse(src, ctx)), ctx


def line_event(events: list[Event], line: int) -> Event:
    found = [e for e in events if e.origin.line == line and e.kind != "edgeupdate:run"]
    assert len(found) == 1, [e.kind for e in found]
    return found[0]


def runs(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == "edgeupdate:run"]


def test_case_logs_sniff_as_edgeupdate() -> None:
    for parts in (BAD, GOOD):
        cls, _ = parsers.sniff(Source(case_path(*parts), "x/MicrosoftEdgeUpdate.log"))
        assert cls is EdgeUpdateParser


def test_bad_banner_line_9_and_is_machine_line_10() -> None:
    evs, ctx = parse(case_path(*BAD))
    assert ctx.warning_count == 0
    b = line_event(evs, 9)
    assert b.kind == "edgeupdate:banner"
    dll = r"C:\Program Files (x86)\Microsoft\Temp\EU5A1C.tmp\msedgeupdate.dll"
    assert dict(b.fields) == {
        "process": "MicrosoftEdgeUpdate", "module": "msedgeupdate", "pid": 7140, "tid": 7144,
        "parts": [dll, "version 1.3.163.19", "opt", "official"], "marker": "banner",
        "path": dll, "version": "1.3.163.19",
    }
    assert b.local_time == datetime(2022, 6, 16, 10, 43, 4, 906000)
    assert b.time == datetime(2022, 6, 16, 2, 43, 4, 906000, tzinfo=UTC)
    m = line_event(evs, 10)
    assert m.kind == "edgeupdate:is-machine"
    assert m.fields["is_machine"] is True
    assert m.fields["current_dir"] == r"C:\Program Files (x86)\Microsoft\Temp\EU5A1C.tmp"


def test_bad_failure_line_12() -> None:
    evs, _ = parse(case_path(*BAD))
    f = line_event(evs, 12)
    assert f.kind == "edgeupdate:failed"
    assert dict(f.fields) == {
        "process": "MSI8F3A", "module": "MSI8F3A", "pid": 6852, "tid": 6856,
        "parts": ["ExtractAndRun failed", "0x80040902"], "marker": "failed",
        "function": "ExtractAndRun", "hresult": 0x80040902,
    }
    assert f.code == 0x80040902 and f.severity is Severity.ERROR
    ex = line_event(evs, 11)
    assert ex.kind == "edgeupdate:process-exited"
    assert (ex.fields["child_pid"], ex.fields["exit_code"]) == (7140, 0x80040C01)


def test_bad_runs_early_exit() -> None:
    evs, _ = parse(case_path(*BAD))
    rs = runs(evs)
    assert [(r.fields["pid"], r.fields["early_exit"]) for r in rs] == [
        (9144, True), (9012, False), (6604, True), (6388, False), (7140, True), (6852, False)]
    r = rs[4]
    assert dict(r.fields) == {
        "pid": 7140, "process": "MicrosoftEdgeUpdate", "first_line": 9, "last_line": 10, "lines": 2,
        "start": datetime(2022, 6, 16, 2, 43, 4, 906000, tzinfo=UTC),
        "end": datetime(2022, 6, 16, 2, 43, 4, 906000, tzinfo=UTC),
        "version": "1.3.163.19", "is_machine": True, "banner": True, "early_exit": True,
        "ran_installer": False,
        "installer_results": [], "failures": [], "exit_code": 0x80040C01, "exit_line": 11,
    }
    assert r.origin.line == 9 and r.severity is Severity.ERROR
    meta = rs[5]
    assert meta.fields["failures"] == [{"function": "ExtractAndRun", "hresult": 0x80040902, "line": 12}]
    assert meta.fields["banner"] is False and meta.code == 0x80040902


def test_good_installer_result_line_10_and_runs() -> None:
    evs, ctx = parse(case_path(*GOOD))
    assert ctx.warning_count == 0
    r = line_event(evs, 10)
    assert r.kind == "edgeupdate:installer-result"
    assert (r.fields["app_id"], r.fields["result"], r.code) == (
        "{56EB18F8-B008-4CBD-B6D2-8C97FE7E9062}", 0, 0)
    run_ = line_event(evs, 9)
    assert run_.kind == "edgeupdate:running-installer"
    assert run_.fields["args"] == "--msedge --channel=stable --system-level --verbose-logging"
    assert run_.fields["path"].endswith(r"\MicrosoftEdge_X64_102.0.1245.39.exe")
    ret = line_event(evs, 11)
    assert ret.kind == "edgeupdate:install-app-returned"
    assert (ret.fields["hresult"], ret.fields["type"], ret.fields["result"]) == (0, 1, 0)
    rs = runs(evs)
    assert [(r.fields["pid"], r.fields["early_exit"], r.fields["ran_installer"]) for r in rs] == [
        (6280, False, False), (7012, False, True)]
    assert rs[1].fields["installer_results"] == [
        {"app_id": "{56EB18F8-B008-4CBD-B6D2-8C97FE7E9062}", "result": 0, "line": 10}]


def test_ansi_fixture_failure_markers_and_continuation() -> None:
    evs, ctx = parse(data_path(*FIXTURE))
    assert ctx.warning_count == 0
    cont = line_event(evs, 5)
    assert cont.kind == "edgeupdate:line"
    assert cont.fields["continuation"] is True and cont.fields["pid"] == 8016
    ret = line_event(evs, 6)
    assert (ret.fields["hresult"], ret.fields["result"], ret.code) == (0x80040902, 1603, 0x80040902)
    res = line_event(evs, 4)
    assert (res.fields["result"], res.severity) == (1603, Severity.ERROR)
    rs = runs(evs)
    assert rs[0].fields["lines"] == 7 and rs[0].fields["ran_installer"] is True
    assert rs[0].fields["failures"] == [{"function": "Install", "hresult": 0x80040902, "line": 7}]
    assert rs[1].fields["early_exit"] is True and rs[1].fields["is_machine"] is False


def test_same_pid_reused_starts_a_new_run(tmp_path: Path) -> None:
    lines = data_path(*FIXTURE).read_text("cp1252").splitlines()
    again = [ln.replace("[9100:9104]", "[8016:8020]") for ln in lines[7:9]]
    p = tmp_path / "reuse.log"
    p.write_text("\r\n".join(lines[:7] + again) + "\r\n", "cp1252")
    evs, _ = parse(p)
    rs = runs(evs)
    assert [(r.fields["pid"], r.fields["first_line"], r.fields["last_line"]) for r in rs] == [
        (8016, 1, 7), (8016, 8, 9)]


# --- damaged input ---------------------------------------------------------------------


def test_truncated_mid_record(tmp_path: Path) -> None:
    data = case_path(*BAD).read_bytes()
    p = tmp_path / "t.log"
    p.write_bytes(data[: data.index("[06/16/22 10:43:05.051]".encode("utf-16-le")) + 20])
    evs, ctx = parse(p)
    assert any("malformed" in w.message for w in ctx.warnings)
    assert len(runs(evs)) == 6


def test_garbage_and_odd_length(tmp_path: Path) -> None:
    data = case_path(*BAD).read_bytes()
    junk = bytes(random.Random(3).getrandbits(8) for _ in range(4096))
    p = tmp_path / "g.log"
    p.write_bytes(data[:1000] + junk + data[1000:] + b"\x41")
    evs, ctx = parse(p)
    assert ctx.warning_count >= 1
    assert any(e.kind == "edgeupdate:failed" for e in evs)


def test_ten_megabyte_line(tmp_path: Path) -> None:
    text = data_path(*FIXTURE).read_text("cp1252")
    p = tmp_path / "big.log"
    p.write_text("[09/20/22 13:07:19.239][x:y][1:2][" + "A" * (10 * 1024 * 1024) + "]\r\n" + text, "cp1252")
    evs, ctx = parse(p)
    assert any("longer than" in w.message for w in ctx.warnings)
    assert any(e.kind == "edgeupdate:failed" for e in evs)


def test_wrong_encoding_utf16_shifted_by_one_byte(tmp_path: Path) -> None:
    # BOM-less UTF-16 with one stray leading byte: the NULs land on even offsets and the text
    # is read as 8-bit; every line then carries NULs and is reported, none is misread as a record
    raw = data_path(*FIXTURE).read_text("cp1252").encode("utf-16-le")
    p = tmp_path / "w.log"
    p.write_bytes(b"\x20" + raw)
    evs, ctx = parse(p)
    assert ctx.warning_count >= 1
    assert not [e for e in evs if e.kind in ("edgeupdate:failed", "edgeupdate:banner")]


def test_bad_date_in_stamp_warns(tmp_path: Path) -> None:
    p = tmp_path / "d.log"
    p.write_text("[13/45/22 10:43:04.906][MicrosoftEdgeUpdate:msedgeupdate][1:2][x]\r\n", "ascii")
    evs, ctx = parse(p)
    assert any("bad date" in w.message for w in ctx.warnings)
    assert evs[0].time is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), wide=st.booleans())
def test_arbitrary_bytes_never_raise(tmp_path: Path, data: bytes, wide: bool) -> None:
    p = tmp_path / "fuzz.log"
    head = codecs.BOM_UTF16_LE + "[06/16/22 10:43:04.906][a:b][1:2][x]\r\n".encode("utf-16-le")
    p.write_bytes(head + data if wide else data)
    evs, _ = parse(p)
    assert all(e.origin.artifact == "MicrosoftEdgeUpdate.log" for e in evs)


def test_every_case_edgeupdate_log_parses() -> None:
    for parts in (BAD, GOOD):
        evs, ctx = parse(case_path(*parts))
        lines = max(e.origin.line or 0 for e in evs)
        assert len(evs) > 0 and ctx.warning_count < max(1, 0.01 * lines)
