"""WiX Burn bundle logs: the real Redball uninstall log of the corpus, our failing Contoso Agent
install, and damaged input."""
# ruff: noqa: DTZ001  (naive datetimes here are the local times as the log writes them)

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Event, Process, Severity
from culprit.parsers import sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.burn import MAX_RECORD, MAX_TEXT, BurnParser, message_fields
from culprit.parsers.cmtrace import CmTraceParser
from culprit.parsers.msi import MsiParser
from tests.conftest import corpus_path, data_path

CONTOSO = "Contoso_Agent_20240903103101.log"
TEMP = "C:\\Windows\\Temp\\Contoso_Agent_20240903103101"
MSI_GUID = "{9C1D2E3F-4A5B-4C6D-8E7F-0A1B2C3D4E5F}"
REDBALL_DIST = (
    "C:\\Users\\karll\\Desktop\\Redball\\dist\\bundle-debug_002_{7696892D-B420-4901-82B5-7919CD5F10DA}"
)
REDBALL_EXE = (
    "C:\\Users\\karll\\AppData\\Local\\Package Cache\\{7696892D-B420-4901-82B5-7919CD5F10DA}"
    "\\Redball-Setup-2.1.24.exe"
)
HEAD = "[0A44:0B48][2024-09-03T10:31:01]"


def fixture(name: str) -> Path:
    return data_path("parsers", "burn", name)


def parse(path: Path, offset: int | None = 480) -> tuple[list[Event], ParseContext]:
    src = Source(path, path.name)
    ctx = ParseContext(src.name, utc_offset=offset)
    return list(BurnParser().parse(src, ctx)), ctx


def lines_of(evs: list[Event]) -> list[Event]:
    return [e for e in evs if e.kind == "burn:line"]


def at(evs: list[Event], line: int) -> Event:
    found = [e for e in evs if e.origin.line == line and e.kind == "burn:line"]
    assert len(found) == 1, [e.origin.line for e in evs]
    return found[0]


def summaries(evs: list[Event]) -> list[Event]:
    return [e for e in evs if e.kind == "burn:summary"]


def write(tmp_path: Path, text: str, name: str = "Setup_20240903103101.log") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


