"""ConfigMgr CMTrace-format logs: the plaso corpus log, our AppEnforce/WUAHandler/UpdatesHandler/ccmsetup
fixtures, the simple ``$$<`` form, and damaged input."""
# ruff: noqa: DTZ001  (naive datetimes here are the local times as the log writes them)

from __future__ import annotations

import codecs
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Event, Process, Severity
from culprit.parsers import sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.cmtrace import MAX_RECORD, CmTraceParser, message_fields
from tests.conftest import corpus_path, data_path

KB_GUID = "5C51EAA2-5AAD-10FA-E8BC-D058DC26AB2F"
DT = "ScopeId_5B1A2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D/DeploymentType_0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
TRAILER = 'date="09-03-2024" component="AppEnforce" context="" type="1" thread="5012" file="a.cpp:1">'
KB = "KB4474419"
TITLE = "2019-09 Security Update for Windows 7 for x64-based Systems (KB4474419)"
FIXTURES = (
    "AppEnforce.log",
    "WUAHandler.log",
    "UpdatesHandler.log",
    "ccmsetup_utf16.log",
    "wsyncmgr_simple.log",
)


def fixture(name: str) -> Path:
    return data_path("parsers", "cmtrace", name)


def parse(path: Path, offset: int | None = 480) -> tuple[list[Event], ParseContext]:
    src = Source(path, path.name)
    ctx = ParseContext(src.name, utc_offset=offset)
    return list(CmTraceParser().parse(src, ctx)), ctx


def at(evs: list[Event], line: int) -> Event:
    found = [e for e in evs if e.origin.line == line]
    assert len(found) == 1, [e.origin.line for e in evs]
    return found[0]


def record(msg: str, time: str = "10:00:00.000-480") -> str:
    return f'<![LOG[{msg}]LOG]!><time="{time}" {TRAILER}'


@pytest.mark.corpus
def test_corpus_plaso_sccm_various() -> None:
    path = corpus_path("other", "plaso_sccm_various.log")
    evs, ctx = parse(path, offset=330)
    assert ctx.warning_count == 0
    assert [e.origin.line for e in evs] == [1, 2, 3, 17, 81, 82, 83, 84, 85, 86]
    assert {e.kind for e in evs} == {"cmtrace:line"}
    assert [e.fields["component"] for e in evs] == [
        "AppEnforce", "AppEnforce", "SCClient", "SCClient", "ContentAccess", "ContentAccess",
        "AppDiscovery", "CcmEval", "setuppolicyevaluator", "PeerDPAgent",
    ]  # fmt: skip
    first = evs[0]
    # time="19:33:19.766-330": bias -330 = UTC+05:30
    assert first.local_time == datetime(2014, 11, 28, 19, 33, 19, 766000)
    assert first.utc_offset == 330
    assert first.time == datetime(2014, 11, 28, 14, 3, 19, 766000, tzinfo=UTC)
    assert first.process == Process(tid=8744)
    assert first.severity is Severity.INFO
    assert dict(first.fields) == {
        "component": "AppEnforce",
        "thread": 8744,
        "type": 1,
        "source_file": "appprovider.cpp:1702",
        "log_text": first.message,
        "lines": 1,
        "action": "Install",
        "app": "Application Foo Version 2.2",
        "deployment_type": "ScopeId_AD87A846-E6A5-4088-875F-066CF1082D30/DeploymentType_14a11199-ee14-4c06-a5a7-68eadf501337",  # noqa: E501
        "revision": 10,
        "content_path": "C:\\Windows\\ccmcache\\u",
        "execution_context": "System",
    }
    # a WMI dump spanning lines 3-16; its time has 7 fraction digits and no bias: the bundle's offset
    multi = at(evs, 3)
    assert multi.fields["lines"] == 14
    assert multi.fields["log_text"].startswith("Event object details:\ninstance of CCM_InstanceEvent\n{\n")
    assert multi.fields["log_text"].endswith("(Microsoft.SoftwareCenter.Client.Data.Widget at Thingamabob)")
    assert multi.message.startswith("Event object details: instance of CCM_InstanceEvent { ActionType = 23;")
    assert (multi.fields["type"], multi.fields["source_file"], multi.severity) == (0, None, Severity.INFO)
    assert multi.local_time == datetime(2015, 1, 2, 10, 22, 50, 842296)
    assert multi.time == datetime(2015, 1, 2, 4, 52, 50, 842296, tzinfo=UTC)
    assert at(evs, 17).fields["lines"] == 64
    # "... Revision: 6]]LOG]!>": a bracket right before the trailer belongs to the message
    disc = at(evs, 83)
    assert disc.fields["log_text"].endswith("Revision: 6]")
    assert disc.fields["revision"] == 6
    assert at(evs, 85).utc_offset == 60  # -60
    assert at(evs, 85).time == datetime(2014, 11, 26, 3, 20, 47, 594000, tzinfo=UTC)
    assert at(evs, 86).utc_offset == -480  # +480
    assert at(evs, 86).time == datetime(2014, 11, 24, 9, 52, 13, 827000, tzinfo=UTC)
    src = Source(path, path.name)
    assert list(CmTraceParser.utc_offsets(src)) == [330] * 6 + [60, -480]
    assert sniff(src)[0] is CmTraceParser


