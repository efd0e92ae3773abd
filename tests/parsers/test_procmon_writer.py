"""PML writer round trips (checked with the third-party procmon-parser and our reader), damaged captures,
and the columnar ``where`` filter."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import procmon_parser
import pytest

from culprit.errors import UsageError
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.procmon import PmlError, open_capture
from culprit.parsers.procmon import details as D
from culprit.parsers.procmon.pml import ProcmonParser
from culprit.parsers.procmon.writer import SUPPORTED, Module, PmlWriter, WriterError
from culprit.query import compile_where
from tests.conftest import case_path

T0 = datetime(2024, 9, 5, 7, 41, 7, 270634, tzinfo=UTC)


def build(is64: bool = True) -> PmlWriter:
    """One event of every supported operation; an agent driver in the System process; stacks."""
    k = 0xFFFFF80000000000 if is64 else 0x80000000
    ub = 0x7FF600000000 if is64 else 0x00400000
    w = PmlWriter(is64=is64, computer="BANK-WS-0457", os_version=(6, 1, 7601))
    w.add_process(
        4,
        "System",
        modules=[
            Module(
                k,
                0x800000,
                r"C:\Windows\system32\ntoskrnl.exe",
                "6.1.7601",
                "Microsoft Corporation",
                "NT Kernel",
            ),
            Module(
                k + 0x10000000,
                0x60000,
                r"C:\Windows\system32\drivers\krnlmgr.sys",
                "3.2.0.118",
                "TMS Ltd",
                "TMS kernel manager",
            ),
        ],
        user="NT AUTHORITY\\SYSTEM",
    )
    reg = w.add_process(
        4100,
        "reg.exe",
        image_path=r"C:\Windows\system32\reg.exe",
        parent_pid=3000,
        command_line=r"reg add HKLM\System\CurrentControlSet\Services\AmdK8 /v Start /d 3 /f",
        company="Microsoft Corporation",
        version="6.1.7600.16385",
        description="Registry Console Tool",
        user="BANK\\admin",
        integrity="High",
        start=T0,
        modules=[
            Module(ub, 0x20000, r"C:\Windows\system32\reg.exe", "6.1", "Microsoft Corporation", "reg"),
            Module(
                ub + 0x100000,
                0x50000,
                r"C:\Program Files (x86)\TMS\schk.dll",
                "3.2.0.118",
                "TMS Ltd",
                "TMS check module",
            ),
        ],
    )
    w.add_event(
        reg,
        "Process Create",
        r"C:\Windows\system32\conhost.exe",
        time=T0,
        pid=5000,
        command_line=r"\??\C:\Windows\system32\conhost.exe 0x4",
    )
    w.add_event(
        reg,
        "Process Start",
        parent_pid=3000,
        command_line="reg add x",
        current_directory="C:\\Users\\",
        environment=["ALLUSERSPROFILE=C:\\ProgramData", "windir=C:\\Windows"],
    )
    w.add_event(reg, "Thread Create", tid=2968, thread_id=4444)
    w.add_event(
        reg,
        "Load Image",
        r"C:\Program Files (x86)\TMS\schk.dll",
        image_base=ub + 0x100000,
        image_size=0x50000,
    )
    w.add_event(
        reg,
        "RegOpenKey",
        r"HKLM\System\CurrentControlSet\Services\AmdK8",
        desired_access="Read",
        disposition="REG_OPENED_EXISTING_KEY",
        duration=1234,
    )
    w.add_event(
        reg,
        "RegCreateKey",
        r"HKLM\System\CurrentControlSet\Services\AmdK8",
        result="ACCESS DENIED",
        desired_access=0x2001F,
    )
    w.add_event(
        reg,
        "RegSetValue",
        r"HKLM\System\CurrentControlSet\Services\AmdK8\Start",
        result="ACCESS DENIED",
        type="REG_DWORD",
        data=3,
        stack=[k + 0x34673F, k + 0x10000000 + 0x49711, ub + 0xA6C7, 0x1234],
    )
    w.add_event(
        reg,
        "RegQueryValue",
        r"HKLM\System\CurrentControlSet\Services\AmdK8\ImagePath",
        type="REG_EXPAND_SZ",
        data=r"system32\drivers\amdk8.sys",
    )
    w.add_event(
        reg,
        "RegQueryValue",
        r"HKLM\System\CurrentControlSet\Services\AmdK8\Nope",
        result="NAME NOT FOUND",
        length=12,
    )
    w.add_event(reg, "RegSetValue", r"HKLM\SOFTWARE\TMS\Bin", type="REG_BINARY", data=bytes(range(20)))
    w.add_event(reg, "RegSetValue", r"HKLM\SOFTWARE\TMS\Multi", type="REG_MULTI_SZ", data=["a", "b c"])
    w.add_event(reg, "RegSetValue", r"HKLM\SOFTWARE\TMS\Name", type="REG_SZ", data="中文 value")
    w.add_event(reg, "RegDeleteValue", r"HKLM\SOFTWARE\TMS\Old")
    w.add_event(reg, "RegDeleteKey", r"HKLM\SOFTWARE\TMS\OldKey")
    w.add_event(reg, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services\AmdK8")
    w.add_event(
        reg,
        "CreateFile",
        r"C:\Windows\System32\drivers\amdk8.sys",
        desired_access="Generic Write",
        disposition="OverwriteIf",
        options=0x60,
        attributes=0x80,
        share_mode=1,
        allocation_size=4096,
        open_result="Created",
    )
    w.add_event(
        reg,
        "CreateFile",
        r"C:\Windows\System32\drivers\amdk8.sys",
        result="SHARING VIOLATION",
        desired_access="Generic Read",
        disposition="Open",
        share_mode=0,
    )
    w.add_event(
        reg,
        "WriteFile",
        r"C:\Windows\System32\drivers\amdk8.sys",
        offset=1 << 32,
        length=512,
        io_flags=0x1,
        priority=3,
    )
    w.add_event(reg, "ReadFile", r"C:\Windows\System32\drivers\amdk8.sys", offset=0, length=4096)
    w.add_event(reg, "CloseFile", r"C:\Windows\System32\drivers\amdk8.sys")
    w.add_event(reg, "Thread Exit", user_time=156250)
    w.add_event(
        reg,
        "Process Exit",
        exit_status=-2147218431,
        user_time=156250,
        kernel_time=312500,
        private_bytes=2781184,
        peak_private_bytes=2990080,
        working_set=9330688,
        peak_working_set=9437184,
    )
    return w


@pytest.fixture(params=[True, False], ids=["64bit", "32bit"])
def sample(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return build(request.param).write(tmp_path / "sample.pml")


def test_round_trip_through_procmon_parser_and_ours(sample: Path) -> None:
    data = sample.read_bytes()
    theirs = procmon_parser.ProcmonLogsReader(io.BytesIO(data))
    ops_seen = set()
    with open_capture(sample) as cap:
        assert cap.warnings == []
        assert len(cap) == len(theirs) == 22
        for i, e in enumerate(theirs):
            row = e.get_compatible_csv_info()
            ev = cap.event(i)
            ops_seen.add(row["Operation"])
            assert row["Operation"] == ev.fields["operation"]
            assert row["Path"] == ev.fields["path"]
            assert row["Result"] == ev.fields["result"]
            assert row["Detail"] == ev.fields["detail"], row["Operation"]
            assert (row["Process Name"], row["PID"], row["TID"]) == (
                ev.process.name,
                str(ev.process.pid),
                str(ev.process.tid),
            )
            assert e.date_filetime == int(cap.time[i]) and e.duration == int(cap.duration[i])
            assert row["Image Path"] == ev.fields["image_path"] and row["Company"] == ev.fields["company"]
            assert row["Architecture"] == ev.fields["architecture"]
        assert ops_seen == set(SUPPORTED)
        # processes and modules read back by procmon-parser too
        procs = {p.pid: p for p in theirs.processes()}
        reg = next(p for p in cap.processes if p.pid == 4100)
        assert procs[4100].process_name == reg.name == "reg.exe"
        assert procs[4100].command_line == reg.command_line
        assert [(m.base_address, m.size, m.path, m.company) for m in procs[4100].modules] == [
            (m.base, m.size, m.path, m.company) for m in reg.modules
        ]
        assert reg.start == T0 and reg.integrity == "High" and reg.user == "BANK\\admin"


def test_written_events_decode_to_fields(sample: Path) -> None:
    with open_capture(sample) as cap:
        k = "ntoskrnl.exe+0x34673f"
        denied = cap.event(6)
        assert denied.fields["stack"] == [k, "krnlmgr.sys+0x49711", "reg.exe+0xa6c7", "0x1234"]
        assert denied.fields["data"] == 3 and denied.fields["length"] == 4 and denied.code == 0xC0000022
        assert cap.event(0).fields["child_pid"] == 5000
        assert cap.event(0).fields["command_line"] == r"\??\C:\Windows\system32\conhost.exe 0x4"
        assert cap.event(0).time == T0
        assert cap.event(2).fields["thread_id"] == 4444 and cap.event(2).process.tid == 2968
        assert cap.event(4).fields["disposition"] == "REG_OPENED_EXISTING_KEY"
        assert cap.event(4).fields["desired_access"] == "Read" and cap.event(4).fields["duration"] == 1234e-7
        assert cap.event(9).fields["data"] == " ".join(f"{b:02X}" for b in range(20))
        assert cap.event(11).fields["data"] == "中文 value"
        assert cap.event(17).fields["offset"] == 1 << 32 and cap.event(17).fields["io_flags"] == "Non-cached"
        assert cap.event(21).fields["exit_status"] == -2147218431
        assert cap.event(15).fields["open_result"] == "Created"
        assert cap.event(16).fields["share_mode"] == "None"
        assert cap.header.computer == "BANK-WS-0457" and cap.header.os_build == 7601


def test_writer_refuses_what_it_cannot_encode() -> None:
    w = PmlWriter()
    p = w.add_process(1, "a.exe")
    with pytest.raises(WriterError):
        w.add_event(p, "TCP Send")
    with pytest.raises(WriterError):
        w.add_event(p, "RegOpenKey", result="NOT A RESULT")
    with pytest.raises(WriterError):
        w.add_event(7, "RegOpenKey")


def test_repeat_makes_large_captures_with_increasing_times(tmp_path: Path) -> None:
    w = build()
    p = w.write(tmp_path / "big.pml", repeat=50)
    with open_capture(p) as cap:
        assert len(cap) == 22 * 50 and cap.warnings == []
        assert np.all(np.diff(cap.time) > 0)
        assert len(cap.where("result = 'ACCESS DENIED'")) == 100


# --- damaged captures ---------------------------------------------------------------------------------------


def test_header_offsets_zero_events_found_by_walking(tmp_path: Path, sample: Path) -> None:
    data = bytearray(sample.read_bytes())
    data[0x240:0x268] = bytes(0x28)  # capture "not closed": no offsets to the tables
    p = tmp_path / "open.pml"
    p.write_bytes(bytes(data))
    with open_capture(p) as cap:
        assert len(cap) == 22
        assert any("not closed cleanly" in w for w in cap.warnings)
        assert cap.process(6) is None and cap.event(6).process.name is None
        assert cap.event(6).fields["path"].endswith(r"\AmdK8\Start")
        assert cap.event(6).fields["result"] == "ACCESS DENIED"


def test_truncated_mid_event_yields_what_is_readable(tmp_path: Path) -> None:
    w = build()
    full = w.to_bytes()
    first_end = struct.unpack_from("<Q", full, 0x248)[0]  # where the events end (offset array starts)
    cut = full[: first_end - 7]  # the last event loses its tail, every table is gone
    p = tmp_path / "cut.pml"
    p.write_bytes(cut)
    with open_capture(p) as cap:
        assert len(cap) == 22
        text = " | ".join(cap.warnings)
        assert "event-offset array missing" in text and "truncated" in text
        assert "process table" in text or "string table" in text
        assert cap.event(6).fields["path"].endswith(r"\AmdK8\Start")
        last = cap.event(21)
        assert last.fields["operation"] == "Process Exit" and "exit_status" not in last.fields
    src = Source(p, "procmon/cut.pml")
    ctx = ParseContext("procmon/cut.pml")
    events = list(ProcmonParser().parse(src, ctx))
    assert len(events) == 22 and ctx.warning_count >= 3


def test_garbage_inside_events_stops_the_walk_with_a_warning(tmp_path: Path) -> None:
    w = build()
    data = bytearray(w.to_bytes())
    data[0x240:0x268] = bytes(0x28)
    arr = struct.unpack_from("<Q", w.to_bytes(), 0x248)[0]
    offs = [struct.unpack_from("<I", data, arr + 5 * i)[0] for i in range(22)]
    data[offs[10] : offs[10] + 64] = b"\xff" * 64
    p = tmp_path / "garbage.pml"
    p.write_bytes(bytes(data))
    with open_capture(p) as cap:
        assert len(cap) == 10
        assert any("unreadable data at byte" in x and "stopped after 10 events" in x for x in cap.warnings)


def test_garbage_in_details_of_a_closed_capture(tmp_path: Path) -> None:
    w = build()
    data = bytearray(w.to_bytes())
    arr = struct.unpack_from("<Q", data, 0x248)[0]
    for i in range(22):
        off = struct.unpack_from("<I", data, arr + 5 * i)[0]
        struct.pack_into("<H", data, off + 0x28, 0x3FFF)  # absurd stack depth
        struct.pack_into("<I", data, off + 0x2C, 0x7FFFFFFF)  # absurd detail size
    p = tmp_path / "bad.pml"
    p.write_bytes(bytes(data))
    with open_capture(p) as cap:
        assert len(cap) == 22
        evs = [cap.event(i) for i in range(22)]
        assert [e.fields["operation"] for e in evs][:3] == [
            "Process Create",
            "Process Start",
            "Thread Create",
        ]
        assert any("past the end of the file" in x for x in cap.warnings)
        assert isinstance(cap.stack(0), list)


def test_not_a_pml_and_bad_versions(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pml"
    junk.write_bytes(b"PML_\x07\x00\x00\x00" + bytes(100))
    with pytest.raises(PmlError, match="version 7"):
        open_capture(junk)
    short = tmp_path / "short.pml"
    short.write_bytes(b"PML_\x09\x00\x00\x00" + bytes(100))
    with pytest.raises(PmlError, match="truncated"):
        open_capture(short)
    ctx = ParseContext("junk.pml")
    assert list(ProcmonParser().parse(Source(junk, "junk.pml"), ctx)) == []
    assert "version 7" in ctx.warnings[0].message
    assert ProcmonParser.sniff(Source(junk, "junk.pml")) == 0.6


# --- where ----------------------------------------------------------------------------------------------------

QUERIES = [
    "result = 'ACCESS DENIED' and path like '%Services%'",
    "process.name = 'reg.exe' and operation in ('RegSetValue', 'RegOpenKey')",
    "pid = 4100 or result = 'NAME NOT FOUND'",
    "not operation = 'RegCloseKey' and path contains 'amdk8'",
    "stack like '%krnlmgr%'",
    "exit_status < 0",
    "operation like 'Reg%' and not (result = 'SUCCESS')",
    "company = 'Microsoft Corporation' and duration > 0.0001",
    "severity = 'error'",
    "type = 'REG_DWORD'",
]


@pytest.mark.parametrize("query", QUERIES)
def test_where_matches_the_event_predicate(sample: Path, query: str) -> None:
    pred = compile_where(query)
    with open_capture(sample) as cap:
        want = [i for i in range(len(cap)) if pred(cap.event(i))]
        assert cap.where(query).tolist() == want


def test_where_decodes_only_the_events_that_pass_the_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    path = case_path("kb4474419-registry-denied", "repro", "procmon", "reg_repro.PML")
    calls = []
    real = D.decode

    def counting(cap, i):
        calls.append(i)
        return real(cap, i)

    monkeypatch.setattr(D, "decode", counting)
    with open_capture(path) as cap:
        hits = cap.where(
            r"result = 'ACCESS DENIED' and path like '%\Services\%' and process.name = 'reg.exe'"
        )
        assert len(hits) == 3
        assert sorted(calls) == hits.tolist()  # only the three ACCESS DENIED events were decoded
        assert cap.where("result = 0xC0000022").tolist() == hits.tolist()  # numeric result = NTSTATUS


def test_where_time_window_is_columnar(sample: Path) -> None:
    with open_capture(sample) as cap:
        t0, t3 = cap.datetime(0), cap.datetime(3)
        hits = cap.where(f"time >= '{t0.isoformat()}' and time < '{t3.isoformat()}'")
        assert hits.tolist() == [0, 1, 2]
        local = t3.astimezone(timezone(timedelta(hours=8))).isoformat()  # same instant, +08:00
        assert cap.where(f"time >= '{local}' and pid = 4100").tolist() == list(range(3, 22))
        assert cap.where("time > 'not a time'").tolist() == []


def test_where_syntax_error_is_a_usage_error(sample: Path) -> None:
    with open_capture(sample) as cap, pytest.raises(UsageError):
        cap.where("result = ")
