"""SetupAPI text log parser: the KB4474419 case, the real corpus logs, old header form, damage."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.ingest import open_bundle
from culprit.model import Severity
from culprit.parsers import _servicing, sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.setupapi import SetupApiParser
from tests.conftest import case_path, corpus_path, data_path

CASE = ("kb4474419-registry-denied", "bad", "Windows", "inf", "setupapi.dev.log")
FIXTURE = ("parsers", "setupapi", "setupapi_old_header_and_failures.log")
AMD = "ACPI\\AUTHENTICAMD_-_AMD64_FAMILY_15_MODEL_107\\_0"


def parse(path: Path, name: str | None = None) -> tuple[list, ParseContext]:
    src = Source(path, name or path.name)
    ctx = ParseContext(src.name, utc_offset=480)
    return list(SetupApiParser().parse(src, ctx)), ctx


def at(events: list, line: int, kind: str | None = None):
    hits = [e for e in events if e.origin.line == line and (kind is None or e.kind == kind)]
    assert len(hits) == 1, (line, [e.kind for e in hits])
    return hits[0]


def dt(*a: int) -> datetime:
    return datetime(*a)  # noqa: DTZ001 - naive local time as in the log


# --- the KB4474419 case (CP936 text) ------------------------------------------------------------


def test_case_failed_cpu_inf_section() -> None:
    evs, ctx = parse(case_path(*CASE))
    assert ctx.warning_count == 0
    sec = at(evs, 115, "setupapi:section")
    assert sec.severity is Severity.ERROR
    assert sec.code == 5
    assert sec.local_time == dt(2024, 9, 3, 10, 30, 40, 621000)
    assert sec.message == f"Device Install (DiInstallDevice) - {AMD}: FAILURE"
    f = dict(sec.fields)
    assert f == {
        "title": "Device Install (DiInstallDevice)",
        "instance": AMD,
        "start": dt(2024, 9, 3, 10, 30, 40, 621000),
        "end": dt(2024, 9, 3, 10, 30, 41, 90000),
        "exit_status": "FAILURE",
        "exit_code": 5,
        "command_line": "C:\\Windows\\servicing\\TrustedInstaller.exe",
        "command_line_line": 117,
        "inf": "cpu.inf",
        "subsections": [
            {"name": "Build Driver List", "exit_code": 0, "line": 133, "depth": 0},
            {"name": "DIF_ALLOW_INSTALL", "exit_code": 0xE000020E, "line": 137, "depth": 0},
            {"name": "DIF_INSTALLDEVICEFILES", "exit_code": 0, "line": 141, "depth": 0},
            {"name": "DIF_REGISTER_COINSTALLERS", "exit_code": 0, "line": 146, "depth": 0},
            {"name": "Install DEVICE", "exit_code": 5, "line": 158, "depth": 2},
            {"name": "DIF_INSTALLDEVICE", "exit_code": 5, "line": 162, "depth": 0},
            {"name": "Rollback device install", "exit_code": 0, "line": 165, "depth": 0},
        ],
        "failed_subsections": [
            {"name": "Install DEVICE", "exit_code": 5, "line": 158, "depth": 2},
            {"name": "DIF_INSTALLDEVICE", "exit_code": 5, "line": 162, "depth": 0},
        ],
        "errors": 6,
        "warnings": 0,
        "complete": True,
    }


def test_case_addservice_and_service_failure_lines() -> None:
    evs, _ = parse(case_path(*CASE))
    common = {"section": "Device Install (DiInstallDevice)", "section_line": 115, "instance": AMD}
    add = at(evs, 153)
    assert add.kind == "setupapi:addservice"
    assert dict(add.fields) == {
        **common,
        "service": "AmdK8",
        "flags": 2,
        "install_section": "AmdK8_Service_Inst",
        "eventlog_section": "AmdK8_EventLog_Inst",
        "inf": "cpu.inf",
        "inf_line": 80,
    }
    assert add.origin.text == (
        "     inf:                AddService=AmdK8,0x00000002,AmdK8_Service_Inst,AmdK8_EventLog_Inst  (cpu.inf line 80)"  # noqa: E501
    )
    fail = at(evs, 154)
    assert fail.kind == "setupapi:service_failure"
    assert fail.severity is Severity.ERROR
    assert fail.code == 5
    assert dict(fail.fields) == {
        **common,
        "category": "dvi",
        "entry": "Add Service: Failed to modify existing service 'AmdK8'.",
        "service": "AmdK8",
        "operation": "modify",
        "inf": "cpu.inf",
        "win32": 5,
        "error_text": "拒绝访问。",
        "error_line": 155,
    }
    assert fail.origin.text.splitlines() == [
        "!!!  dvi:                Add Service: Failed to modify existing service 'AmdK8'.",
        "!!!  dvi:                Error 5: 拒绝访问。",
    ]
    # "Error N:" lines are merged, never separate events
    assert not [e for e in evs if e.origin.line in (155, 157, 161)]
    inst = at(evs, 156)
    assert (inst.kind, inst.fields["service"], inst.fields["operation"], inst.code) == (
        "setupapi:service_failure",
        None,
        "install",
        5,
    )
    other = at(evs, 160)
    assert (other.kind, other.fields["entry"], other.fields["win32"]) == (
        "setupapi:error",
        "Default installer: failed!",
        5,
    )


def test_case_copy_lines() -> None:
    evs, _ = parse(case_path(*CASE))
    cp = at(evs, 142)
    store = "C:\\Windows\\System32\\DriverStore\\FileRepository\\cpu.inf_amd64_neutral_7b4c6f3a9d1e2b05"
    assert cp.kind == "setupapi:copy"
    assert dict(cp.fields) == {
        "section": "Device Install (DiInstallDevice)",
        "section_line": 115,
        "instance": AMD,
        "source": f"{store}\\amdk8.sys",
        "target": "C:\\Windows\\system32\\DRIVERS\\amdk8.sys",
        "path": "C:\\Windows\\system32\\DRIVERS\\amdk8.sys",
        "file": "amdk8.sys",
        "inf": "cpu.inf",
    }
    assert cp.local_time == dt(2024, 9, 3, 10, 30, 40, 731000)  # the DIF_INSTALLDEVICEFILES exit just above
    assert len([e for e in evs if e.kind == "setupapi:copy"]) == 6


def test_case_sections_inf_from_title_or_body() -> None:
    evs, _ = parse(case_path(*CASE))
    secs = [
        (e.origin.line, e.fields["inf"], e.fields["exit_status"]) for e in evs if e.kind == "setupapi:section"
    ]
    assert secs == [
        (12, "usbstor.inf", "SUCCESS"),
        (47, "msmouse.inf", "SUCCESS"),
        (66, "prnhp002.inf", "SUCCESS"),
        (85, "cpu.inf", "SUCCESS"),
        (115, "cpu.inf", "FAILURE"),
        (172, "input.inf", "SUCCESS"),
    ]
    boots = [e.local_time for e in evs if e.kind == "setupapi:boot"]
    assert boots[0] == dt(2024, 8, 26, 8, 41, 17, 500000) and len(boots) == 6
    hdr = evs[0]
    assert hdr.kind == "setupapi:header"
    assert dict(hdr.fields) == {
        "os_version": "6.1.7601",
        "service_pack": "1.0",
        "product_type": "1",
        "architecture": "amd64",
    }


# --- real corpus logs ---------------------------------------------------------------------------


def test_plaso_win10_log_sections_and_signature_warning() -> None:
    evs, ctx = parse(corpus_path("setupapi", "plaso_win10-10240_setupapi.dev.log"))
    assert ctx.warning_count == 0
    secs = [e for e in evs if e.kind == "setupapi:section"]
    assert len(secs) == 194
    assert {e.fields["exit_status"] for e in secs} == {"SUCCESS", "SUCCESS (REBOOT_REQUIRED)"}
    first = secs[0]
    assert (first.origin.line, first.fields["title"], first.fields["instance"]) == (
        12,
        "Device Install (Hardware initiated)",
        "SWD\\IP_TUNNEL_VBUS\\ISATAP_0",
    )
    assert first.fields["start"] == dt(2015, 11, 22, 17, 59, 28, 110000)
    assert first.fields["inf"] == "nettun.inf"
    tunnel = at(evs, 58)
    assert (tunnel.kind, tunnel.fields["service"], tunnel.fields["inf"]) == (
        "setupapi:addservice",
        "tunnel",
        "nettun.inf",
    )
    # the Win10 {Add Service: X} block's details
    block = {
        k: tunnel.fields[k]
        for k in ("start_type", "service_type", "error_control", "image_path", "group", "result")
    }
    assert block == {
        "start_type": 3,
        "service_type": 1,
        "error_control": 1,
        "image_path": "\\SystemRoot\\System32\\drivers\\tunnel.sys",
        "group": "NDIS",
        "result": "created",
    }
    sig = at(evs, 208)
    assert sig.kind == "setupapi:warning"
    assert sig.code == 0x800B0109
    assert sig.fields["category"] == "sig"
    assert sig.fields["hresult"] == 0x800B0109
    assert sig.fields["error_line"] == 209
    assert sig.fields["error_text"].startswith("A certificate chain processed")
    add = at(evs, 364)
    assert (add.fields["service"], add.fields["inf"], add.fields["inf_line"]) == (
        "VBoxGuest",
        "vboxguest.inf",
        59,
    )


def test_museum_log_failures() -> None:
    evs, ctx = parse(corpus_path("setupapi", "museum_win10-19043_setupapi.dev.log"))
    assert ctx.warning_count == 0
    secs = [e for e in evs if e.kind == "setupapi:section"]
    assert len(secs) == 25
    failed = [e for e in secs if e.fields["exit_status"] == "FAILURE"]
    assert [(e.code, e.severity) for e in failed] == [(0xE000020B, Severity.ERROR)] * 5
    assert at(evs, 334).kind == "setupapi:warning"
    assert at(evs, 334).fields["entry"] == "Unable to find any matching devices."


# --- old header form, file-queue failures, sections without footer (fixture) ---------------------


def test_old_header_form_and_failures_fixture() -> None:
    evs, ctx = parse(data_path(*FIXTURE))
    assert ctx.warning_count == 0
    sec = at(evs, 12, "setupapi:section")
    assert (sec.fields["start"], sec.fields["end"]) == (
        dt(2008, 6, 2, 9, 12, 5, 328000),
        dt(2008, 6, 2, 9, 12, 7, 11000),
    )
    assert (sec.fields["exit_status"], sec.fields["exit_code"], sec.fields["inf"]) == (
        "FAILURE",
        1072,
        "oem12.inf",
    )
    assert (sec.fields["errors"], sec.fields["warnings"]) == (6, 2)
    q = at(evs, 19)
    assert (q.kind, q.fields["win32"], q.fields["error_line"]) == ("setupapi:filequeue_failure", 995, 20)
    assert at(evs, 21).kind == "setupapi:filequeue_failure"
    svc = at(evs, 27)
    assert (svc.kind, svc.fields["service"], svc.fields["operation"], svc.code) == (
        "setupapi:service_failure",
        "smbus",
        "create",
        1072,
    )
    open_ = at(evs, 33, "setupapi:section")
    assert (open_.fields["complete"], open_.fields["exit_status"]) == (False, None)
    assert open_.fields["failed_subsections"] == [
        {"name": "SetupCopyOEMInf", "exit_code": 0xE0000247, "line": 39, "depth": 0}
    ]
    brace_add = at(evs, 36)
    assert (brace_add.kind, brace_add.fields["service"]) == ("setupapi:addservice", "e1cexpress")
    reboot = at(evs, 41, "setupapi:section")
    assert (reboot.fields["exit_status"], reboot.code, reboot.severity) == (
        "SUCCESS (REBOOT_REQUIRED)",
        0,
        Severity.INFO,
    )


def test_win10_addservice_line_and_block_are_one_event() -> None:
    evs, ctx = parse(data_path(*FIXTURE))
    assert ctx.warning_count == 0
    adds = [e for e in evs if e.kind == "setupapi:addservice" and e.fields["service"] == "CtsAud"]
    assert len(adds) == 1
    a = adds[0]
    assert a.origin.line == 49
    assert dict(a.fields) == {
        "section": "Device Install (DiInstallDriver)",
        "section_line": 47,
        "instance": "C:\\Drivers\\Contoso\\ctsaud.inf",
        "service": "CtsAud",
        "flags": 2,
        "install_section": "CtsAud_Service_Inst",
        "eventlog_section": None,
        "inf": "ctsaud.inf",
        "inf_line": 44,
        "start_type": 3,
        "service_type": 1,
        "error_control": 1,
        "image_path": "\\SystemRoot\\System32\\drivers\\ctsaud.sys",
        "display_name": "Contoso Audio",
    }
    fail = at(evs, 56)
    assert (fail.kind, fail.fields["service"], fail.code, fail.fields["error_line"]) == (
        "setupapi:service_failure",
        "CtsAud",
        5,
        57,
    )
    sto = at(evs, 59)  # "Error = 0x00000005" form
    assert (sto.kind, sto.code, sto.fields["win32"]) == ("setupapi:error", 5, 5)


def test_small_pieces_give_the_same_events(monkeypatch: pytest.MonkeyPatch) -> None:
    path = corpus_path("setupapi", "plaso_win10-10240_setupapi.dev.log")
    want, _ = parse(path)
    monkeypatch.setattr(_servicing, "READ", 1000)
    got, ctx = parse(path)
    assert ctx.warning_count == 0
    assert [(e.origin.line, e.kind, dict(e.fields)) for e in got] == [
        (e.origin.line, e.kind, dict(e.fields)) for e in want
    ]


# --- damaged input -----------------------------------------------------------------------------


def test_truncated_section(tmp_path: Path) -> None:
    data = case_path(*CASE).read_bytes()
    cut = data.index("拒绝".encode("gbk"))
    p = tmp_path / "setupapi.dev.log"
    p.write_bytes(data[:cut])
    evs, ctx = parse(p)
    assert ctx.warning_count == 0
    last = [e for e in evs if e.kind == "setupapi:section"][-1]
    assert last.origin.line == 115 and last.fields["complete"] is False
    assert at(evs, 154).fields["service"] == "AmdK8"


def test_binary_garbage_and_huge_line(tmp_path: Path) -> None:
    good = data_path(*FIXTURE).read_bytes()
    rnd = random.Random(3)
    garbage = bytes(rnd.randrange(256) for _ in range(3000))
    huge = b"     dvi: " + b"x" * (10 << 20) + b"\r\n"
    p = tmp_path / "setupapi.dev.log"
    p.write_bytes(good + garbage + b"\r\n" + huge + good)
    evs, ctx = parse(p)
    msgs = [w.message for w in ctx.warnings]
    assert any("line longer than" in m for m in msgs)
    assert any("binary data" in m or "not valid" in m for m in msgs)
    assert sum(1 for e in evs if e.kind == "setupapi:service_failure") == 4  # 2 per copy of the fixture


def test_wrong_encoding_is_warned(tmp_path: Path) -> None:
    good = data_path(*FIXTURE).read_bytes()
    reps = 70_000 // len(good) + 1
    bad = "!!!  dvi:      Add Service: Failed to modify existing service 'Ærø'.\r\n".encode("cp1252")
    p = tmp_path / "setupapi.dev.log"
    p.write_bytes(good * reps + bad)
    evs, ctx = parse(p)
    assert [w.message for w in ctx.warnings] == ["bytes not valid utf-8 replaced"]
    n = good.count(b"\n") * reps + 1
    assert ctx.warnings[0].line == n
    last = evs[-1]
    assert last.kind == "setupapi:service_failure" and last.origin.line == n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(tmp_path: Path, blob: bytes) -> None:
    p = tmp_path / "setupapi.dev.log"
    for data in (blob, b">>>  [Device Install - X]\r\n>>>  Section start 2024/09/03 10:30:40.621\r\n" + blob):
        p.write_bytes(data)
        list(SetupApiParser().parse(Source(p, "setupapi.dev.log"), ParseContext("x", 0)))


# --- every real file of this kind ----------------------------------------------------------------


def test_every_corpus_and_case_setupapi_log() -> None:
    paths = sorted(corpus_path("setupapi").glob("*.log"))
    assert len(paths) >= 3
    with open_bundle(case_path()) as b:
        srcs = [Source(p, p.name) for p in paths] + [s for s in b.sources if sniff(s)[0] is SetupApiParser]
        assert len(srcs) >= 4
        for s in srcs:
            assert sniff(s)[0] is SetupApiParser, s.name
            ctx = ParseContext(s.name, 0)
            evs = list(SetupApiParser().parse(s, ctx))
            lines = sum(1 for _ in s.path.open("rb"))
            assert len(evs) > 0, s.name
            assert ctx.warning_count < max(1, lines // 100), (s.name, ctx.warnings[:3])


def test_control_bytes_found_whatever_the_read_size(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Control bytes are looked for on the raw bytes; a piece carried over still gets checked."""
    sec = (
        b">>>  [Device Install - X]\r\n>>>  Section start 2024/09/03 10:30:40.621\r\n"
        b"     dvi: a\x01b\r\n<<<  [Exit status: SUCCESS]\r\n"
    )
    p = tmp_path / "setupapi.dev.log"
    p.write_bytes(b"[Device Install Log]\r\n" + sec * 5)
    for size in (64, 1000, 4 << 20):
        monkeypatch.setattr(_servicing, "READ", size)
        evs, ctx = parse(p)
        assert sum(1 for e in evs if e.kind == "setupapi:section") == 5
        assert [(w.message, w.line) for w in ctx.warnings] == [
            ("binary data in line", n) for n in (4, 8, 12, 16, 20)
        ]


def test_crlf_and_lf_give_the_same_events(tmp_path: Path) -> None:
    """Pieces keep CRLF (one pass less); no event may carry a stray carriage return."""
    path = corpus_path("setupapi", "plaso_win10-10240_setupapi.dev.log")
    lf = tmp_path / "setupapi.dev.log"
    lf.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    crlf_evs, _ = parse(path)
    lf_evs, _ = parse(lf)

    def view(evs: list) -> list:
        return [(e.kind, e.origin.line, e.origin.text, dict(e.fields), e.time, e.message) for e in evs]

    assert view(crlf_evs) == view(lf_evs)
    assert not any("\r" in repr(v) for v in view(crlf_evs))