def test_appenforce_failed_msi_install_at_utc8() -> None:
    evs, ctx = parse(fixture("AppEnforce.log"), offset=None)
    assert ctx.warning_count == 0
    assert len(evs) == 15
    start = at(evs, 1)
    assert start.fields["action"] == "Install"
    assert start.fields["app"] == "Contoso Agent 7.2 - Windows Installer (*.msi file)"
    assert (start.fields["deployment_type"], start.fields["revision"]) == (DT, 4)
    assert start.fields["content_path"] == "C:\\WINDOWS\\ccmcache\\1k"
    env = at(evs, 5)  # "App enforcement environment:" block, lines 5-13
    assert env.fields["lines"] == 9
    assert env.fields["log_text"].splitlines()[2] == '\tCommand line: msiexec /i "Contoso Agent.msi" /qn'
    prepared = at(evs, 15)
    assert prepared.fields["command_line"] == '"msiexec.exe" /i "Contoso Agent.msi" /qn'
    executing = at(evs, 16).fields["command_line"]
    assert executing == '"C:\\WINDOWS\\system32\\msiexec.exe" /i "Contoso Agent.msi" /qn'
    ended = at(evs, 20)
    assert (ended.fields["child_pid"], ended.fields["exit_code"], ended.code) == (4242, 1603, 1603)
    assert ended.severity is Severity.INFO
    fail = at(evs, 22)
    assert fail.severity is Severity.ERROR  # written as type="1": the rule marks it
    assert fail.code == 1603
    assert fail.local_time == datetime(2024, 9, 3, 10, 33, 47, 905000)
    assert fail.utc_offset == 480
    assert fail.time == datetime(2024, 9, 3, 2, 33, 47, 905000, tzinfo=UTC)
    assert fail.process == Process(tid=5012)
    assert dict(fail.fields) == {
        "component": "AppEnforce",
        "thread": 5012,
        "type": 1,
        "source_file": "appexcnlib.cpp:591",
        "log_text": "    Unmatched exit code (1603) is considered an execution failure.",
        "lines": 1,
        "exit_code": 1603,
        "outcome": "failure",
    }
    assert fail.message == "Unmatched exit code (1603) is considered an execution failure."
    assert fail.origin.text == (
        "<![LOG[    Unmatched exit code (1603) is considered an execution failure.]LOG]!>"
        '<time="10:33:47.905-480" date="09-03-2024" component="AppEnforce" context="" type="1" '
        'thread="5012" file="appexcnlib.cpp:591">'
    )
    assert [e.origin.line for e in evs if e.severity >= Severity.WARNING] == [22]
    assert set(CmTraceParser.utc_offsets(Source(fixture("AppEnforce.log"), "AppEnforce.log"))) == {480}


