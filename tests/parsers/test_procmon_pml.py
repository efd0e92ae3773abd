"""PML reader against Procmon's own CSV exports of the same captures, and on the two case captures.

Corpus: ``../shared/corpus/procmon`` (six PML/CSV pairs, NOTES.md). Every event is compared: Time of Day,
Date & Time, Process Name, PID, TID, Operation, Path, Result must match 100%; Detail must match Procmon's
text for >= 99% of events, and every remaining mismatch must fall in one of the classes below (which are
the same as in ``docs/events/procmon.md``).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from culprit import parsers
from culprit.model import Severity
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.procmon import open_capture
from culprit.parsers.procmon.pml import PmlCapture
from culprit.parsers.procmon.structs import TICKS_PER_SECOND
from tests.conftest import case_path, corpus_path

PAIRS = [
    "LogFileUTC32Filesystem",
    "LogFileUTC64Filesystem",
    "LogFileUTC64Process",
    "LogFileUTC64Registry",
    "LogfileTests32bitUTC",
    "LogfileTests64bitUTC",
]


def time_of_day(ticks: int) -> str:
    """Procmon's en-US Time of Day (the corpus exports were made on UTC machines)."""
    s, f = divmod(ticks, TICKS_PER_SECOND)
    h, m, sec = s // 3600 % 24, s // 60 % 60, s % 60
    return f"{h % 12 or 12}:{m:02d}:{sec:02d}.{f:07d} {'AM' if h < 12 else 'PM'}"