@pytest.mark.corpus
def test_corpus_redball_related_bundle_uninstall() -> None:
    path = corpus_path("msi", "redball_burn_related_bundle_uninstall.log")
    evs, ctx = parse(path, offset=0)
    assert ctx.warning_count == 0
    recs = lines_of(evs)
    assert [e.origin.line for e in recs] == list(range(1, 92))
    assert [e.kind for e in evs[-2:]] == ["burn:line", "burn:summary"]
    # i003 comes before i001: the bundle was started by its newer version's upgrade
    assert at(evs, 1).fields["msg_id"] == 3
    engine = at(evs, 2)
    assert engine.local_time == datetime(2026, 3, 13, 15, 31, 46)
    assert (engine.utc_offset, engine.time) == (0, datetime(2026, 3, 13, 15, 31, 46, tzinfo=UTC))
    assert engine.process == Process(pid=0x14B0, tid=0x6910)
    assert dict(engine.fields) == {
        "pid": 0x14B0,
        "tid": 0x6910,
        "level": "info",
        "msg_id": 1,
        "log_text": engine.message,
        "lines": 1,
        "engine_arch": "x86",
        "engine_version": "7.0.0-rc.2",
        "windows_version": "10.0",
        "windows_build": 26100,
        "bundle_path": REDBALL_EXE,
    }
    cmd = at(evs, 3).fields["command_line"]
    assert cmd.startswith("-uninstall -quiet -burn.related.upgrade -burn.ancestors={12554048-")
    assert f"-log {REDBALL_DIST}.log -burn.embedded BurnPipe." in cmd and cmd.endswith(" 19868")
    state = at(evs, 7)  # w055: Could not load or read state file: (null), error: 0x80070057.
    assert (state.severity, state.fields["level"], state.code) == (Severity.WARNING, "warning", 0x80070057)
    assert (state.fields["msg_id"], state.fields["hresult"]) == (55, 0x80070057)
    assert at(evs, 12).fields["variable"] == "WixStdBAShowVersion" and at(evs, 12).fields["value"] == "1"
    assert at(evs, 19).fields["condition"] == "NET8DesktopInstalled"
    assert at(evs, 19).fields["condition_result"] is True
    assert at(evs, 28).fields["condition_result"] is False
    detected = {e.fields["package"]: e.fields["state"] for e in recs if e.fields["msg_id"] == 101}
    assert detected == {"NetDesktop8Runtime": "Present", "Redball_2.1.24.msi": "Present"}
    assert at(evs, 21).fields["cached"] == "Yes"
    assert at(evs, 23).fields["action"] == "Uninstall" and at(evs, 23).fields["package_count"] == 2
    planned = {
        e.fields["package"]: (e.fields["execute"], e.fields["rollback"], e.fields["requested"])
        for e in recs
        if e.fields["msg_id"] == 201
    }
    assert planned == {
        "Redball_2.1.24.msi": ("Uninstall", "Install", "Absent"),
        "NetDesktop8Runtime": ("None", "None", "Absent"),
    }
    assert at(evs, 35).fields["dependency"] == "Unregister"
    applying = at(evs, 45)
    assert (applying.fields["phase"], applying.fields["package"], applying.fields["action"]) == (
        "execute",
        "Redball_2.1.24.msi",
        "Uninstall",
    )
    assert "path" not in applying.fields  # "path: (null)"
    assert applying.fields["arguments"].startswith(' ARPSYSTEMCOMPONENT="1" MSIFASTINSTALL="7"')
    applied = at(evs, 46)
    assert (applied.fields["package"], applied.fields["result"], applied.fields["restart"]) == (
        "Redball_2.1.24.msi",
        0,
        "None",
    )
    assert (applied.severity, applied.code) == (Severity.INFO, None)
    assert at(evs, 60).fields["result"] == 0 and at(evs, 60).severity is Severity.INFO
    assert at(evs, 61).fields["exit_code"] == 0
    # the child logs: set while planning (i000) and dumped at the end (i410)
    logs = [
        (e.origin.line, e.fields["log_package"], e.fields["log_kind"], e.fields["child_log"])
        for e in recs
        if "child_log" in e.fields
    ]
    assert logs == [
        (29, "Redball_2.1.24.msi", "rollback", REDBALL_DIST + "_000_Redball_2.1.24.msi_rollback.log"),
        (30, "Redball_2.1.24.msi", "execute", REDBALL_DIST + "_000_Redball_2.1.24.msi.log"),
        (76, "Redball_2.1.24.msi", "execute", REDBALL_DIST + "_000_Redball_2.1.24.msi.log"),
        (81, "Redball_2.1.24.msi", "rollback", REDBALL_DIST + "_000_Redball_2.1.24.msi_rollback.log"),
    ]
    assert at(evs, 75).fields["bundle_log"] == REDBALL_DIST + ".log"
    assert at(evs, 73).fields["value"] == ""  # "Variable: WixBundleInProgressName = "
    exit_ = at(evs, 91)
    assert (exit_.fields["exit_code"], exit_.fields["restart"], exit_.code) == (0, "No", None)
    assert [e.origin.line for e in recs if e.severity >= Severity.WARNING] == [7, 31]
    (summ,) = summaries(evs)
    assert (summ.origin.line, summ.severity, summ.code) == (91, Severity.INFO, None)
    f = summ.fields
    assert (f["bundle_name"], f["bundle_version"], f["action"]) == ("Redball Setup", "2.1.24.0", "Uninstall")
    assert (f["engine_version"], f["bundle_path"], f["command_line"]) == ("7.0.0-rc.2", REDBALL_EXE, cmd)
    assert f["packages"] == [
        {"package": "NetDesktop8Runtime", "detected": "Present", "execute": "None", "rollback": "None"},
        {
            "package": "Redball_2.1.24.msi",
            "detected": "Present",
            "rollback_log": REDBALL_DIST + "_000_Redball_2.1.24.msi_rollback.log",
            "child_log": REDBALL_DIST + "_000_Redball_2.1.24.msi.log",
            "execute": "Uninstall",
            "rollback": "Install",
            "action": "Uninstall",
            "result": 0,
            "restart": "None",
            "applied_line": 46,
        },
    ]
    assert (f["failed_package"], f["apply_result"], f["exit_code"], f["finished"]) == (None, 0, 0, True)
    assert f["first_error"] is None and f["hresult"] is None
    src = Source(path, path.name)
    assert sniff(src)[0] is BurnParser and BurnParser.sniff(src) == 0.97