def test_wuahandler_updateshandler_kb4474419_access_denied() -> None:
    wua, ctx = parse(fixture("WUAHandler.log"))
    assert ctx.warning_count == 0 and len(wua) == 10
    missing = at(wua, 2)
    assert missing.fields["title"] == TITLE
    f = missing.fields
    assert (f["kb"], f["update_id"], f["revision"]) == (KB, KB_GUID, 200)
    done = at(wua, 7)  # Update 1 (...) finished installing (0x80070005)
    assert (done.fields["update_id"], done.fields["hresult"], done.code) == (KB_GUID, 0x80070005, 0x80070005)
    assert done.severity is Severity.WARNING
    assert done.process == Process(tid=3104)
    assert done.time == datetime(2024, 9, 3, 2, 35, 49, 653000, tzinfo=UTC)
    job = at(wua, 9)
    assert (job.code, job.severity) == (0x80240022, Severity.ERROR)

    uh, ctx = parse(fixture("UpdatesHandler.log"))
    assert ctx.warning_count == 0 and len(uh) == 7
    progress = at(uh, 5)
    assert (progress.fields["update_id"], progress.fields["update_state"]) == (KB_GUID, "ciStateError")
    assert (progress.fields["hresult"], progress.severity) == (0x80070005, Severity.INFO)
    failed = at(uh, 6)  # "Installation failed for update (Site_.../SUM_<guid>), error = 0x80070005"
    assert (failed.fields["update_id"], failed.code, failed.severity) == (KB_GUID, 0x80070005, Severity.ERROR)
    assert (at(uh, 7).code, at(uh, 7).fields.get("update_id")) == (0x80070005, None)
    # both logs name the same update: the join a reader needs to turn the GUID into KB4474419
    failing = {e.fields["update_id"] for e in wua + uh if e.code == 0x80070005 and "update_id" in e.fields}
    assert failing == {KB_GUID}
    assert Source(fixture("WUAHandler.log"), "WUAHandler.log").encoding.label == "utf-8-bom"


def test_utf16le_ccmsetup() -> None:
    path = fixture("ccmsetup_utf16.log")
    assert Source(path, path.name).encoding.label == "utf-16le-bom"
    evs, ctx = parse(path)
    assert ctx.warning_count == 0
    assert [e.origin.line for e in evs] == [1, 2, 3, 4, 5, 6, 8, 9]
    cmd = at(evs, 3).fields["command_line"]
    assert cmd == '"C:\\WINDOWS\\ccmsetup\\ccmsetup.exe" /runservice /config:MobileClient.tcf'
    assert at(evs, 5).fields["log_text"] == "MSI: 安装过程中出现严重错误。"
    assert at(evs, 5).severity is Severity.ERROR
    msi = at(evs, 6)
    assert msi.fields["log_text"] == (
        "MSI: Setup failed due to unexpected circumstances\nThe error code is 80070005"
    )
    assert (msi.fields["lines"], msi.code) == (2, 0x80070005)
    assert (at(evs, 8).fields["exit_code"], at(evs, 8).code) == (1603, 1603)
    last = at(evs, 9)
    assert (last.code, last.severity) == (0x80070643, Severity.INFO)
    assert last.time == datetime(2024, 9, 2, 1, 13, 50, 12000, tzinfo=UTC)
    assert sniff(Source(path, path.name))[0] is CmTraceParser


def test_simple_form_wsyncmgr() -> None:
    path = fixture("wsyncmgr_simple.log")
    evs, ctx = parse(path, offset=480)  # the bundle's offset does not matter: each record has +300
    assert ctx.warning_count == 0
    assert [e.origin.line for e in evs] == [1, 2, 3, 5, 6]
    sync = at(evs, 2)
    assert dict(sync.fields) == {
        "component": "SMS_WSUS_SYNC_MANAGER",
        "thread": 3140,
        "type": None,
        "source_file": None,
        "log_text": "Synchronizing update 5c51eaa2-5aad-10fa-e8bc-d058dc26ab2f - "
        "2019-09 Security Update for Windows 7 for x64-based Systems (KB4474419)",
        "lines": 1,
        "update_id": KB_GUID,
        "kb": "KB4474419",
    }
    assert (sync.local_time, sync.utc_offset) == (datetime(2024, 11, 28, 22, 15, 3, 412000), -300)
    assert sync.time == datetime(2024, 11, 29, 3, 15, 3, 412000, tzinfo=UTC)
    assert sync.severity is Severity.INFO
    two = at(evs, 3)  # a message over two physical lines
    assert two.fields["lines"] == 2
    assert two.fields["log_text"].endswith(
        "downloaded and\ncannot be accepted. Source: "
        "Microsoft.UpdateServices.Internal.BaseApi.SoapExceptionProcessor.DeserializeAndThrow"
    )
    assert two.severity is Severity.ERROR  # no type in this form: "Failed"/"Error" words
    assert (at(evs, 6).code, at(evs, 6).severity) == (0x80244010, Severity.ERROR)
    src = Source(path, path.name)
    assert set(CmTraceParser.utc_offsets(src)) == {-300}
    assert sniff(src)[0] is CmTraceParser


