"""Windows 7 WindowsUpdate.log and ReportingEvents.log parsers (the KB4474419 case, CP936)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Process, Severity
from culprit.parsers import sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.reportingevents import ReportingEventsParser
from culprit.parsers.windowsupdate import WindowsUpdateParser
from tests.conftest import analysis_of, case_path, corpus_path

WU = ("kb4474419-registry-denied", "bad", "Windows", "WindowsUpdate.log")
RE = ("kb4474419-registry-denied", "bad", "Windows", "SoftwareDistribution", "ReportingEvents.log")
PKG = "Package_for_KB4474419~31bf3856ad364e35~amd64~~6.1.3.2"
FAIL_TEXT = "安装失败: Windows 无法安装以下更新，错误为 0x80070005: 适用于基于 x64 的系统的 Windows 7 安全更新 (KB4474419)。"  # noqa: E501


def parse(cls: type, path: Path) -> tuple[list, ParseContext]:
    src = Source(path, path.name)
    ctx = ParseContext(src.name, utc_offset=480)
    return list(cls().parse(src, ctx)), ctx


def at(evs: list, line: int):
    return next(e for e in evs if e.origin.line == line)


def test_wu_fatal_line_112() -> None:
    evs, ctx = parse(WindowsUpdateParser, case_path(*WU))
    assert ctx.warning_count == 0
    assert len(evs) == 116
    e = at(evs, 112)
    assert e.kind == "windowsupdate:line"
    assert e.severity is Severity.ERROR
    assert e.code == 0x80070005
    assert e.process == Process(pid=0x3D4, tid=0xD7C)
    assert e.local_time == datetime(2024, 9, 3, 10, 35, 49, 341000)  # noqa: DTZ001
    assert e.time == datetime(2024, 9, 3, 2, 35, 49, 341000, tzinfo=UTC)
    assert dict(e.fields) == {
        "component": "Handler",
        "pid": 980,
        "tid": 3452,
        "level": "FATAL",
        "hresult": 0x80070005,
    }
    assert (
        e.message
        == "FATAL: Completed install of CBS update with type=0, requiresReboot=0, installerError=1, hr=0x80070005"  # noqa: E501
    )


def test_wu_brackets_titles_packages_reports() -> None:
    evs, _ = parse(WindowsUpdateParser, case_path(*WU))
    b = at(evs, 62)
    assert b.kind == "windowsupdate:bracket"
    assert dict(b.fields) == {
        "component": "Agent",
        "pid": 984,
        "tid": 3600,
        "bracket": "START",
        "scope": "Agent",
        "operation": "Agent: Installing updates",
        "caller_id": "AutomaticUpdates",
    }
    assert at(evs, 79).fields["bracket"] == "END"
    assert at(evs, 79).fields["operation"] == "Handler: CBS Install"
    assert at(evs, 92).fields["exit_code"] == 0x240001
    title = at(evs, 65)
    assert title.fields["title"] == "适用于基于 x64 的系统的 Windows 7 安全更新 (KB4474419)"
    assert title.fields["kb"] == "KB4474419"
    assert at(evs, 66).fields["update_id"] == "901B27A5-13F9-746C-3630-E18BE91B119F"
    pkg = at(evs, 73)
    assert (pkg.fields["package"], pkg.fields["kb"], pkg.fields["arch"]) == (PKG, "KB4474419", "amd64")
    assert at(evs, 110).code == 0x80070005 and at(evs, 110).fields["package"] == PKG
    rep = at(evs, 114)
    assert rep.kind == "windowsupdate:report"
    assert rep.severity is Severity.ERROR
    assert dict(rep.fields) == {
        "component": "Report",
        "pid": 980,
        "tid": 3452,
        "event_guid": "478E0180-FF44-D536-243A-19574DFB4096",
        "version": 1,
        "event_id": 183,
        "category": 101,
        "update_id": "5C51EAA2-5AAD-10FA-E8BC-D058DC26AB2F",
        "revision": 200,
        "hresult": 0x80070005,
        "client": "AutomaticUpdates",
        "result": "Failure",
        "activity": "Content Install",
        "report_text": FAIL_TEXT,
        "kb": "KB4474419",
    }
    assert at(evs, 1).fields["tz_offset"] == 480


def test_wu_utc_offsets_from_banner() -> None:
    assert list(WindowsUpdateParser.utc_offsets(Source(case_path(*WU), "WindowsUpdate.log"))) == [480, 480]


def test_reportingevents_rows_and_offsets() -> None:
    path = case_path(*RE)
    evs, ctx = parse(ReportingEventsParser, path)
    assert ctx.warning_count == 0
    assert [(e.fields["event_id"], e.fields["result"], e.fields["kb"]) for e in evs] == [
        (181, "Success", "KB4490628"),
        (183, "Success", "KB4490628"),
        (181, "Success", "KB4474419"),
        (184, "Success", "KB4474419"),
        (183, "Failure", "KB4474419"),
    ]
    last = evs[-1]
    assert last.origin.line == 5
    assert last.code == 0x80070005
    assert last.time == datetime(2024, 9, 3, 2, 35, 49, 671000, tzinfo=UTC)
    assert (last.local_time, last.utc_offset) == (datetime(2024, 9, 3, 10, 35, 49, 671000), 480)  # noqa: DTZ001
    assert last.fields["report_text"] == FAIL_TEXT
    assert last.fields["client"] == "AutomaticUpdates"
    src = Source(path, path.name)
    assert set(ReportingEventsParser.utc_offsets(src)) == {480}
    assert sniff(src)[0] is ReportingEventsParser
    assert sniff(Source(case_path(*WU), "WindowsUpdate.log"))[0] is WindowsUpdateParser


def test_negative_offset_row(tmp_path: Path) -> None:
    row = (
        "{0F12C265-1111-2222-3333-444455556666}\t2016-10-31 11:24:28:411-0600\t1\t181\t101\t"
        "{549A598B-1111-2222-3333-444455556666}\t501\t0\twusa\tSuccess\tContent Install\tInstallation Started: KB3197868\r\n"  # noqa: E501
    )
    p = tmp_path / "ReportingEvents.log"
    p.write_text(row, "ascii")
    evs, _ = parse(ReportingEventsParser, p)
    assert evs[0].utc_offset == -360
    assert evs[0].time == datetime(2016, 10, 31, 17, 24, 28, 411000, tzinfo=UTC)
    assert (evs[0].fields["client"], evs[0].fields["kb"], evs[0].code) == ("wusa", "KB3197868", None)


def test_damaged_input(tmp_path: Path) -> None:
    good = case_path(*WU).read_bytes()
    rnd = random.Random(2)
    p = tmp_path / "WindowsUpdate.log"
    p.write_bytes(good[: good.index(b"hr=0x80070005") + 5])  # truncated in the middle of line 112
    evs, ctx = parse(WindowsUpdateParser, p)
    assert evs[-1].origin.line == 112 and ctx.warning_count == 0
    p.write_bytes(
        good + bytes(rnd.randrange(256) for _ in range(2000)) + b"\r\n" + b"q" * (10 << 20) + b"\r\n" + good
    )
    evs, ctx = parse(WindowsUpdateParser, p)
    assert ctx.warning_count >= 2
    assert any("longer than" in w.message for w in ctx.warnings)
    assert sum(1 for e in evs if e.kind == "windowsupdate:report") == 6
    r = tmp_path / "ReportingEvents.log"
    r.write_bytes(case_path(*RE).read_bytes() + b"{broken\trow\r\n")
    evs, ctx = parse(ReportingEventsParser, r)
    assert len(evs) == 5 and [w.line for w in ctx.warnings] == [6]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(tmp_path: Path, blob: bytes) -> None:
    p = tmp_path / "WindowsUpdate.log"
    for data in (blob, b"2024-09-03\t08:42:10:412\t 3d8\t 4d0\tMisc\tREPORT EVENT: " + blob):
        p.write_bytes(data)
        src = Source(p, p.name)
        for cls in (WindowsUpdateParser, ReportingEventsParser):
            list(cls().parse(src, ParseContext("x", 0)))
            list(cls.utc_offsets(src))


def test_every_case_and_corpus_windows_update_log() -> None:
    paths = [case_path(*WU), case_path(*RE)]
    paths += [p for p in corpus_path("windowsupdate").iterdir() if p.suffix.lower() == ".log"]
    for p in paths:
        src = Source(p, p.name)
        cls = sniff(src)[0]
        assert cls in (WindowsUpdateParser, ReportingEventsParser), p
        ctx = ParseContext(p.name, 0)
        evs = list(cls().parse(src, ctx))
        assert evs and ctx.warning_count < max(1, sum(1 for _ in p.open("rb")) // 100)


def test_wrong_encoding_is_warned(tmp_path: Path) -> None:
    ascii_lines = [ln for ln in case_path(*WU).read_bytes().split(b"\r\n") if ln and max(ln) < 0x80]
    good = b"\r\n".join(ascii_lines) + b"\r\n"
    reps = 70_000 // len(good) + 1  # the encoding is sniffed from the first 64 KiB: valid UTF-8 here
    bad = "2024-09-03\t10:35:49:341\t 3d4\t d7c\tHandler\tFATAL: C:\\Users\\José hr=0x80070005\r\n"
    p = tmp_path / "WindowsUpdate.log"
    p.write_bytes(good * reps + bad.encode("cp1252"))
    evs, ctx = parse(WindowsUpdateParser, p)
    n = len(ascii_lines) * reps + 1
    assert [(w.message, w.line) for w in ctx.warnings] == [("bytes not valid utf-8 replaced", n)]
    assert (evs[-1].origin.line, evs[-1].code, evs[-1].severity) == (n, 0x80070005, Severity.ERROR)


def test_reportingevents_damaged(tmp_path: Path) -> None:
    good = case_path(*RE).read_bytes()
    r = tmp_path / "ReportingEvents.log"
    r.write_bytes(good[: good.rindex(b"\tFailure\t") + 5])  # truncated inside the last row
    evs, ctx = parse(ReportingEventsParser, r)
    assert len(evs) == 4 and [w.line for w in ctx.warnings] == [5]
    rnd = random.Random(9)
    r.write_bytes(
        good + bytes(rnd.randrange(256) for _ in range(1500)) + b"\r\n" + b"w" * (10 << 20) + b"\r\n" + good
    )
    evs, ctx = parse(ReportingEventsParser, r)
    assert len(evs) == 10
    assert any("longer than" in w.message for w in ctx.warnings)


W10 = Path(__file__).parent.parent / "data" / "parsers" / "windowsupdate"


def test_win10_rendered_log_lines_failures_and_brackets() -> None:
    path = W10 / "win10_rendered_install_failed.log"
    assert sniff(Source(path, path.name))[0] is WindowsUpdateParser
    evs, ctx = parse(WindowsUpdateParser, path)
    assert len(evs) == 19
    e = at(evs, 16)
    assert (e.kind, e.severity, e.code) == ("windowsupdate:line", Severity.ERROR, 0x80070005)
    assert e.process == Process(pid=1560, tid=7932)
    assert e.local_time == datetime(2024, 9, 3, 10, 20, 33, 61233)  # noqa: DTZ001 - 100 ns fraction cut to µs
    assert e.time == datetime(2024, 9, 3, 2, 20, 33, 61233, tzinfo=UTC)  # the context's +08:00
    assert e.fields["component"] == "Agent" and e.fields["kb"] == "KB5041580" and e.fields["level"] == "FAILED"
    end = at(evs, 17)
    assert end.kind == "windowsupdate:bracket" and end.fields["bracket"] == "END"
    assert end.fields["exit_code"] == 0x80070005 and end.severity is Severity.ERROR
    assert at(evs, 19).severity is Severity.INFO  # a success exit code is not an error
    assert at(evs, 4).fields["operation"] == "Agent: Installing updates CallerId = UpdateOrchestrator  Id = 12"
    assert at(evs, 6).fields["title"].endswith("(KB5041580)")
    assert at(evs, 7).fields["update_id"] == "5C51EAA2-6A0D-4C21-8E1A-5C0F41B8A0D2"
    assert at(evs, 11).fields["package"].startswith("Package_for_RollupFix")
    unformatted = at(evs, 13)
    assert unformatted.time is None and unformatted.fields["component"] == "Unknown( 44):"
    assert [w.message for w in ctx.warnings] == [
        "1 line(s) rendered without their message (Get-WindowsUpdateLog found no format information: "
        "early Windows 10 needs the public symbols when rendering)"
    ]


def _analyze(bad: Path) -> dict:
    return analysis_of([bad])


def test_win10_placeholder_is_named_and_the_real_log_requested(tmp_path: Path) -> None:
    path = W10 / "win10_placeholder.log"
    assert sniff(Source(path, path.name))[0] is WindowsUpdateParser
    evs, ctx = parse(WindowsUpdateParser, path)
    assert evs == [] and "Get-WindowsUpdateLog" in ctx.warnings[0].message
    bundle = tmp_path / "bad" / "Windows"
    bundle.mkdir(parents=True)
    (bundle / "WindowsUpdate.log").write_bytes(path.read_bytes())
    result = _analyze(tmp_path / "bad")
    assert "windowsupdate-log" in [m["artifact"] for m in result["missing"]]


def test_win10_update_failure_is_the_failure(tmp_path: Path) -> None:
    bundle = tmp_path / "bad" / "Windows"
    bundle.mkdir(parents=True)
    (bundle / "WindowsUpdate.log").write_bytes((W10 / "win10_rendered_install_failed.log").read_bytes())
    result = _analyze(tmp_path / "bad")
    got = [(f["target"], f["code"]) for f in result["failures"]]
    assert got == [("KB5041580", "0x80070005")]  # WU_E_NOOP is not one