def test_contoso_agent_msi_package_fails_1603() -> None:
    evs, ctx = parse(fixture(CONTOSO))
    assert ctx.warning_count == 0
    recs = lines_of(evs)
    assert len(recs) == 61 and len(evs) == 62
    assert at(evs, 1).fields["engine_version"] == "3.11.2.4516"
    assert "engine_arch" not in at(evs, 1).fields
    assert at(evs, 1).fields["windows_build"] == 19045
    assert at(evs, 2).fields["command_line"].endswith(f"/install /quiet /norestart /log {TEMP}.log")
    applying = at(evs, 35)
    assert applying.process == Process(pid=0x1B30, tid=0x1C2C)  # the elevated engine
    assert applying.fields["path"] == f"C:\\ProgramData\\Package Cache\\{MSI_GUID}v7.2.0\\ContosoAgent.msi"
    assert (applying.fields["action"], applying.fields["package"]) == ("Install", "ContosoAgentMsi")
    assert applying.fields["arguments"].endswith('ENROLLMENTKEY="*****"')
    first = at(evs, 36)
    assert (first.severity, first.code, first.fields["hresult"]) == (Severity.ERROR, 0x80070643, 0x80070643)
    assert first.message == "Error 0x80070643: Failed to install MSI package."
    assert "package" not in first.fields  # the line names none
    assert first.local_time == datetime(2024, 9, 3, 10, 32, 47)
    assert first.time == datetime(2024, 9, 3, 2, 32, 47, tzinfo=UTC)
    assert (
        first.origin.text
        == "[1B30:1C2C][2024-09-03T10:32:47]e000: Error 0x80070643: Failed to install MSI package."
    )
    applied = at(evs, 39)
    assert dict(applied.fields) == {
        "pid": 0x0A44,
        "tid": 0x0B48,
        "level": "info",
        "msg_id": 319,
        "log_text": "Applied execute package: ContosoAgentMsi, result: 0x80070643, restart: None",
        "lines": 1,
        "phase": "execute",
        "package": "ContosoAgentMsi",
        "result": 0x80070643,
        "restart": "None",
    }
    assert (applied.severity, applied.code) == (Severity.ERROR, 0x80070643)  # i319, failing result
    assert at(evs, 41).fields["phase"] == "rollback" and at(evs, 41).fields["state"] == "Absent"
    rollback = at(evs, 42)
    assert (rollback.fields["phase"], rollback.fields["result"], rollback.severity) == (
        "rollback",
        0,
        Severity.INFO,
    )
    complete = at(evs, 48)
    assert (complete.fields["result"], complete.severity, complete.code) == (
        0x80070643,
        Severity.ERROR,
        0x80070643,
    )
    assert (at(evs, 49).fields["exit_code"], at(evs, 49).severity) == (1603, Severity.ERROR)
    exit_ = at(evs, 61)
    assert (exit_.fields["exit_code"], exit_.code, exit_.severity) == (1603, 1603, Severity.ERROR)
    # the hidden variable: named, never valued
    assert at(evs, 7).fields["hidden"] is True and at(evs, 7).fields["value"] is None
    enroll = at(evs, 50)
    assert (enroll.fields["variable"], enroll.fields["value"], enroll.fields["hidden"]) == (
        "EnrollmentKey",
        None,
        True,
    )
    assert at(evs, 9).fields["value"] == "1"  # numeric variables are written without quotes
    child = at(evs, 55)
    assert (child.fields["log_package"], child.fields["child_log"], child.fields["log_kind"]) == (
        "ContosoAgentMsi",
        f"{TEMP}_000_ContosoAgentMsi.log",
        "execute",
    )
    assert [e.origin.line for e in recs if e.severity is Severity.ERROR] == [36, 37, 38, 39, 40, 48, 49, 61]
    assert [e.origin.line for e in recs if e.severity is Severity.WARNING] == [15]
    (summ,) = summaries(evs)
    assert (summ.origin.line, summ.severity, summ.code) == (61, Severity.ERROR, 0x80070643)
    assert summ.time == datetime(2024, 9, 3, 2, 32, 48, tzinfo=UTC)
    assert summ.message == (
        "Contoso Agent 7.2.0.0 (Burn v3.11.2.4516) Install: package ContosoAgentMsi failed 0x80070643, "
        f"exit code 0x643 (1603); package log {TEMP}_000_ContosoAgentMsi.log"
    )
    f = summ.fields
    assert (f["failed_package"], f["failed_result"], f["failed_line"]) == ("ContosoAgentMsi", 0x80070643, 39)
    assert f["child_log"] == f"{TEMP}_000_ContosoAgentMsi.log"
    assert (f["first_error_line"], f["hresult"], f["apply_result"]) == (36, 0x80070643, 0x80070643)
    assert (f["exit_code"], f["restart"], f["finished"]) == (1603, "No", True)
    assert [p["package"] for p in f["packages"]] == ["VCRedist_x64", "ContosoAgentMsi"]
    agent = f["packages"][1]
    assert (agent["detected"], agent["execute"], agent["action"], agent["result"]) == (
        "Absent",
        "Install",
        "Install",
        0x80070643,
    )
    assert (agent["rollback_result"], agent["rollback_log"]) == (
        0,
        f"{TEMP}_000_ContosoAgentMsi_rollback.log",
    )
    src = Source(fixture(CONTOSO), CONTOSO)
    assert src.encoding.label == "utf-8" and sniff(src)[0] is BurnParser


