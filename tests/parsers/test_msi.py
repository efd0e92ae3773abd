"""Windows Installer verbose log parser: real zh-CN case logs, English corpus logs, damaged input."""
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
from culprit.parsers.msi import MsiParser
from tests.conftest import case_path, corpus_path, data_path

CASE_BAD = ("edge-injected-dll", "bad", "Windows", "Temp", "MSI5e2c1.LOG")
CASE_GOOD = ("edge-injected-dll", "good", "Windows", "Temp", "MSI3a7d9.LOG")
CORPUS_MSI = (
    "redball_burn-child_install_2.1.24_utf16.log",
    "redball_burn-child_uninstall_related_bundle_utf16.log",
    "redball_msi_install_success_utf16.log",
)


def parse(path: Path, name: str | None = None, offset: int | None = 480) -> tuple[list[Event], ParseContext]:
    src = Source(path, name or path.name)
    ctx = ParseContext(src.name, offset)
    return list(MsiParser().parse(src, ctx)), ctx


def at(events: list[Event], line: int, kind: str | None = None) -> Event:
    found = [e for e in events if e.origin.line == line and e.kind != "msi:summary"
             and (kind is None or e.kind == kind)]
    assert len(found) == 1, (line, kind, [e.kind for e in found])
    return found[0]


def utf16(lines: list[str]) -> bytes:
    return codecs.BOM_UTF16_LE + "\r\n".join(lines).encode("utf-16-le")


# --- the zh-CN case log -----------------------------------------------------------------


def test_case_bad_sniffs_as_msi() -> None:
    src = Source(case_path(*CASE_BAD), "bad/Windows/Temp/MSI5e2c1.LOG")
    cls, _ = parsers.sniff(src)
    assert cls is MsiParser


def test_case_bad_banner_date_and_utc() -> None:
    evs, ctx = parse(case_path(*CASE_BAD))
    b = at(evs, 1)
    assert b.kind == "msi:banner"
    assert dict(b.fields) == {
        "event": "start", "date": "2022-06-16", "verbose": True, "build": "5.00.10011.00",
        "process": r"C:\Windows\system32\msiexec.exe",
    }
    assert b.local_time == datetime(2022, 6, 16, 10, 42, 57)
    assert b.time == datetime(2022, 6, 16, 2, 42, 57, tzinfo=UTC)
    assert ctx.warning_count == 0


def test_case_bad_custom_action_schedule_line_285() -> None:
    evs, _ = parse(case_path(*CASE_BAD))
    e = at(evs, 285)
    assert e.kind == "msi:op"
    assert e.fields["op"] == "CustomActionSchedule"
    assert e.fields["action"] == "DoInstall"
    assert e.fields["action_type"] == 3074
    assert e.fields["source"] == "BinaryData"
    assert e.fields["target"].startswith('/silent /install "appguid={56EB18F8-B008-4CBD-B6D2-8C97FE7E9062}')
    assert (e.fields["side"], e.fields["pid"], e.fields["tid"]) == ("s", 0x98, 0x5C)
    assert e.local_time == datetime(2022, 6, 16, 10, 43, 3, 59000)


def test_case_bad_note_1722_line_286() -> None:
    evs, _ = parse(case_path(*CASE_BAD))
    e = at(evs, 286)
    assert e.kind == "msi:note"
    assert e.fields["note"] == 1722
    cmd = ('/silent /install "appguid={56EB18F8-B008-4CBD-B6D2-8C97FE7E9062}&appname=Microsoft Edge&'
           'needsAdmin=True&usagestats=0&ap=stable-arch_x64" /installsource enterprisemsi')
    assert e.fields["args"] == ["DoInstall", r"C:\Windows\Installer\MSI8F3A.tmp", cmd]
    assert e.fields["action"] == "DoInstall"
    assert e.fields["path"] == r"C:\Windows\Installer\MSI8F3A.tmp"
    assert e.fields["command"] == cmd
    assert e.severity is Severity.ERROR


