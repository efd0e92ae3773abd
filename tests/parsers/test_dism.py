"""DISM.log parser: providers, PID/TID, sessions, parent command line, HRESULT forms, inline CBS."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Process, Severity
from culprit.parsers import sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.cbs import CbsParser
from culprit.parsers.dism import DismParser
from tests.conftest import corpus_path, data_path

FIXTURE = ("parsers", "dism", "dism_failed_add_package.log")


def parse(path: Path, offset: int | None = 60) -> tuple[list, ParseContext]:
    src = Source(path, path.name)
    ctx = ParseContext(src.name, utc_offset=offset)
    return list(DismParser().parse(src, ctx)), ctx


def test_fixture_kinds_and_fields() -> None:
    evs, ctx = parse(data_path(*FIXTURE))
    assert ctx.warning_count == 0
    lines = {e.origin.line: e for e in evs}
    assert sorted(lines) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]

    start = lines[1]
    assert (start.kind, start.fields["action"], start.fields["host"], start.fields["provider"]) == (
        "dism:session",
        "start",
        "Dism.exe",
        "DISM.EXE",
    )
    assert lines[13].fields["action"] == "end"
    assert lines[5].fields["host"] == "DismApi.dll"

    parent = lines[6]
    assert parent.kind == "dism:command_line"
    assert dict(parent.fields) == {
        "provider": "DismApi.dll",
        "command_line": "C:\\Windows\\system32\\svchost.exe -k netsvcs",
        "parent": True,
        "level": "Info",
        "component": "DISM",
    }
    assert lines[3].fields["command_line"].startswith("dism.exe /online /add-package")

    store = lines[4]
    assert store.process == Process(pid=4712, tid=3240)
    assert store.fields["method"] == "CDISMProviderStore::GetProviderCollection"
    assert store.local_time == datetime(2017, 3, 10, 10, 20, 12)  # noqa: DTZ001
    assert store.time == datetime(2017, 3, 10, 9, 20, 12, tzinfo=UTC)

    fin = lines[9]
    assert fin.severity is Severity.ERROR
    assert fin.code == 0x800F0922
    assert dict(fin.fields) == {
        "provider": "DISM Package Manager",
        "pid": 4712,
        "tid": 3240,
        "method": "CDISMPackageManager::Internal_Finalize",
        "hresult": 0x800F0922,
        "level": "Error",
        "component": "DISM",
        "continuation": "    continuation of the failure dump",
    }
    assert fin.origin.text.count("\n") == 1

    exe = lines[11]
    assert (exe.code, exe.fields["provider"], exe.severity) == (0x800F0922, "DISM.EXE", Severity.ERROR)

    img = lines[12]
    assert (img.kind, img.fields["reboot_required"]) == ("dism:image_session", False)

    # CBS/CSI lines hosted by DISM keep their CBS kinds
    assert lines[7].kind == "cbs:session" and lines[7].fields["client"] == "DISM Package Manager Provider"
    assert lines[8].fields["csi_time"] == datetime(2017, 3, 10, 9, 20, 15, 120000, tzinfo=UTC)


def test_sniff_prefers_dism_over_cbs_and_offsets() -> None:
    src = Source(data_path(*FIXTURE), "dism.log")
    assert sniff(src)[0] is DismParser
    assert CbsParser.sniff(src) < DismParser.sniff(src)
    assert set(DismParser.utc_offsets(src)) == {60}


def test_damaged_input(tmp_path: Path) -> None:
    good = data_path(*FIXTURE).read_bytes()
    rnd = random.Random(11)
    p = tmp_path / "dism.log"
    p.write_bytes(b"\x00\x01garbage first line\r\n" + good[:-40])  # garbage head, truncated tail
    evs, ctx = parse(p)
    assert any("before the first DISM line" in w.message for w in ctx.warnings)
    assert (
        evs[-1].origin.line == 14
    )  # the garbage line shifts the file by one; the cut last line still counts
    assert evs[-1].message == "DISM.EXE:"
    p.write_bytes(
        good + bytes(rnd.randrange(256) for _ in range(3000)) + b"\r\n" + b"z" * (10 << 20) + b"\r\n" + good
    )
    evs, ctx = parse(p)
    assert any("longer than" in w.message for w in ctx.warnings)
    assert sum(1 for e in evs if e.kind == "dism:session") == 6


def test_wrong_encoding(tmp_path: Path) -> None:
    good = data_path(*FIXTURE).read_bytes()
    reps = 70_000 // len(good) + 1
    bad = "2017-03-10 10:24:40, Error                 DISM   DISM.EXE: C:\\Users\\Jürgen failed. HRESULT=80070005\r\n"  # noqa: E501
    p = tmp_path / "dism.log"
    p.write_bytes(good * reps + bad.encode("cp1252"))
    evs, ctx = parse(p)
    assert [w.message for w in ctx.warnings] == ["bytes not valid utf-8 replaced"]
    assert evs[-1].code == 0x80070005 and evs[-1].origin.line == 13 * reps + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(tmp_path: Path, blob: bytes) -> None:
    p = tmp_path / "dism.log"
    for data in (blob, b"2017-03-10 10:20:11, Info                  DISM   DISM.EXE: x\r\n" + blob):
        p.write_bytes(data)
        src = Source(p, "dism.log")
        list(DismParser().parse(src, ParseContext("x", 0)))
        list(DismParser.utc_offsets(src))


def test_corpus_dism_folder_is_walked() -> None:
    root = corpus_path("dism")
    logs = [p for p in root.iterdir() if p.suffix.lower() in (".log", ".bak")]
    for p in logs:  # the corpus has none yet (see its README); each one found must parse cleanly
        evs, ctx = parse(p)
        assert evs and ctx.warning_count < max(1, sum(1 for _ in p.open("rb")) // 100)