SUM = "Site_9D3AB5DC-2A0E-45D5-AB0C-3FB1B7A85B0E/SUM_5c51eaa2-5aad-10fa-e8bc-d058dc26ab2f"
MSIEXEC = '"C:\\WINDOWS\\system32\\msiexec.exe" /x {1A2B} /qn'
RULE_CASES = [
    ("Failed to download update, error = 0x87D00324", {"hresult": 0x87D00324}),
    ("Installation job encountered some failures. Job Result = 0x80240022.", {"hresult": 0x80240022}),
    ("WARNING: WU client failed to install updates with error 0x80240022", {"hresult": 0x80240022}),
    ("Scan failed with error (0x80244022).", {"hresult": 0x80244022}),
    ("InstallFromManifest failed 0x80070643", {"hresult": 0x80070643}),
    ("SMS_EXECUTIVE started thread ID 6784 (0x1A80).", {}),
    (
        f"Update (1 of 2): {TITLE} (5c51eaa2-5aad-10fa-e8bc-d058dc26ab2f, 200)",
        {"title": TITLE, "update_id": KB_GUID, "revision": 200, "kb": KB},
    ),
    (
        "1. Update: 5c51eaa2-5aad-10fa-e8bc-d058dc26ab2f, 200 BundledUpdates: 0",
        {"update_id": KB_GUID, "revision": 200},
    ),
    (
        f"Update ({SUM}) Progress: Status = ciStateInstalling, PercentComplete = 0, Result = 0x0",
        {"update_id": KB_GUID, "update_state": "ciStateInstalling", "hresult": 0},
    ),
    (
        "Matched exit code 3010 to a SoftReboot entry in exit codes table.",
        {"exit_code": 3010, "outcome": "SoftReboot"},
    ),
    ("Script for Package:P0100012, Program: Install failed with exit code 1603", {"exit_code": 1603}),
    ("Program exit code -2147024891", {"exit_code": -2147024891}),
    (f"Executing Command line: {MSIEXEC} with user context", {"command_line": MSIEXEC}),
    (
        '+++ Starting Uninstall enforcement for App DT "Contoso" ApplicationDeliveryType - '
        "ScopeId_A/DeploymentType_B, Revision - 2, ContentPath - C:\\WINDOWS\\ccmcache\\3, "
        "Execution Context - Any",
        {
            "action": "Uninstall",
            "app": "Contoso",
            "deployment_type": "ScopeId_A/DeploymentType_B",
            "revision": 2,
            "content_path": "C:\\WINDOWS\\ccmcache\\3",
            "execution_context": "Any",
        },
    ),
]


@pytest.mark.parametrize(("text", "expected"), RULE_CASES)
def test_message_rules(text: str, expected: dict) -> None:
    assert message_fields(text)[0] == expected


def test_unmatched_exit_code_imposes_error() -> None:
    fields, sev = message_fields("Unmatched exit code (1) is considered an execution failure.")
    assert (fields, sev) == ({"exit_code": 1, "outcome": "failure"}, Severity.ERROR)
    assert message_fields("Matched exit code 0 to a Success entry in exit codes table.")[1] is None