def date_and_time(ticks: int) -> str:
    d = datetime(1601, 1, 1) + timedelta(microseconds=ticks // 10)  # noqa: DTZ001 - exported in UTC
    return f"{d.month}/{d.day}/{d.year} {d.hour % 12 or 12}:{d.minute:02d}:{d.second:02d} {'AM' if d.hour < 12 else 'PM'}"


def mismatch_class(op: str, csv_detail: str, ours: str) -> str | None:
    """Name the known reason a Detail differs from Procmon's, or None when there is no known reason."""
    if "Impersonating: " in csv_detail and "Impersonating: S-1-" in ours:
        # Procmon resolves the impersonated SID to DOMAIN\user when it exports; the PML keeps the SID
        head_c, _, rest_c = csv_detail.partition("Impersonating: ")
        head_o, _, rest_o = ours.partition("Impersonating: ")
        if head_c == head_o and rest_c.split(", ", 1)[1:] == rest_o.split(", ", 1)[1:]:
            return "impersonating-sid-resolved"
    if op == "QueryDirectory":
        if ours.startswith(csv_detail):
            return "directory-listing-cut-in-csv"
        # older Procmon builds print the third entry where newer ones print FileInformationClass
        split = re.compile(r", (?=\d+: |FileInformationClass: )")
        mine = [p for p in split.split(ours) if not p.startswith("FileInformationClass: ")]
        theirs = [p for p in split.split(csv_detail) if not p.startswith("2: ")]
        if mine[: len(theirs)] == theirs:
            return "directory-information-class-newer-procmon"
    if (
        op in ("RegQueryValue", "RegSetValue", "RegEnumValue")
        and "Data: " in csv_detail
        and csv_detail.split("Data: ", 1)[0] == ours.split("Data: ", 1)[0]
    ):
        return "registry-data-over-read"
    if op == "FileSystemControl" and csv_detail.startswith("Control: FSCTL_OFFLOAD_READ"):
        return "offload-read-range"
    if op == "CreateFileMapping" and csv_detail.endswith("PageProtection: |PAGE_NOCACHE"):
        return "mapping-protection-without-base"
    return None


@pytest.mark.corpus
def test_every_corpus_event_matches_procmons_csv() -> None:
    total = 0
    detail_ok = 0
    classes: Counter[str] = Counter()
    for stem in PAIRS:
        pml = corpus_path("procmon", f"{stem}.pml")
        with open(corpus_path("procmon", f"{stem}.csv"), encoding="utf-8-sig", newline="") as fp:
            rows = list(csv.DictReader(fp))
        with PmlCapture(pml) as cap:
            assert cap.warnings == []
            assert len(cap) == len(rows), stem
            ops = cap.operation
            for i, row in enumerate(rows):
                t = int(cap.time[i])
                proc = cap.process(i)
                path, items = cap._decode(i)
                ours = ", ".join(f"{k}: {v}" for k, v in items)
                where = f"{stem} event {i}"
                assert row["Time of Day"] == time_of_day(t), where
                if "Date & Time" in row:
                    assert row["Date & Time"] == date_and_time(t), where
                assert row["Process Name"] == proc.name, where
                assert row["PID"] == str(cap.pid[i]), where
                assert row["TID"] == str(cap.tid[i]), where
                if row["Operation"] != "<Unknown>":  # the exporting Procmon predates these sub-operations
                    assert row["Operation"] == ops[i], where
                assert row["Path"] == path, where
                assert row["Result"] == cap.result_name(i), where
                total += 1
                if row["Detail"] == ours:
                    detail_ok += 1
                    continue
                if row["Operation"] == "<Unknown>":
                    classes["operation-unknown-to-exporting-procmon"] += 1
                    continue
                cls = mismatch_class(row["Operation"], row["Detail"], ours)
                assert cls is not None, (
                    f"{where}: {row['Operation']}\n CSV: {row['Detail']!r}\n PML: {ours!r}"
                )
                classes[cls] += 1
    assert total == 157930
    assert detail_ok / total >= 0.99
    # the classes seen on this corpus, with their sizes (a new class or a jump is a regression)
    assert set(classes) <= {
        "impersonating-sid-resolved",
        "directory-listing-cut-in-csv",
        "registry-data-over-read",
        "directory-information-class-newer-procmon",
        "operation-unknown-to-exporting-procmon",
        "offload-read-range",
        "mapping-protection-without-base",
    }
    assert sum(classes.values()) < 400


@pytest.mark.corpus
def test_process_table_and_modules_32bit() -> None:
    with open_capture(corpus_path("procmon", "LogfileTests32bitUTC.pml")) as cap:
        assert cap.header.is64 is False and cap.header.pointer_size == 4
        assert cap.header.os_build == 7601
        explorer = next(p for p in cap.processes if p.name.lower() == "explorer.exe")
        assert explorer.pid == 1320
        assert explorer.is64 is False
        assert explorer.image_path.lower() == r"c:\windows\explorer.exe"
        assert explorer.company == "Microsoft Corporation"
        assert any(m.path.lower().endswith(r"\ntdll.dll") for m in explorer.modules)
        # every user-mode stack frame of an Explorer event resolves into one of its modules
        idx = cap.where("process.name = 'Explorer.EXE'")
        frames = cap.stack(int(idx[0]))
        assert frames and all("+0x" in f for f in frames)


@pytest.mark.corpus
def test_columns_are_bulk_arrays() -> None:
    with open_capture(corpus_path("procmon", "LogFileUTC64Registry.pml")) as cap:
        assert len(cap) == 28240
        for col in (
            "time",
            "pid",
            "tid",
            "process_index",
            "event_class",
            "operation_id",
            "result",
            "duration",
        ):
            assert isinstance(cap.column(col), np.ndarray) and len(cap.column(col)) == len(cap)
        denied = cap.where("result = 'ACCESS DENIED'")
        assert len(denied) == 10
        assert set(cap.operation[denied]) == {"RegCreateKey"}
        assert {cap.process(int(i)).name for i in denied} == {"svchost.exe", "RuntimeBroker.exe"}
        assert np.all(np.diff(cap.time) >= 0)


@pytest.mark.corpus
def test_edge_case_injected_dll_and_early_exit() -> None:
    with open_capture(case_path("edge-injected-dll", "bad", "procmon", "edge_install.PML")) as cap:
        assert cap.warnings == []
        load = cap.event(1792)
        assert load.kind == "procmon:event"
        assert load.origin.record == 1792
        assert load.process is not None and (load.process.name, load.process.pid) == (
            "MicrosoftEdgeUpdate.exe",
            7140,
        )
        assert load.fields["operation"] == "Load Image"
        assert load.fields["path"] == r"C:\Program Files (x86)\TMS\schk.dll"
        assert load.fields["image_base"] == 0x6F370000 and load.fields["image_size"] == 0x5B000
        assert load.fields["architecture"] == "32-bit"
        assert load.severity is Severity.INFO and load.code == 0
        end = cap.event(1903)
        assert end.fields["operation"] == "Process Exit"
        assert end.fields["exit_status"] == -2147218431
        assert end.process is not None and end.process.pid == 7140
        assert "schk.dll+0x4185d" in end.fields["stack"]
        assert end.time == datetime(2022, 6, 16, 2, 43, 5, 36613, tzinfo=UTC)
        assert load.time == datetime(2022, 6, 16, 2, 43, 4, 833557, tzinfo=UTC)
        edge = cap.process(1792)
        schk = [m for m in edge.modules if m.name == "schk.dll"]
        assert schk == [schk[0]]
        assert (schk[0].version, schk[0].company, schk[0].description) == (
            "3.2.0.118",
            "北京瀚海信安科技有限公司",
            "TMS 安全检查模块",
        )
        assert edge.start is not None and edge.start.tzinfo is not None


@pytest.mark.corpus
def test_registry_case_access_denied_through_agent_driver() -> None:
    with open_capture(case_path("kb4474419-registry-denied", "repro", "procmon", "reg_repro.PML")) as cap:
        hits = cap.where(r"result = 'ACCESS DENIED' and path like '%\Services\AmdK8\Start'")
        assert len(hits) == 1
        ev = cap.event(int(hits[0]))
        assert ev.fields["operation"] == "RegSetValue"
        assert ev.fields["path"] == r"HKLM\System\CurrentControlSet\Services\AmdK8\Start"
        assert ev.code == 0xC0000022 and ev.severity is Severity.ERROR
        assert ev.fields["type"] == "REG_DWORD" and ev.fields["length"] == 4 and ev.fields["data"] == 3
        assert ev.message == r"RegSetValue HKLM\System\CurrentControlSet\Services\AmdK8\Start ACCESS DENIED"
        stack = ev.fields["stack"]
        assert stack[:3] == ["ntoskrnl.exe+0x34673f", "krnlmgr.sys+0x49711", "krnlmgr.sys+0x16c8b"]
        assert stack[-4:-2] == ["reg.exe+0xa6c7", "reg.exe+0x5dfe"]
        system = next(p for p in cap.processes if p.pid == 4)
        assert any(m.name == "krnlmgr.sys" for m in system.modules)


@pytest.mark.corpus
def test_registered_parser_yields_the_same_events() -> None:
    path = case_path("kb4474419-registry-denied", "repro", "procmon", "reg_repro.PML")
    src = Source(path, "repro/procmon/reg_repro.PML")
    cls, _why = parsers.sniff(src)
    assert cls is not None and cls.name == "procmon"
    ctx = ParseContext("repro/procmon/reg_repro.PML")
    events = list(cls().parse(src, ctx))
    assert len(events) == 5452 and ctx.warnings == []
    assert events[1157].fields["path"].endswith(r"\AmdK8\Start")
    assert events[1157].origin.artifact == "repro/procmon/reg_repro.PML"


@pytest.mark.corpus
def test_decode_all_equals_decoding_each_event_alone() -> None:
    """decode_all reads the file a few MB at a time and decodes events in place; every event must come out
    exactly as decode_at gives it on its own (spans cut mid-event, extra blocks, damaged events)."""
    from culprit.parsers.procmon import details as D

    path = corpus_path("procmon", "LogfileTests64bitUTC.pml")
    old = D.SPAN
    D.SPAN = 1 << 14  # many refills, events straddling the end of what was read
    try:
        with PmlCapture(path) as cap:
            fast = list(D.decode_all(cap))
            one = [D.decode_at(cap, i, int(o)) for i, o in enumerate(cap.offsets.tolist())]
    finally:
        D.SPAN = old
    assert len(fast) == len(one) == 53214
    assert fast == one


def test_decode_all_on_a_truncated_capture_says_what_decode_at_says(tmp_path) -> None:
    from culprit.parsers.procmon import details as D
    from tests.parsers.test_procmon_writer import build

    raw = build().write(tmp_path / "s.pml").read_bytes()
    with PmlCapture(tmp_path / "s.pml") as cap:
        cut_at = int(cap.offsets[-3]) + 60  # inside the third-last event's stack/details
    (tmp_path / "cut.pml").write_bytes(raw[:cut_at])
    with PmlCapture(tmp_path / "cut.pml") as cap:
        fast = list(D.decode_all(cap))
        one = [D.decode_at(cap, i, int(o)) for i, o in enumerate(cap.offsets.tolist())]
    assert fast == one
    assert any(d.damaged for d in fast)