def test_truncated_log_has_an_unfinished_summary(tmp_path: Path) -> None:
    data = fixture(CONTOSO).read_bytes()
    cut = data.index(b"[1B30:1C2C][2024-09-03T10:32:47]e000: Error 0x80070643: Failed to execute")
    p = tmp_path / CONTOSO
    p.write_bytes(data[: cut + 25])  # ends inside the next record's prefix: "[1B30:1C2C][2024-09-03T10"
    evs, ctx = parse(p)
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("damaged record prefix (cut or garbled): read as a record of its own", 37),
        ("engine run without Burn's 'Exit code' line (log cut short, or the engine did not finish)", 37),
    ]
    last = at(evs, 37)
    assert dict(last.fields) == {
        "pid": None,
        "tid": None,
        "level": None,
        "msg_id": None,
        "damaged": True,
        "log_text": "[1B30:1C2C][2024-09-03T10",
        "lines": 1,
    }
    assert (last.time, last.process) == (None, None)
    (summ,) = summaries(evs)
    f = summ.fields
    assert (f["finished"], f["exit_code"], f["apply_result"]) == (False, None, None)
    # the package being applied when the error came is the failed one, though its i319 is lost
    assert (f["failed_package"], f["failed_result"], f["failed_line"]) == ("ContosoAgentMsi", None, 36)
    assert (summ.severity, summ.code, summ.origin.line) == (Severity.ERROR, 0x80070643, 37)
    assert summ.message.endswith(
        "package ContosoAgentMsi failed, no exit code (run not finished); "
        f"package log {TEMP}_000_ContosoAgentMsi.log"
    )


