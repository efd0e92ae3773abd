"""Report.wer parser: real servicing/store failure reports, an APPCRASH fixture (en, zh-CN), damage."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Event, Process, Severity
from culprit.parsers import sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.wer import WerParser, filetime, hex_value, session_guid
from tests.conftest import corpus_path, data_path

WCP = "museum_win10_WindowsWcpOtherFailure3_4318f466_Report.wer"
WCP2 = "museum_win10_WindowsWcpOtherFailure3_f645636f_Report.wer"
STORE = "museum_win10_StoreAgentScanForUpdatesFailure_28961b78_Report.wer"
STORE2 = "museum_win10_StoreAgentScanForUpdatesFailure_2a4190e6_Report.wer"
TIWORKER = (
    "C:\\Windows\\WinSxS\\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.1371_none_"
    "7e1bd7147c8285b0\\TiWorker.exe"
)
APP = "C:\\Program Files (x86)\\Microsoft\\Temp\\EU3F2A.tmp\\MicrosoftEdgeUpdate.exe"
SCHK = "C:\\Program Files\\TMS\\schk.dll"
EN_NAMES = [
    "Application Name",
    "Application Version",
    "Application Timestamp",
    "Fault Module Name",
    "Fault Module Version",
    "Fault Module Timestamp",
    "Exception Code",
    "Exception Offset",
]
ZH_NAMES = [
    "应用程序名称",
    "应用程序版本",
    "应用程序时间戳",
    "故障模块名称",
    "故障模块版本",
    "故障模块时间戳",
    "异常代码",
    "异常偏移",
]
CRASH_VALUES = [
    "MicrosoftEdgeUpdate.exe",
    "1.3.195.19",
    "66c4f1a3",
    "schk.dll",
    "1.0.0.1",
    "5f3a2b10",
    "c0000005",
]


def run(path: Path) -> tuple[list[Event], ParseContext]:
    src = Source(path, path.name)
    ctx = ParseContext(path.name)
    return list(WerParser().parse(src, ctx)), ctx


def write_wer(path: Path, text: str) -> Path:
    """A Report.wer as Windows writes it: UTF-16LE with BOM, CRLF."""
    path.write_bytes(codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"))
    return path


def fixture(lang: str = "") -> Path:
    return data_path("parsers", "wer", f"appcrash_edgeupdate_schk{lang}.wer")


def test_helpers() -> None:
    assert filetime("132885941895519640") == datetime(2022, 2, 6, 4, 9, 49, 551964, tzinfo=UTC)
    assert filetime("0") is None and filetime("-5") is None and filetime("12ab") is None
    assert filetime("9" * 20) is None  # past year 9999
    assert hex_value("c0000005") == hex_value("0xC0000005") == 0xC0000005
    assert hex_value("0x5") == 5 and hex_value("1682") is None and hex_value("") is None
    assert session_guid("00000130-0000-0003-fd99-1dd00e1bd801") == (
        0x130,
        datetime(2022, 2, 6, 4, 5, 44, 252262, tzinfo=UTC),
    )
    assert session_guid("not a guid") == (None, None)


@pytest.mark.corpus
def test_wcp_failure_report() -> None:
    evs, ctx = run(corpus_path("other", "wer", WCP))
    assert ctx.warnings == []
    assert len(evs) == 1
    e = evs[0]
    assert e.kind == "wer:report"
    assert (e.origin.line, e.origin.text) == (2, "EventType=WindowsWcpOtherFailure3")
    assert e.time == datetime(2022, 2, 6, 4, 9, 49, 551964, tzinfo=UTC)
    assert e.local_time is None
    assert e.severity is Severity.ERROR
    assert e.code == 0x800F0984
    assert e.message == "WindowsWcpOtherFailure3 0x800f0984"
    assert e.process == Process("TiWorker.exe", 304)
    f = e.fields
    assert f["event_type"] == f["friendly_event_name"] == "WindowsWcpOtherFailure3"
    assert f["hresult"] == 0x800F0984  # Sig[4] "Status", not Sig[5] "StackHash" 0x3e59918e
    assert f["exception_code"] is None and f["fault_module"] is None and f["fault_module_path"] is None
    assert (f["app_name"], f["app_display_name"], f["app_path"]) == (
        "TiWorker.exe",
        "Windows Modules Installer Worker",
        TIWORKER,
    )
    assert f["report_id"] == "4318f466-4848-4745-bb07-3d7718c6d5df"
    assert [(s["index"], s["name"]) for s in f["signatures"]] == [
        (0, "OsVersion"),
        (1, "File"),
        (2, "Function"),
        (3, "Line"),
        (4, "Status"),
        (5, "StackHash"),
    ]
    assert (
        f["signatures"][2]["value"]
        == "ComponentStore::CRawStoreLayout::HydrateFileUsingForwardAndReverseDeltas"
    )
    assert f["dynamic_signatures"][0] == {
        "index": 1,
        "name": "OS Version",
        "value": "10.0.19043.2.0.0.256.48",
    }
    assert (f["os_version"], f["locale_id"]) == ("10.0.19043.2.0.0.256.48", 1033)
    assert f["loaded_modules"] == [] and f["kb"] is None
    assert f["pid"] == 304
    assert f["process_start"] == datetime(2022, 2, 6, 4, 5, 44, 252262, tzinfo=UTC)
    assert f["upload_time"] == datetime(2022, 2, 6, 4, 9, 50, 348859, tzinfo=UTC)
    other = run(corpus_path("other", "wer", WCP2))[0][0]
    assert (other.code, other.process) == (0x800F0984, Process("TiWorker.exe", 0x226C))
    assert other.time == datetime(2022, 2, 8, 20, 53, 12, 19221, tzinfo=UTC)


@pytest.mark.corpus
def test_store_scan_failure_reports() -> None:
    times = []
    for name in (STORE, STORE2):
        evs, ctx = run(corpus_path("other", "wer", name))
        assert ctx.warnings == [] and len(evs) == 1
        e = evs[0]
        assert e.fields["event_type"] == "StoreAgentScanForUpdatesFailure0"
        assert e.code == e.fields["hresult"] == 0x8024402C  # Sig[1] "HResult"
        assert e.message == "StoreAgentScanForUpdatesFailure0 0x8024402c"
        assert e.severity is Severity.ERROR
        assert e.fields["signatures"][1] == {"index": 1, "name": "HResult", "value": "8024402c"}
        assert (e.fields["app_name"], e.fields["app_path"]) == (
            "svchost.exe",
            "C:\\Windows\\System32\\svchost.exe",
        )
        assert e.fields["app_display_name"] == "Host Process for Windows Services"
        assert e.process == Process("svchost.exe", 9200)
        times.append(e.time)
    assert times == [
        datetime(2022, 2, 13, 3, 54, 23, 647148, tzinfo=UTC),
        datetime(2022, 2, 13, 3, 54, 23, 13352, tzinfo=UTC),
    ]


@pytest.mark.corpus
def test_corpus_files_sniff_as_wer() -> None:
    for name in (WCP, WCP2, STORE, STORE2):
        p = corpus_path("other", "wer", name)
        assert sniff(Source(p, p.name))[0] is WerParser, name


def test_appcrash_fixture() -> None:
    evs, ctx = run(fixture())
    assert ctx.warnings == []
    assert len(evs) == 1
    e = evs[0]
    assert (e.origin.line, e.origin.offset, e.origin.text) == (
        2,
        24,
        "EventType=APPCRASH",
    )  # BOM + "Version=1\r\n"
    assert e.time == datetime(2024, 9, 3, 2, 41, 7, 531234, tzinfo=UTC)
    assert e.severity is Severity.ERROR
    assert e.code == 0xC0000005
    assert e.message == "APPCRASH MicrosoftEdgeUpdate.exe: fault in schk.dll 1.0.0.1 (0xc0000005)"
    assert e.process == Process("MicrosoftEdgeUpdate.exe", 0x1A2C)
    f = dict(e.fields)
    sigs, dyn, modules = f.pop("signatures"), f.pop("dynamic_signatures"), f.pop("loaded_modules")
    at_sig, at_mod = f.pop("fault_module_line"), f.pop("fault_module_path_line")
    assert (at_sig["line"], at_sig["text"]) == (29, "Sig[3].Value=schk.dll")  # what a finding cites
    assert at_mod["text"] == f"LoadedModule[9]={SCHK}" and at_mod["line"] > at_sig["line"]
    assert fixture().read_bytes()[at_mod["offset"] :].startswith("LoadedModule[9]".encode("utf-16-le"))
    assert f == {
        "event_type": "APPCRASH",
        "friendly_event_name": "Stopped working",
        "report_id": "7c1e4b2a-5d3f-4e81-9a6c-2f0b8d4e1a37",
        "app_name": "MicrosoftEdgeUpdate.exe",
        "app_display_name": "Microsoft Edge Update",
        "app_path": APP,
        "app_version": "1.3.195.19",
        "fault_module": "schk.dll",
        "fault_module_version": "1.0.0.1",
        "exception_offset": "00012a4f",
        "exception_data": None,
        "exception_code": 0xC0000005,
        "fault_module_path": SCHK,
        "hresult": None,
        "package": None,
        "phase": None,
        "client": None,
        "os_version": "10.0.19045.2.0.0.256.4",
        "locale_id": 1033,
        "kb": None,
        "pid": 0x1A2C,
        "process_start": datetime(2024, 9, 3, 2, 41, 6, 912000, tzinfo=UTC),
        "upload_time": datetime(2024, 9, 3, 2, 41, 8, 468734, tzinfo=UTC),
    }
    assert [s["name"] for s in sigs] == EN_NAMES
    assert [s["value"] for s in sigs] == [*CRASH_VALUES, "00012a4f"]
    assert [d["index"] for d in dyn] == [1, 2, 22, 23, 24, 25]
    assert dyn[2]["name"] == "Additional Information 1"
    assert len(modules) == 12 and modules[0] == APP and modules[9] == SCHK
    assert e.to_dict()["code"] == "0xC0000005"  # the event serialises (datetimes, lists of dicts)


def test_zh_cn_names_map_by_position() -> None:
    evs, ctx = run(fixture("_zh-CN"))
    assert ctx.warnings == []
    e = evs[0]
    f = e.fields
    assert [s["name"] for s in f["signatures"]] == ZH_NAMES  # kept as written
    assert [s["value"] for s in f["signatures"]] == [*CRASH_VALUES, "00013b7e"]
    assert (f["app_name"], f["app_version"], f["fault_module"], f["fault_module_version"]) == (
        "MicrosoftEdgeUpdate.exe",
        "1.3.195.19",
        "schk.dll",
        "1.0.0.1",
    )
    assert (f["exception_code"], f["exception_offset"], f["fault_module_path"]) == (
        0xC0000005,
        "00013b7e",
        SCHK,
    )
    assert (f["os_version"], f["locale_id"], f["friendly_event_name"]) == (
        "10.0.19045.2.0.0.256.4",
        2052,
        "已停止工作",
    )
    assert f["dynamic_signatures"][1]["name"] == "区域设置 ID"
    assert e.message == "APPCRASH MicrosoftEdgeUpdate.exe: fault in schk.dll 1.0.0.1 (0xc0000005)"
    assert e.time == datetime(2024, 9, 5, 6, 12, 44, 90817, tzinfo=UTC)
    assert e.process == Process("MicrosoftEdgeUpdate.exe", 0xF64)


def test_bex64_layout_and_cbs_failure(tmp_path: Path) -> None:
    bex = write_wer(
        tmp_path / "Report.wer",
        "Version=1\nEventType=BEX64\nEventTime=133496477153022430\n"
        "Sig[0].Name=Application Name\nSig[0].Value=setup.exe\n"
        "Sig[1].Name=Application Version\nSig[1].Value=2.1.0.7\n"
        "Sig[3].Name=Fault Module Name\nSig[3].Value=hook64.dll\n"
        "Sig[4].Name=Fault Module Version\nSig[4].Value=9.2.0.1\n"
        "Sig[6].Name=Exception Offset\nSig[6].Value=00000000000a1b2c\n"
        "Sig[7].Name=Exception Code\nSig[7].Value=c0000409\n"
        "Sig[8].Name=Exception Data\nSig[8].Value=0000000000000007\n"
        "LoadedModule[0]=C:\\Fabrikam\\setup.exe\nLoadedModule[1]=C:\\Program Files\\Contoso\\HOOK64.DLL\n",
    )
    e = run(bex)[0][0]
    assert (e.code, e.fields["exception_offset"], e.fields["exception_data"]) == (
        0xC0000409,
        "00000000000a1b2c",
        "0000000000000007",
    )
    assert e.fields["fault_module_path"] == "C:\\Program Files\\Contoso\\HOOK64.DLL"
    assert e.message == "BEX64 setup.exe: fault in hook64.dll 9.2.0.1 (0xc0000409)"
    assert e.process is None  # no AppSessionGuid
    pkg = "Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.1415.1.9"
    cbs = write_wer(
        tmp_path / "cbs.wer",
        "Version=1\nEventType=CbsPackageServicingFailure2\nEventTime=132885941895519640\n"
        + "".join(
            f"Sig[{i}].Name=P{i + 1}\nSig[{i}].Value={v}\n"
            for i, v in enumerate(
                [
                    "10.0.19041.1371",
                    pkg,
                    "19041.1415.1.9",
                    "amd64",
                    "unknown",
                    "800f0922",
                    "Resolve",
                    "Staged",
                    "Installed",
                    "CbsTask",
                ]
            )
        )
        + "ReportDescription=Servicing of KB5008212 failed\n",
    )
    e = run(cbs)[0][0]
    assert (e.code, e.fields["package"], e.fields["phase"], e.fields["client"]) == (
        0x800F0922,
        pkg,
        "Resolve",
        "CbsTask",
    )
    assert e.fields["kb"] == "KB5008212"  # the package names no KB; the description does
    assert e.message == "CbsPackageServicingFailure2 0x800f0922 KB5008212"


def test_truncated_file(tmp_path: Path) -> None:
    good = fixture().read_bytes()
    cut = (
        good.index("Sig[4].Va".encode("utf-16-le")) + len("Sig[4].Va".encode("utf-16-le")) + 1
    )  # odd: half a unit
    p = tmp_path / "Report.wer"
    p.write_bytes(good[:cut])
    evs, ctx = run(p)
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("bytes not valid utf-16le-bom replaced", 31),
        ("not a Key=Value line", 31),
    ]
    (e,) = evs
    f = e.fields
    assert (f["app_name"], f["fault_module"], f["fault_module_version"], f["exception_code"]) == (
        "MicrosoftEdgeUpdate.exe",
        "schk.dll",
        None,
        None,
    )
    assert f["loaded_modules"] == [] and f["app_path"] is None and e.code is None
    assert e.message == "APPCRASH MicrosoftEdgeUpdate.exe: fault in schk.dll"
    assert e.severity is Severity.ERROR and e.time == datetime(2024, 9, 3, 2, 41, 7, 531234, tzinfo=UTC)
    p.write_bytes(good[: good.index("EventType".encode("utf-16-le"))])  # only "Version=1"
    evs, ctx = run(p)
    assert evs == [] and [(w.message, w.line) for w in ctx.warnings] == [("WER report without EventType=", 1)]
    p.write_bytes(b"")
    evs, ctx = run(p)
    assert evs == [] and [w.message for w in ctx.warnings] == [
        "no Key=Value lines: no WER report in this file"
    ]


def test_damaged_lines(tmp_path: Path) -> None:
    text = (
        "Version=1\nEventType=APPCRASH\nEventTime=yesterday\nthis line has no equals sign\n=orphan\n"
        "Sig[0].Name=Application Name\nSig[0].Value=a.exe\nSig[0].Value=b.exe\nEventType=BEX\n"
        "Sig[3].Value=" + "x" * 5000 + "\nAppPath=C:\\a.exe\n"
    )
    evs, ctx = run(write_wer(tmp_path / "Report.wer", text))
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("not a Key=Value line", 4),
        ("not a Key=Value line", 5),
        ("duplicate key Sig[0].Value (the first value is kept)", 8),
        ("duplicate key EventType (the first value is kept)", 9),
        ("value of Sig[3].Value longer than 2,000 characters cut (5,000)", 10),
        ("EventTime 'yesterday' is not a FILETIME", 3),
    ]
    (e,) = evs
    assert e.time is None and e.fields["event_type"] == "APPCRASH" and e.fields["app_name"] == "a.exe"
    assert len(e.fields["fault_module"]) == 2000 and len(e.message) <= 2000
    # no EventType but a signature: a best-effort event; UTF-8 text (no BOM) is read the same way
    p = tmp_path / "utf8.wer"
    p.write_text("Version=1\nSig[0].Name=Application Name\nSig[0].Value=a.exe\n", "utf-8")
    evs, ctx = run(p)
    assert [w.message for w in ctx.warnings] == [
        "WER report without EventType=",
        "WER report without EventTime=",
    ]
    assert evs[0].fields["event_type"] is None and evs[0].severity is Severity.WARNING
    assert evs[0].origin.line == 1 and evs[0].message == "WER report without EventType"
    assert evs[0].fields["signatures"] == [{"index": 0, "name": "Application Name", "value": "a.exe"}]


def test_concatenated_reports(tmp_path: Path) -> None:
    en, zh = fixture().read_bytes(), fixture("_zh-CN").read_bytes()
    p = tmp_path / "all.wer"
    p.write_bytes(en + "\r\n".encode("utf-16-le") + zh)  # `copy /b a+b`: the second BOM stays in the text
    evs, ctx = run(p)
    assert ctx.warnings == []
    n_en = en.decode("utf-16").count("\n") + 1
    assert [(e.origin.line, e.fields["locale_id"]) for e in evs] == [(2, 1033), (n_en + 2, 2052)]


def test_sniff() -> None:
    for p in (fixture(), fixture("_zh-CN")):
        assert sniff(Source(p, p.name))[0] is WerParser
    cbs = data_path("parsers", "cbs", "cbs_failure_shapes.log")
    src = Source(cbs, cbs.name)
    assert WerParser.sniff(src) == 0.0
    assert sniff(src)[0] is not WerParser


def test_sniff_needs_version_then_eventtype(tmp_path: Path) -> None:
    p = write_wer(tmp_path / "a.wer", "EventType=APPCRASH\nVersion=1\n")
    assert WerParser.sniff(Source(p, p.name)) == 0.0
    p = write_wer(tmp_path / "b.wer", "Version=1\nReportType=2\nEventType=APPCRASH\n")
    assert WerParser.sniff(Source(p, p.name)) == 0.95


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=2000), st.binary(max_size=500))
def test_arbitrary_text_never_raises(tmp_path: Path, text: str, blob: bytes) -> None:
    p = tmp_path / "Report.wer"
    head = "Version=1\r\nEventType=APPCRASH\r\n"
    for data in (
        codecs.BOM_UTF16_LE + (head + text).encode("utf-16-le", "surrogatepass"),
        (head + text).encode("utf-8", "surrogatepass"),
        codecs.BOM_UTF16_LE + head.encode("utf-16-le") + blob,
        blob,
    ):
        p.write_bytes(data)
        src = Source(p, p.name)
        WerParser.sniff(src)
        for e in WerParser().parse(src, ParseContext("x")):
            assert e.kind == "wer:report" and len(e.origin.text) <= 2000
            e.to_dict()