def test_case_bad_custom_action_code_line_289() -> None:
    evs, _ = parse(case_path(*CASE_BAD))
    e = at(evs, 289)
    assert e.kind == "msi:custom-action"
    assert dict(e.fields) == {
        "action": "DoInstall", "raw": -2147219198, "code": 0x80040902, "hresult": 0x80040902,
        "ignored": False,
    }
    assert e.code == 0x80040902
    # the bare line has no time of its own: it carries the previous line's (10:43:05.185)
    assert e.local_time == datetime(2022, 6, 16, 10, 43, 5, 185000)


def test_case_bad_localized_errors_lines_290_293() -> None:
    evs, _ = parse(case_path(*CASE_BAD))
    e = at(evs, 290)
    assert e.kind == "msi:error"
    assert (e.fields["error"], e.fields["level"]) == (1722, "error")
    p = at(evs, 293)
    assert p.kind == "msi:error"
    assert (p.fields["error"], p.fields["product"]) == (1722, "Microsoft Edge")


def test_case_bad_first_failure_is_line_295_only() -> None:
    evs, _ = parse(case_path(*CASE_BAD))
    e = at(evs, 295)
    assert e.kind == "msi:action"
    assert dict(e.fields) == {"action": "InstallFinalize", "phase": "end", "return_value": 3,
                              "first_failure": True}
    assert e.local_time == datetime(2022, 6, 16, 10, 43, 5)
    firsts = [x.origin.line for x in evs if x.fields.get("first_failure")]
    assert firsts == [295]
    install = at(evs, 321)
    assert install.fields["return_value"] == 3 and "first_failure" not in install.fields
    start = at(evs, 250)
    assert dict(start.fields) == {"action": "DoInstall", "phase": "start"}


def test_case_bad_status_line_395() -> None:
    evs, _ = parse(case_path(*CASE_BAD))
    e = at(evs, 395)
    assert e.kind == "msi:status"
    assert dict(e.fields) == {
        "side": "s", "pid": 0x98, "tid": 0x5C, "status": 1603, "operation": None, "product": "Microsoft Edge",
        "version": "102.0.1245.39", "language": 1033, "manufacturer": "Microsoft Corporation",
        "package": "MicrosoftEdgeEnterpriseX64.msi", "product_code": "{A6AADA8E-5960-5609-8BBE-A2A10274B245}",
    }
    assert e.code == 1603 and e.severity is Severity.ERROR
    eng = at(evs, 397)
    assert eng.kind == "msi:engine-return" and eng.fields["status"] == 1603


def test_case_bad_properties_and_summary() -> None:
    evs, _ = parse(case_path(*CASE_BAD))
    orig = at(evs, 84)
    assert (orig.kind, orig.fields["name"], orig.fields["change"]) == (
        "msi:property", "OriginalDatabase", "add")
    assert orig.fields["value"] == r"C:\Users\张伟\Desktop\Edge\MicrosoftEdgeEnterpriseX64.msi"
    dump = at(evs, 332)
    assert dict(dump.fields) == {"name": "ProductVersion", "value": "102.0.1245.39", "change": "dump",
                                 "scope": "S"}
    summary = evs[-1]
    assert summary.kind == "msi:summary"
    assert dict(summary.fields) == {
        "product": "Microsoft Edge", "version": "102.0.1245.39", "package": "MicrosoftEdgeEnterpriseX64.msi",
        "product_code": "{A6AADA8E-5960-5609-8BBE-A2A10274B245}", "status": 1603, "status_line": 395,
        "first_failure_action": "InstallFinalize", "first_failure_line": 295,
        "ca_errors": [{"action": "DoInstall", "code": 0x80040902, "raw": -2147219198, "line": 289}],
    }
    assert summary.origin.line == 395
    assert summary.local_time == datetime(2022, 6, 16, 10, 43, 5, 806000)


def test_case_good_succeeds_without_failure() -> None:
    evs, ctx = parse(case_path(*CASE_GOOD))
    assert not [e for e in evs if e.fields.get("first_failure")]
    s = evs[-1]
    assert (s.fields["status"], s.fields["first_failure_action"], s.severity) == (0, None, Severity.INFO)
    assert ctx.warning_count == 0


# --- our English fixture: rollover, ambiguous date, ignored CA -------------------------