def test_damaged_records_are_warned_and_kept(tmp_path: Path) -> None:
    text = "\r\n".join(
        [
            "garbage before the log",
            "\x01\x02 more garbage",
            f"{HEAD}i001: Burn v3.14.1.8722, Windows v10.0 (Build 22631: Service Pack 0), path: C:\\a.exe",
            "[0A44:0B48][2024-13-45T25:61:00]i000: Setting string variable 'WixBundleName' to value 'Fab'",
            "[0A44:0B48][2024-09-03T10:31:02]q123: an unknown level letter",
            f"{HEAD}e000: Error 0x80070005: Failed to create the folder",
            "   C:\\ProgramData\\Fabrikam",
            "\x00\x07binary junk",
            f"{HEAD}i000: Setting string variable 'Big' to value '" + "x" * (MAX_RECORD + 10) + "'",
            f"{HEAD}i007: Exit code: 0x80070005, restarting: No",
            "",
        ]
    )
    evs, ctx = parse(write(tmp_path, text))
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("text before the first record (2 line(s)): 'garbage before the log\\n\\x01\\x02 more garbage'", 1),
        ("invalid date/time '2024-13-45T25:61:00': record read without a time", 4),
        ("unknown level letter 'q'", 5),
        ("control characters in a record's text (garbage in the log?)", 8),
        (f"record longer than {MAX_RECORD:,} characters cut", 9),
    ]
    recs = lines_of(evs)
    assert [e.origin.line for e in recs] == [3, 4, 5, 6, 9, 10]
    bad_date = at(evs, 4)
    assert (bad_date.time, bad_date.local_time, bad_date.fields["value"]) == (None, None, "Fab")
    odd = at(evs, 5)
    assert (odd.fields["level"], odd.fields["msg_id"], odd.severity) == (None, 123, Severity.INFO)
    multi = at(evs, 6)
    assert multi.fields["lines"] == 3
    assert multi.fields["log_text"] == (
        "Error 0x80070005: Failed to create the folder\n   C:\\ProgramData\\Fabrikam\n\x00\x07binary junk"
    )
    assert (
        multi.message
        == "Error 0x80070005: Failed to create the folder C:\\ProgramData\\Fabrikam \x00\x07binary junk"
    )
    assert (multi.code, multi.severity) == (0x80070005, Severity.ERROR)
    big = at(evs, 9)
    assert big.fields["truncated"] is True and big.fields["variable"] == "Big"
    assert big.fields["value"].endswith("…") and len(big.fields["value"]) == 2001
    assert len(big.fields["log_text"]) == MAX_TEXT and len(big.origin.text) == MAX_TEXT
    (summ,) = summaries(evs)
    assert (summ.fields["exit_code"], summ.code, summ.severity) == (0x80070005, 0x80070005, Severity.ERROR)
    assert summ.fields["bundle_name"] == "Fab" and summ.fields["first_error_line"] == 6


def test_hidden_and_obscured_values_are_dropped(tmp_path: Path) -> None:
    text = "\r\n".join(
        [
            f"{HEAD}i000: Initializing hidden variable 'AdminPassword'",
            f"{HEAD}i000: Setting string variable 'AdminPassword' to value 'hunter2'",  # not as Burn logs it
            f"{HEAD}i000: Setting string variable 'Token' to value 'a*****b'",
            f"{HEAD}i000: Unsetting variable 'Proxy'",
            f"{HEAD}i410: Variable: AdminPassword = hunter2",
            f"{HEAD}i410: Variable: WixBundleLog_Pkg.A = C:\\Temp\\X_000_Pkg.A.log",
            f"{HEAD}i410: Variable: WixBundleLog_Pkg.A =",
            f"{HEAD}i410: Variable: Quoted = 'as written'",
            f"{HEAD}i000: Setting string variable 'Empty' to value ''",
        ]
    )
    evs, ctx = parse(write(tmp_path, text))
    recs = lines_of(evs)
    assert [(e.fields["variable"], e.fields["value"], e.fields.get("hidden")) for e in recs] == [
        ("AdminPassword", None, True),
        ("AdminPassword", None, True),
        ("Token", None, True),
        ("Proxy", None, None),
        ("AdminPassword", None, True),
        ("WixBundleLog_Pkg.A", "C:\\Temp\\X_000_Pkg.A.log", None),
        ("WixBundleLog_Pkg.A", "", None),
        ("Quoted", "'as written'", None),  # the dump does not quote values
        ("Empty", "", None),
    ]
    assert recs[3].fields["unset"] is True
    assert recs[5].fields["log_package"] == "Pkg.A" and "child_log" not in recs[6].fields
    assert "hunter2" not in repr([dict(e.fields) for e in evs if e.kind == "burn:summary"])
    assert ctx.warnings[-1].message.startswith("engine run without Burn's 'Exit code' line")


def test_numbers_too_long_to_be_real_are_not_read() -> None:
    huge = "9" * 6000  # more digits than int() converts
    assert message_fields(f"Plan begin, {huge} packages, action: Install") == {}
    fields = message_fields(
        f"Burn v3.11.2.4516, Windows v10.0 (Build {huge}: Service Pack 0), path: C:\\a.exe"
    )
    assert (fields["engine_version"], fields["bundle_path"]) == ("3.11.2.4516", "C:\\a.exe")


