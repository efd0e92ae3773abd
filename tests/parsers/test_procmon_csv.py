"""Procmon CSV export reader: columns by name, locale times, line numbers, same shape as the PML reader."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from culprit import parsers
from culprit.model import Severity
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.procmon import PmlError, open_capture
from culprit.parsers.procmon.csvexport import looks_like_procmon_csv, parse_date_time, parse_time_of_day
from tests.conftest import case_path, corpus_path

BOM = "\ufeff"


def write_csv(tmp_path: Path, header: list[str], rows: list[list[str]], name: str = "x.csv") -> Path:
    def q(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'

    text = BOM + ",".join(q(h) for h in header) + "\r\n"
    text += "".join(",".join(q(v) for v in r) + "\r\n" for r in rows)
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


@pytest.mark.parametrize(
    ("text", "ticks"),
    [
        ("7:37:18.2093997 AM", ((7 * 60 + 37) * 60 + 18) * 10**7 + 2093997),
        ("12:00:01.0000001 AM", 1 * 10**7 + 1),
        ("12:30:00.5 PM", (12 * 3600 + 30 * 60) * 10**7 + 5000000),
        ("19:37:18.2093997", ((19 * 60 + 37) * 60 + 18) * 10**7 + 2093997),
        ("下午 3:41:07.2700000", ((15 * 60 + 41) * 60 + 7) * 10**7 + 2700000),
        ("上午 9:05:00", (9 * 3600 + 5 * 60) * 10**7),
        ("3:41:07 下午", ((15 * 60 + 41) * 60 + 7) * 10**7),
    ],
)
def test_time_of_day_locales(text: str, ticks: int) -> None:
    assert parse_time_of_day(text) == ticks


def test_time_of_day_rejects_garbage() -> None:
    assert parse_time_of_day("25:00:00") is None
    assert parse_time_of_day("yesterday") is None


def test_date_and_time_orders() -> None:
    assert parse_date_time("7/31/2020 7:37:18 AM") == (
        datetime(2020, 7, 31),  # noqa: DTZ001 - local dates
        (7 * 3600 + 37 * 60 + 18) * 10**7,
    )
    assert parse_date_time("2022/6/16 10:42:51") == (
        datetime(2022, 6, 16),  # noqa: DTZ001
        (10 * 3600 + 42 * 60 + 51) * 10**7,
    )
    assert parse_date_time("31/12/2021 23:59:59")[0] == datetime(2021, 12, 31)  # noqa: DTZ001
    assert parse_date_time("2022/13/40 10:00:00") is None


def test_sniff_header_any_order_and_subset(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path,
        ["Operation", "Result", "Process Name", "Path"],
        [["RegOpenKey", "SUCCESS", "a.exe", "HKLM"]],
    )
    assert looks_like_procmon_csv(p.read_bytes())
    assert not looks_like_procmon_csv(b'"Name","Value","Other"\r\n"a","b","c"\r\n')
    assert not looks_like_procmon_csv(b"PML_\x09\x00\x00\x00")
    cls, _ = parsers.sniff(Source(p, "x.csv"))
    assert cls is not None and cls.name == "procmon-csv"


def test_zh_cn_times_columns_by_name_and_line_numbers(tmp_path: Path) -> None:
    env = "Parent PID: 656, Command line: a.exe, Current directory: C:\\, Environment: \r;\tA=1\r;\tB=2"
    header = [
        "Time of Day",
        "Process Name",
        "PID",
        "Operation",
        "Path",
        "Result",
        "Detail",
        "TID",
        "Date & Time",
        "Image Path",
        "Company",
        "Parent PID",
        "Architecture",
    ]
    rows = [
        [
            "上午 10:42:51.2347130",
            "a.exe",
            "7140",
            "Process Start",
            "",
            "SUCCESS",
            env,
            "7144",
            "2022/6/16 10:42:51",
            r"C:\a.exe",
            "北京瀚海信安科技有限公司",
            "656",
            "32-bit",
        ],
        [
            "下午 1:00:00.0000001",
            "a.exe",
            "7140",
            "RegSetValue",
            r"HKLM\System\CurrentControlSet\Services\AmdK8\Start",
            "ACCESS DENIED",
            "Type: REG_DWORD, Length: 4, Data: 3",
            "7144",
            "2022/6/16 13:00:00",
            r"C:\a.exe",
            "北京瀚海信安科技有限公司",
            "656",
            "32-bit",
        ],
        [
            "下午 1:00:01.0000000",
            "a.exe",
            "7140",
            "Process Exit",
            "",
            "SUCCESS",
            "Exit Status: -2147218431, User Time: 0.0156250 seconds, Kernel Time: 0.0000000 seconds, Private Bytes: "
            "2,781,184, Peak Private Bytes: 2,990,080, Working Set: 9,330,688, Peak Working Set: 9,437,184",
            "7144",
            "2022/6/16 13:00:01",
            r"C:\a.exe",
            "北京瀚海信安科技有限公司",
            "656",
            "32-bit",
        ],
    ]
    p = write_csv(tmp_path, header, rows)
    with open_capture(p, "bad/procmon/x.csv", utc_offset=480) as cap:
        assert cap.kind == "csv" and len(cap) == 3 and cap.warnings == []
        start = cap.event(0)
        assert start.origin.line == 2 and start.origin.record == 0
        assert start.fields["environment"] == "\r;\tA=1\r;\tB=2"
        assert start.fields["parent_pid_detail"] == 656 and start.fields["command_line"] == "a.exe"
        denied = cap.event(1)
        assert denied.origin.line == 3  # the bare CRs of record 0 do not count as lines
        assert denied.local_time == datetime(2022, 6, 16, 13, 0, 0, 0)  # noqa: DTZ001
        assert denied.time == datetime(2022, 6, 16, 5, 0, 0, 0, tzinfo=UTC)
        assert denied.utc_offset == 480
        assert denied.code == 0xC0000022 and denied.severity is Severity.ERROR
        assert denied.fields["data"] == 3 and denied.fields["type"] == "REG_DWORD"
        assert denied.fields["company"] == "北京瀚海信安科技有限公司"
        assert denied.fields["architecture"] == "32-bit" and denied.fields["parent_pid"] == 656
        assert denied.process is not None and denied.process.tid == 7144
        end = cap.event(2)
        assert end.fields["exit_status"] == -2147218431
        assert end.fields["private_bytes"] == 2781184
        assert int(cap.time[2] - cap.time[1]) == 9_999_999
        assert len(cap.processes) == 1 and cap.processes[0].is64 is False


def test_without_date_column_events_keep_time_of_day(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path,
        ["Time of Day", "Process Name", "PID", "Operation", "Path", "Result", "Detail"],
        [
            [
                "3:41:07.2706340 PM",
                "svchost.exe",
                "900",
                "RegOpenKey",
                r"HKLM\System",
                "SUCCESS",
                "Desired Access: Read",
            ]
        ],
    )
    with open_capture(p) as cap:
        assert cap.has_date is False
        assert any("no Date & Time column" in w for w in cap.warnings)
        ev = cap.event(0)
        assert ev.time is None and ev.fields["time_of_day"] == "15:41:07.2706340"
        assert ev.fields["desired_access"] == "Read"


def test_damaged_csv_warns_and_keeps_good_records(tmp_path: Path) -> None:
    header = '"Time of Day","Process Name","PID","Operation","Path","Result","Detail"\r\n'
    good = '"7:00:00.0000000 AM","a.exe","1","RegOpenKey","HKLM","SUCCESS",""\r\n'
    short = '"7:00:01.0000000 AM","a.exe"\r\n'
    badtime = '"later","a.exe","1","RegOpenKey","HKLM","SUCCESS",""\r\n'
    p = tmp_path / "d.csv"
    p.write_bytes((BOM + header + good + short + badtime).encode() + b'"\xff\xfe broken utf8","x"\r\n')
    with open_capture(p) as cap:
        assert len(cap) == 4
        assert cap.event(0).fields["operation"] == "RegOpenKey"
        text = " | ".join(cap.warnings)
        assert "wrong number of fields" in text and "unreadable time" in text and "not valid UTF-8" in text
    huge = tmp_path / "huge.csv"
    huge.write_bytes(
        (BOM + header).encode() + b'"7:00:00.0000000 AM","a.exe","1","X","' + b"A" * (17 << 20) + b'"\r\n'
    )
    with open_capture(huge) as cap:
        assert len(cap) == 0 and any("unreadable" in w for w in cap.warnings)


def test_neither_pml_nor_csv_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "random.bin"
    p.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(PmlError):
        open_capture(p)


@pytest.mark.corpus
def test_corpus_csv_matches_pml_columns() -> None:
    with (
        open_capture(corpus_path("procmon", "LogfileTests64bitUTC.csv"), utc_offset=0) as c,
        open_capture(corpus_path("procmon", "LogfileTests64bitUTC.pml")) as p,
    ):
        assert len(c) == len(p) == 53214
        assert np.array_equal(c.time, p.time)
        for col in ("pid", "tid", "result", "event_class", "duration"):
            assert np.array_equal(c.column(col), p.column(col)), col
        assert np.array_equal(c.operation, p.operation)
        assert next(x.name for x in c.processes if x.pid == 3596) == "Explorer.EXE"


@pytest.mark.corpus
def test_case_csv_line_numbers_match_the_answer_key() -> None:
    csv_path = case_path("edge-injected-dll", "bad", "procmon", "edge_install.CSV")
    pml_path = case_path("edge-injected-dll", "bad", "procmon", "edge_install.PML")
    src = Source(csv_path, "bad/procmon/edge_install.CSV")
    cls, _ = parsers.sniff(src)
    assert cls is not None and cls.name == "procmon-csv"
    ctx = ParseContext("bad/procmon/edge_install.CSV", utc_offset=480)
    events = list(cls().parse(src, ctx))
    with open_capture(pml_path) as pml:
        assert len(events) == len(pml) == 4382
        for i in (1299, 1763, 1792, 1903):
            a, b = events[i], pml.event(i)
            assert a.origin.line == i + 2
            assert (a.fields["operation"], a.fields["path"], a.fields["result"], a.process) == (
                b.fields["operation"],
                b.fields["path"],
                b.fields["result"],
                b.process,
            )
            assert a.time == b.time
            assert a.fields["detail"] == b.fields["detail"]
        assert events[1903].fields["exit_status"] == -2147218431


def test_reading_streams_and_keeps_records_whole(tmp_path: Path) -> None:
    """Blocks of the file are decoded one at a time: a record that straddles a block boundary, a quoted
    field with a line break and a U+2028 inside a field all come through as written; a bad byte far into
    the file is warned about with its offset."""
    from culprit.parsers.procmon import csvexport

    header = '"Time of Day","Process Name","PID","Operation","Path","Result","Detail"\r\n'
    row = '"7:37:18.2093997 AM","a.exe","4","RegOpenKey","HKLM\\S\u2028x","SUCCESS","Desired Access: Read"\r\n'
    multi = '"7:37:18.2093998 AM","b.exe","8","RegSetValue","HKLM\\T","SUCCESS","Type: REG_SZ, Data: a\r\nb"\r\n'
    body = header + row * 3000 + multi + row * 3000
    raw = "\ufeff".encode() + body.encode() + b'"7:37:19.0 AM","c\xff.exe","9","X","p","SUCCESS",""\r\n'
    p = tmp_path / "big.csv"
    p.write_bytes(raw)
    old = csvexport.BLOCK
    csvexport.BLOCK = 4096  # many block boundaries, some inside records
    try:
        cap = csvexport.CsvCapture(p)
    finally:
        csvexport.BLOCK = old
    assert len(cap) == 6002
    assert cap.path_of(0) == "HKLM\\S\u2028x" and cap.path_of(6001) == "p"
    assert cap.detail(3000) == "Type: REG_SZ, Data: a\r\nb"
    assert cap.process(6001).name == "c\ufffd.exe"
    bad = raw.index(b"\xff")
    assert cap.warnings[0] == f"not valid UTF-8 at byte {bad:,}: undecodable bytes replaced"