def test_english_fixture_rollover_and_fields() -> None:
    evs, ctx = parse(data_path("parsers", "msi", "en_failure_rollover.log"))
    assert ctx.warning_count == 0
    # 3/11/2020 is ambiguous; UserLanguageID 1033 (en-US) in the head says month first
    assert at(evs, 1).fields["date"] == "2020-03-11"
    note = at(evs, 9)
    assert note.local_time == datetime(2020, 3, 12, 0, 0, 1, 200000)  # past midnight: next day
    assert note.time == datetime(2020, 3, 11, 16, 0, 1, 200000, tzinfo=UTC)
    assert dict(note.fields) == {
        "side": "s", "pid": 0x68, "tid": 0xAC, "note": 1402,
        "args": [r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\AmdK8", "5"],
        "key": r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\AmdK8", "win32": 5,
    }
    ca_note = at(evs, 10)
    assert ca_note.fields["ca_thread"] is True and ca_note.fields["tid"] == 0xB0
    ca = at(evs, 11)
    assert (ca.fields["raw"], ca.fields["code"], ca.code) == (-2147024891, 0x80070005, 0x80070005)
    ignored = at(evs, 17)
    assert ignored.fields["ignored"] is True and ignored.severity is Severity.INFO
    assert "hresult" not in ignored.fields
    status = at(evs, 21)
    assert (status.fields["operation"], status.fields["manufacturer"]) == ("installed", "Contoso Ltd.")
    assert status.fields["package"] == "ContosoAgent.msi"
    mod = at(evs, 7)
    assert dict(mod.fields) == {"side": "s", "pid": 0x68, "tid": 0xAC, "name": "CostingComplete",
                                "value": "1",
                                "old": "0", "change": "modify"}
    assert evs[-1].fields["first_failure_line"] == 15


def test_en_gb_day_first_date(tmp_path: Path) -> None:
    p = tmp_path / "gb.log"
    p.write_bytes(utf16([
        "=== Verbose logging started: 24/03/2026  05:15:49  Build type: SHIP UNICODE 5.00.10011.00  "
        "Calling process: C:\\WINDOWS\\system32\\msiexec.exe ===",
        "MSI (c) (34:70) [05:15:49:963]: Font created.",
        "=== Verbose logging stopped: 24/03/2026  05:17:54 ===",
    ]))
    evs, ctx = parse(p)
    assert evs[1].local_time == datetime(2026, 3, 24, 5, 15, 49, 963000)
    assert ctx.warning_count == 0


def test_ambiguous_date_without_hint_warns(tmp_path: Path) -> None:
    p = tmp_path / "amb.log"
    p.write_bytes(utf16([
        "=== Verbose logging started: 3/11/2020  16:44:54  Build type: SHIP UNICODE 5.00.10011.00  "
        "Calling process: C:\\windows\\system32\\msiexec.exe ===",
        "MSI (c) (4C:D4) [16:44:54:463]: Resetting cached policy values",
        "=== Verbose logging stopped: 3/11/2020  16:44:55 ===",
    ]))
    evs, ctx = parse(p)
    assert evs[1].local_time == datetime(2020, 3, 11, 16, 44, 54, 463000)
    assert any("ambiguous" in w.message for w in ctx.warnings)


# --- corpus --------------------------------------------------------------------------------


def test_corpus_success_log_status_and_debug_errors() -> None:
    evs, ctx = parse(corpus_path("msi", "redball_msi_install_success_utf16.log"))
    status = [e for e in evs if e.kind == "msi:status"]
    assert len(status) == 1
    assert dict(status[0].fields) | {} == {
        "side": "c", "pid": 0x34, "tid": 0x7C, "status": 0, "operation": "installed", "product": "Redball",
        "version": "2.1.223.0", "language": 1033, "manufacturer": "ArMaTeC", "package": "Redball-2.1.223.msi",
        "product_code": "{0688EA09-22E6-4905-9B74-06742011665C}",
    }
    debug = [e for e in evs if e.kind == "msi:error" and e.fields["level"] == "debug"]
    assert {e.fields["error"] for e in debug} == {2826, 2911}
    info = [e for e in evs if e.kind == "msi:error" and e.fields["level"] == "info"]
    assert {e.fields["error"] for e in info} == {2898, 1314}
    assert not [e for e in evs if e.fields.get("first_failure")]
    assert ctx.warning_count == 0


def test_corpus_uninstall_status_operation() -> None:
    evs, _ = parse(corpus_path("msi", "redball_burn-child_uninstall_related_bundle_utf16.log"))
    st_ = next(e for e in evs if e.kind == "msi:status")
    assert (st_.fields["operation"], st_.fields["status"], st_.fields["version"]) == (
        "removed", 0, "2.1.24.0")
    eng = [e.fields["status"] for e in evs if e.kind == "msi:engine-return"]
    assert eng == [0, 0]


def test_every_corpus_and_case_msi_log_parses() -> None:
    paths = [corpus_path("msi", n) for n in CORPUS_MSI] + [case_path(*CASE_BAD), case_path(*CASE_GOOD)]
    for p in paths:
        src = Source(p, p.name)
        cls, _ = parsers.sniff(src)
        assert cls is MsiParser, p
        evs, ctx = parse(p)
        lines = max(e.origin.line or 0 for e in evs)
        assert len(evs) > 0
        assert ctx.warning_count < 0.01 * lines, (p, ctx.warnings[:5])


def test_burn_bundle_log_is_not_msi() -> None:
    src = Source(corpus_path("msi", "redball_burn_related_bundle_uninstall.log"), "burn.log")
    assert MsiParser.sniff(src) == 0.0


# --- damaged input ---------------------------------------------------------------------------


def test_truncated_mid_line(tmp_path: Path) -> None:
    data = case_path(*CASE_BAD).read_bytes()
    cut = data.index("MSI (s) (98:5C) [10:43:05:184]".encode("utf-16-le")) + 30  # inside the stamp
    p = tmp_path / "trunc.log"
    p.write_bytes(data[:cut])
    evs, ctx = parse(p)
    assert evs and evs[-1].kind == "msi:summary"
    msgs = " ".join(w.message for w in ctx.warnings)
    assert "malformed" in msgs and "without a 'logging stopped' banner" in msgs


def test_truncated_odd_byte(tmp_path: Path) -> None:
    data = case_path(*CASE_BAD).read_bytes()
    p = tmp_path / "odd.log"
    p.write_bytes(data[: len(data) // 2 | 1])
    evs, ctx = parse(p)
    assert len(evs) > 100
    assert ctx.warning_count >= 1


def test_binary_garbage_inside(tmp_path: Path) -> None:
    data = case_path(*CASE_BAD).read_bytes()
    rnd = random.Random(7)
    junk = bytes(rnd.getrandbits(8) for _ in range(4096))
    p = tmp_path / "garbage.log"
    p.write_bytes(data[:20000] + junk + data[20000:])
    evs, ctx = parse(p)
    assert ctx.warning_count >= 1
    assert any(e.kind == "msi:status" for e in evs)  # parsing went on after the garbage


def test_ten_megabyte_line(tmp_path: Path) -> None:
    p = tmp_path / "huge.log"
    p.write_bytes(utf16([
        "=== Verbose logging started: 2022/6/16  10:42:57  Build type: SHIP UNICODE 5.00.10011.00 ===",
        "MSI (s) (98:5C) [10:42:57:487]: " + "A" * (10 * 1024 * 1024),
        "MSI (s) (98:5C) [10:43:05:808]: MainEngineThread is returning 1603",
        "=== Verbose logging stopped: 2022/6/16  10:43:05 ===",
    ]))
    evs, ctx = parse(p)
    assert any("longer than" in w.message for w in ctx.warnings)
    assert [e.fields["status"] for e in evs if e.kind == "msi:engine-return"] == [1603]


def test_wrong_encoding_utf8_bytes_read_as_utf16(tmp_path: Path) -> None:
    # a UTF-8 log given a UTF-16 BOM: every line decodes to nonsense
    text = data_path("parsers", "msi", "en_failure_rollover.log").read_bytes()[2:].decode("utf-16-le")
    p = tmp_path / "wrong.log"
    p.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-8"))
    evs, ctx = parse(p)
    assert ctx.warning_count >= 1
    assert not [e for e in evs if e.kind == "msi:status"]


def test_gbk_bytes_after_the_utf8_head_warn(tmp_path: Path) -> None:
    # sniffed as UTF-8 from the first 64 KiB; a GBK product name further down cannot decode
    text = data_path("parsers", "msi", "en_failure_rollover.log").read_bytes()[2:].decode("utf-16-le")
    head, _, tail = text.partition("Action start 23:59:59: InstallFinalize.")
    filler = "MSI (s) (68:AC) [23:59:59:100]: Machine policy value 'Debug' is 0\r\n" * 1200
    raw = (head + filler).encode("utf-8") + b"Action start 23:59:59: InstallFinalize."
    raw += tail.encode("utf-8").replace(b"Contoso Agent -- Installation failed", "产品".encode("gbk"), 1)
    p = tmp_path / "mixed.log"
    p.write_bytes(raw)
    evs, ctx = parse(p)
    assert any("not valid utf-8" in w.message for w in ctx.warnings)
    assert any(e.kind == "msi:status" and e.fields["status"] == 1603 for e in evs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), wide=st.booleans())
def test_arbitrary_bytes_never_raise(tmp_path: Path, data: bytes, wide: bool) -> None:
    p = tmp_path / "fuzz.log"
    head = utf16(["=== Verbose logging started: 2022/6/16  10:42:57 ===",
                  "MSI (s) (98:5C) [10:42:57:487]: x", ""])
    p.write_bytes(head + data if wide else data)
    evs, _ = parse(p)
    assert evs[-1].kind == "msi:summary" if evs else True


def test_appended_sessions_each_get_first_failure_and_summary(tmp_path: Path) -> None:
    # msiexec /l*v+ appends a second session to the same file
    data = case_path(*CASE_BAD).read_bytes()
    p = tmp_path / "appended.log"
    p.write_bytes(data + data[2:])
    evs, ctx = parse(p)
    assert [e.origin.line for e in evs if e.fields.get("first_failure")] == [295, 408 + 295]
    summaries = [e for e in evs if e.kind == "msi:summary"]
    assert [(s.fields["status_line"], s.fields["first_failure_line"]) for s in summaries] == [
        (395, 295), (408 + 395, 408 + 295)]
    assert summaries[0].fields["ca_errors"] == [
        {"action": "DoInstall", "code": 0x80040902, "raw": -2147219198, "line": 289}]
    assert ctx.warning_count == 0


def test_unknown_language_parses_by_shape(tmp_path: Path) -> None:
    # placeholder words stand for any UI language the word list does not know
    p = tmp_path / "xx.log"
    p.write_bytes(utf16([
        "=== Qqq Zzz: 2024-05-02  10:00:00  Qqq: SHIP UNICODE 5.00.10011.00  "
        "Www: C:\\Windows\\system32\\msiexec.exe ===",
        "Wwwww 10:00:00: INSTALL.",
        "Action 10:00:01: ProcessComponents. Updating component registration",
        "Vvvvv 10:00:02: INSTALL. Kkkk 3.",
        "MSI (s) (98:5C) [10:00:02:100]: Windows Installer Aaaa. Bbbb: Contoso. Cccc: 1.2.3. Dddd: 1031. "
        "Eeee: Contoso Ltd. Ffff: 1603.",
        "=== Qqq Yyy: 2024-05-02  10:00:03 ===",
    ]))
    evs, ctx = parse(p)
    kinds = [(e.origin.line, e.kind) for e in evs if e.kind != "msi:summary"]
    assert kinds == [(1, "msi:banner"), (2, "msi:action"), (3, "msi:text"), (4, "msi:action"),
                     (5, "msi:status"), (6, "msi:banner")]
    assert dict(evs[1].fields) == {"action": "INSTALL", "phase": "start"}
    assert dict(evs[3].fields) == {"action": "INSTALL", "phase": "end", "return_value": 3,
                                   "first_failure": True}
    st_ = evs[4].fields
    assert (st_["status"], st_["product"], st_["version"], st_["language"], st_["manufacturer"]) == (
        1603, "Contoso", "1.2.3", 1031, "Contoso Ltd")
    assert (evs[0].fields["event"], evs[0].fields["date"], evs[5].fields["event"]) == (
        "start", "2024-05-02", "stop")
    assert ctx.warning_count == 0