def test_truncated_record_warns_and_keeps_text(tmp_path: Path) -> None:
    good = fixture("AppEnforce.log").read_bytes()
    p = tmp_path / "AppEnforce.log"
    p.write_bytes(good[: good.index(b"is considered an execution") + 13])  # cut inside the record of line 22
    evs, ctx = parse(p)
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("record without its ]LOG]!> trailer at end of file", 22)
    ]
    last = evs[-1]
    assert last.origin.line == 22 and len(evs) == 14
    assert last.fields["log_text"] == "    Unmatched exit code (1603) is considered"
    assert last.fields["truncated"] is True
    assert (last.time, last.fields["component"], last.fields["exit_code"]) == (None, None, 1603)
    assert last.severity is Severity.ERROR
    # a record cut by the next one (the writer died mid-record, the next run appended)
    text = record("first") + "\r\n<![LOG[cut off here\r\n" + record("next", "10:00:02.000-480") + "\r\n"
    p.write_text(text, "utf-8")
    evs, ctx = parse(p)
    assert [(e.origin.line, e.fields["log_text"], e.fields.get("truncated")) for e in evs] == [
        (1, "first", None), (2, "cut off here", True), (3, "next", None)
    ]  # fmt: skip
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("record without its ]LOG]!> trailer (the next record starts)", 2)
    ]
    # the simple form cut before its $$< trailer
    simple = fixture("wsyncmgr_simple.log").read_bytes()
    p.write_bytes(simple[: simple.rindex(b"  $$<")])
    evs, ctx = parse(p)
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("record without its $$<...> trailer at end of file", 6)
    ]
    assert evs[-1].fields["log_text"] == "Sync partially succeeded, error = 0x80244010"
    assert evs[-1].code == 0x80244010


def test_damaged_records(tmp_path: Path) -> None:
    lines = [
        record("one"),
        "garbage between records",
        "\x01\x02 more garbage",
        record("two").replace('thread="5012" ', ""),  # thread attribute missing
        record("three").replace("09-03-2024", "13-45-2024"),  # no 13th month
        '<![LOG[four]LOG]!><time="10:00:00.000-480" date="09-03-2024" compo',  # trailer cut
        record("five") + record("six"),  # two records on one line
        record("seven", "10:00:00.000+9999"),  # implausible bias
        '<![LOG[eight]LOG]!><foo="bar">',
    ]
    p = tmp_path / "x.log"
    p.write_text("\r\n".join(lines) + "\r\n", "utf-8")
    evs, ctx = parse(p, offset=480)
    assert [e.fields["log_text"] for e in evs] == [
        "one", "two", "three", "four", "five", "six", "seven", "eight"
    ]  # fmt: skip
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("text outside any record (2 line(s)): 'garbage between records\\n\\x01\\x02 more garbage'", 2),
        ("record trailer lacks thread", 4),
        ("invalid date/time: date='13-45-2024' time='10:00:00.000-480'", 5),
        ("record trailer damaged", 6),
        ("time-zone bias out of range (+9999 minutes): local time read", 8),
        ("record trailer without attributes", 9),
    ]
    two, three, four = evs[1], evs[2], evs[3]
    assert (two.fields["thread"], two.process) == (None, None)
    assert two.time == datetime(2024, 9, 3, 2, 0, tzinfo=UTC)
    assert (three.time, three.local_time, three.fields["component"]) == (None, None, "AppEnforce")
    assert (four.time, four.fields.get("truncated")) == (datetime(2024, 9, 3, 2, 0, tzinfo=UTC), None)
    assert [e.origin.line for e in evs[4:6]] == [7, 7]
    seven = evs[6]  # the bias is ignored: the bundle's offset converts the local time
    assert (seven.utc_offset, seven.time) == (480, datetime(2024, 9, 3, 2, 0, tzinfo=UTC))
    assert (evs[7].time, evs[7].fields["component"]) == (None, None)


def test_huge_multiline_record_is_cut_with_a_warning(tmp_path: Path) -> None:
    body = "\r\n".join("x" * 99 for _ in range(20_000))  # ~2 M characters over 20,000 lines
    p = tmp_path / "CAS.log"
    big_record = record("start\r\n" + body + "\r\nend").replace('type="1"', 'type="3"')
    p.write_text(big_record + "\r\n" + record("after") + "\r\n", "utf-8")
    evs, ctx = parse(p)
    assert [(w.message, w.line) for w in ctx.warnings] == [
        (f"record longer than {MAX_RECORD:,} characters cut", 1)
    ]
    big, after = evs
    assert big.fields["lines"] == 20_002 and big.fields["truncated"] is True
    assert big.severity is Severity.ERROR and big.time == datetime(2024, 9, 3, 2, 0, tzinfo=UTC)
    assert len(big.fields["log_text"]) == 4000 and len(big.origin.text) == 4000
    assert (after.origin.line, after.fields["log_text"]) == (20_003, "after")