def test_two_runs_appended_to_one_log(tmp_path: Path) -> None:
    engine = "i001: Burn v3.11.2.4516, Windows v10.0 (Build 19045: Service Pack 0), path: C:\\x\\setup.exe"
    text = "\r\n".join(
        [
            f"{HEAD}{engine}",
            f"{HEAD}i399: Apply complete, result: 0x80070642, restart: None, ba requested restart:  No",
            f"{HEAD}{engine}",
            f"{HEAD}i007: Exit code: 0x0, restarting: No",
            f"{HEAD}{engine}",
            f"{HEAD}i007: Exit code: 0xbc2, restarting: Yes",
        ]
    )
    evs, ctx = parse(write(tmp_path, text))
    assert [(e.kind, e.origin.line) for e in evs] == [
        ("burn:line", 1),
        ("burn:line", 2),
        ("burn:summary", 2),
        ("burn:line", 3),
        ("burn:line", 4),
        ("burn:summary", 4),
        ("burn:line", 5),
        ("burn:line", 6),
        ("burn:summary", 6),
    ]
    assert [(w.message[:29], w.line) for w in ctx.warnings] == [("engine run without Burn's 'Ex", 2)]
    first, second, third = summaries(evs)
    assert (first.fields["finished"], first.code, first.severity) == (False, 0x80070642, Severity.ERROR)
    assert (second.fields["finished"], second.code, second.severity) == (True, None, Severity.INFO)
    assert (third.fields["exit_code"], third.code, third.severity) == (3010, None, Severity.INFO)
    assert at(evs, 6).severity is Severity.INFO  # 3010: success, restart required


def test_message_shapes_of_other_burn_versions(tmp_path: Path) -> None:
    body = [
        "i001: Burn v3.7.3813.0, Windows v6.1 (Build 7601: Service Pack 1), path: C:\\Temp\\dd_vcredist.exe",
        "i104: Detected package: Core, feature: MainFeature, state: Local",
        "w350: Applied non-vital package: Lang_de, encountered error: 0x80070643. Continuing...",
        "e310: Failed to verify payload: vc_runtimeMinimum_x64 at path: C:\\ProgramData\\Package Cache\\"
        ".unverified\\vc_runtimeMinimum_x64, error: 0x80091007. Deleting file.",
        "w309: Skipping apply of package: Lang_fr due to cache error: 0x80070002. Continuing...",
        "i326: Removed dependency: {A} on package provider: {B}, package Core",
        "i306: Applying package: KB1, target: {1A2B3C4D-0000-0000-0000-000000000000}, action: Install, "
        "path: C:\\x\\kb1.msp, arguments: ''",
        "i005: Restarting computer...",
    ]
    text = "\r\n".join(HEAD + b for b in body) + "\r\n=======================================\r\n"
    evs, ctx = parse(write(tmp_path, text))
    assert ctx.warnings[-1].line == 8 and len(ctx.warnings) == 1  # no Exit code line
    recs = lines_of(evs)
    assert recs[0].fields["windows_build"] == 7601 and recs[0].fields["engine_version"] == "3.7.3813.0"
    assert (recs[1].fields["package"], recs[1].fields["feature"], recs[1].fields["state"]) == (
        "Core",
        "MainFeature",
        "Local",
    )
    assert (recs[2].fields["package"], recs[2].code, recs[2].severity) == (
        "Lang_de",
        0x80070643,
        Severity.WARNING,
    )
    verify = recs[3].fields
    assert (verify["payload"], verify["hresult"]) == ("vc_runtimeMinimum_x64", 0x80091007)
    assert verify["path"] == "C:\\ProgramData\\Package Cache\\.unverified\\vc_runtimeMinimum_x64"
    assert (recs[3].severity, recs[3].code) == (Severity.ERROR, 0x80091007)
    assert (recs[4].fields["package"], recs[4].fields["hresult"]) == ("Lang_fr", 0x80070002)
    assert recs[5].fields["package"] == "Core"
    patch = recs[6].fields
    assert (patch["package"], patch["target"], patch["action"], patch["path"], patch["arguments"]) == (
        "KB1",
        "{1A2B3C4D-0000-0000-0000-000000000000}",
        "Install",
        "C:\\x\\kb1.msp",
        "",
    )
    restart = recs[7]
    assert restart.fields["lines"] == 2
    assert restart.message == "Restarting computer... ======================================="
    (summ,) = summaries(evs)
    assert summ.fields["failed_package"] is None  # the error came while no execute package ran
    assert summ.fields["packages"] == [
        {"package": "Core"},
        {"package": "Lang_de", "result": 0x80070643, "vital": False},
        {"package": "KB1", "action": "Install"},
    ]
    assert (summ.severity, summ.code, summ.fields["first_error_line"]) == (Severity.INFO, None, 4)


def test_utf16le_log(tmp_path: Path) -> None:
    raw = fixture(CONTOSO).read_text("utf-8")
    p = tmp_path / CONTOSO
    p.write_bytes(b"\xff\xfe" + raw.encode("utf-16-le"))
    evs, ctx = parse(p)
    assert ctx.warning_count == 0 and len(evs) == 62
    assert summaries(evs)[0].fields["failed_package"] == "ContosoAgentMsi"
    p.write_bytes(raw.encode("utf-16-le"))  # without BOM
    src = Source(p, p.name)
    assert src.encoding.label == "utf-16le" and sniff(src)[0] is BurnParser


def test_sniff_burn_not_msi_cbs_cmtrace() -> None:
    src = Source(fixture(CONTOSO), CONTOSO)
    assert BurnParser.sniff(src) == 0.97 and sniff(src)[0] is BurnParser
    cbs = Source(data_path("parsers", "cbs", "cbs_failure_shapes.log"), "CBS.log")
    assert BurnParser.sniff(cbs) == 0.0 and sniff(cbs)[0] is not BurnParser
    for name in ("AppEnforce.log", "WUAHandler.log", "UpdatesHandler.log", "ccmsetup_utf16.log"):
        cm = Source(data_path("parsers", "cmtrace", name), name)
        assert BurnParser.sniff(cm) == 0.0
        assert sniff(cm)[0] is CmTraceParser, name


@pytest.mark.corpus
def test_sniff_corpus_msi_logs_stay_msi() -> None:
    folder = corpus_path("msi")
    for path in sorted(folder.glob("*.log")):
        src = Source(path, path.name)
        if "burn_related_bundle" in path.name:
            assert sniff(src)[0] is BurnParser
        else:  # the MSI logs, some of them launched by a Burn bundle
            assert BurnParser.sniff(src) == 0.0, path.name
            assert sniff(src)[0] is MsiParser, path.name


def test_sniff_needs_the_level_and_id(tmp_path: Path) -> None:
    # a Visual Studio installer log has the same prefix but no level letter and message id
    vs = "\r\n".join(
        f"[1b08:0001][2024-01-22T10:15:5{i}] Saving the current locale (en-US)" for i in range(5)
    )
    assert BurnParser.sniff(Source(write(tmp_path, vs, "dd_setup_20240122101556.log"), "dd_setup.log")) == 0.0
    mixed = "\r\n".join(["some tool output"] * 10 + [HEAD + "i000: Setting string variable 'A' to value 'B'"])
    assert BurnParser.sniff(Source(write(tmp_path, mixed), "x.log")) == 0.5
    plain = "\r\n".join([HEAD + "i000: Setting string variable 'A' to value 'B'"] * 3)
    assert BurnParser.sniff(Source(write(tmp_path, plain), "x.log")) == 0.9


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=2000), st.binary(max_size=500))
def test_arbitrary_text_never_raises(tmp_path: Path, text: str, blob: bytes) -> None:
    p = tmp_path / "Bundle_20240903103101.log"
    head = HEAD + "i001: Burn v3.11.2.4516, Windows v10.0 (Build 19045: Service Pack 0), path: C:\\x.exe\r\n"
    for data in (
        text.encode("utf-8", "surrogatepass"),
        (head + text).encode("utf-8", "surrogatepass"),
        f"[{text[:4]}:{text[4:8]}][{text[8:27]}]{text[27:28]}{text[28:31]}: {text[31:]}".encode(
            "utf-8", "replace"
        ),
        (head + f"{HEAD}i410: Variable: {text[:20]} = {text[20:]}").encode("utf-8", "replace"),
        (head + f"{HEAD}i301: Applying execute package: {text[:20]}, action: {text[20:]}").encode(
            "utf-8", "replace"
        ),
        head.encode("utf-16-le") + blob,
        blob,
    ):
        p.write_bytes(data)
        src = Source(p, p.name)
        ctx = ParseContext("x", 0)
        evs = list(BurnParser().parse(src, ctx))
        assert all(e.kind in ("burn:line", "burn:summary") for e in evs)
        assert all(e.to_dict() for e in evs)
        BurnParser.sniff(src)