def test_wrong_encoding_is_warned(tmp_path: Path) -> None:
    good = fixture("UpdatesHandler.log").read_bytes()
    reps = 70_000 // len(good) + 1  # the encoding is sniffed from the first 64 KiB: valid UTF-8 here
    bad = record("Cannot open C:\\Users\\José\\x.msi, error = 0x80070005").encode("cp1252") + b"\r\n"
    p = tmp_path / "UpdatesHandler.log"
    p.write_bytes(good * reps + bad)
    evs, ctx = parse(p)
    n = 7 * reps + 1
    assert [(w.message, w.line) for w in ctx.warnings] == [("bytes not valid utf-8 replaced", n)]
    assert (evs[-1].origin.line, evs[-1].code) == (n, 0x80070005)
    assert evs[-1].fields["log_text"] == "Cannot open C:\\Users\\Jos\ufffd\\x.msi, error = 0x80070005"


def test_random_bytes_between_records(tmp_path: Path) -> None:
    good = fixture("AppEnforce.log").read_bytes()
    rnd = random.Random(7)
    p = tmp_path / "AppEnforce.log"
    p.write_bytes(good + bytes(rnd.randrange(256) for _ in range(3000)) + b"\r\n" + good)
    evs, ctx = parse(p)
    assert sum(1 for e in evs if e.fields.get("outcome") == "failure") == 2
    assert ctx.warning_count >= 1


def test_sniff_fixtures_not_cbs() -> None:
    for name in FIXTURES:
        src = Source(fixture(name), name)
        assert sniff(src)[0] is CmTraceParser, name
        assert CmTraceParser.sniff(src) >= 0.9
    cbs = data_path("parsers", "cbs", "cbs_failure_shapes.log")
    src = Source(cbs, "CBS.log")
    assert CmTraceParser.sniff(src) == 0.0
    assert sniff(src)[0] is not CmTraceParser
    assert list(CmTraceParser.utc_offsets(src)) == []


def test_utf16le_without_bom(tmp_path: Path) -> None:
    text = record("Hello from a wide log, error = 0x80070005") + "\r\n"
    p = tmp_path / "execmgr.log"
    p.write_bytes(text.encode("utf-16-le"))
    evs, ctx = parse(p)
    assert ctx.warning_count == 0 and evs[0].code == 0x80070005
    p.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    evs, ctx = parse(p)
    assert ctx.warning_count == 0 and evs[0].fields["log_text"].startswith("Hello")


def test_time_without_bias_uses_the_bundle_offset(tmp_path: Path) -> None:
    p = tmp_path / "SCClient_user.log"
    p.write_text(record("no bias here", "10:22:50.8422964") + "\r\n", "utf-8")
    evs, _ = parse(p, offset=480)
    assert (evs[0].local_time, evs[0].utc_offset) == (datetime(2024, 9, 3, 10, 22, 50, 842296), 480)
    assert evs[0].time == datetime(2024, 9, 3, 2, 22, 50, 842296, tzinfo=UTC)
    assert list(CmTraceParser.utc_offsets(Source(p, p.name))) == []
    evs, _ = parse(p, offset=None)  # unknown: read as UTC (the pipeline says so once for the bundle)
    assert (evs[0].time, evs[0].utc_offset) == (datetime(2024, 9, 3, 10, 22, 50, 842296, tzinfo=UTC), None)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=2000), st.binary(max_size=500))
def test_arbitrary_text_never_raises(tmp_path: Path, text: str, blob: bytes) -> None:
    p = tmp_path / "AppEnforce.log"
    head = record("x") + "\r\n"
    for data in (
        text.encode("utf-8", "surrogatepass"),
        (head + text).encode("utf-8", "surrogatepass"),
        f'<![LOG[{text}]LOG]!><time="{text[:20]}" date="{text[:10]}">'.encode("utf-8", "replace"),
        f"{text}  $$<{text[:10]}><{text[:25]}><thread={text[:5]}>".encode("utf-8", "replace"),
        head.encode("utf-16-le") + blob,
        blob,
    ):
        p.write_bytes(data)
        src = Source(p, p.name)
        ctx = ParseContext("x", 0)
        evs = list(CmTraceParser().parse(src, ctx))
        assert all(e.kind == "cmtrace:line" for e in evs)
        list(CmTraceParser.utc_offsets(src))
        CmTraceParser.sniff(src)
