"""``culprit inspect`` on Procmon captures: columnar --where, Procmon-convention CSV (--columns, --tz)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from culprit.cli import main
from culprit.errors import UsageError
from culprit.parsers.procmon import open_capture
from culprit.parsers.procmon.export import DEFAULT_COLUMNS, parse_columns, write_procmon_csv
from tests.conftest import case_path


@pytest.mark.corpus
def test_csv_export_is_byte_identical_to_procmons_own(tmp_path: Path) -> None:
    pml = case_path("kb4474419-registry-denied", "repro", "procmon", "reg_repro.PML")
    theirs = case_path("kb4474419-registry-denied", "repro", "procmon", "reg_repro.CSV")
    out = tmp_path / "export.csv"
    rc = main(
        [
            "inspect",
            str(pml),
            "-f",
            "csv",
            "--columns",
            "+TID,Image Path,Company,Parent PID,Architecture",
            "--tz",
            "+08:00",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    assert out.read_bytes() == theirs.read_bytes()


@pytest.mark.corpus
def test_inspect_where_json(capsys: pytest.CaptureFixture[str]) -> None:
    pml = case_path("kb4474419-registry-denied", "repro", "procmon", "reg_repro.PML")
    rc = main(
        ["inspect", str(pml), "--where", "result = 'ACCESS DENIED' and path like '%Services%'", "-f", "json"]
    )
    assert rc == 0
    captured = capsys.readouterr()
    rows = [json.loads(x) for x in captured.out.splitlines()]
    assert [r["origin"]["event"] for r in rows] == [1157, 2225, 3470]
    assert rows[0]["code"] == "0xC0000022" and rows[0]["fields"]["stack"][1] == "krnlmgr.sys+0x49711"
    assert "5,452 events, 3 shown" in captured.err


def test_export_defaults_utc_and_reads_back(tmp_path: Path) -> None:
    from tests.parsers.test_procmon_writer import build

    pml = build().write(tmp_path / "s.pml")
    out = tmp_path / "s.csv"
    with open_capture(pml) as cap, out.open("w", encoding="utf-8", newline="") as fp:
        n = write_procmon_csv(cap, range(len(cap)), fp, parse_columns("+Date & Time,TID,Duration"))
    assert n == 22
    raw = out.read_bytes()
    assert raw.startswith(
        b'\xef\xbb\xbf"Time of Day","Process Name","PID","Operation","Path","Result","Detail",'
        b'"Date & Time","TID","Duration"\r\n'
    )
    assert b'"7:41:07.2706340 AM","reg.exe","4100","Process Create"' in raw  # UTC: no --tz
    with open_capture(pml) as a, open_capture(out, utc_offset=0) as b:
        assert len(a) == len(b)
        for i in range(len(a)):
            ea, eb = a.event(i), b.event(i)
            assert (
                ea.time,
                ea.fields["operation"],
                ea.fields["path"],
                ea.fields["result"],
                ea.fields["detail"],
                ea.process,
            ) == (
                eb.time,
                eb.fields["operation"],
                eb.fields["path"],
                eb.fields["result"],
                eb.fields["detail"],
                eb.process,
            )
            assert int(a.duration[i]) == int(b.duration[i])


def test_columns_option() -> None:
    assert parse_columns(None) == list(DEFAULT_COLUMNS)
    assert parse_columns("pid, operation") == ["PID", "Operation"]
    assert parse_columns("+TID,Detail") == [*DEFAULT_COLUMNS, "TID"]
    with pytest.raises(UsageError, match="unknown column 'Colour'"):
        parse_columns("Colour")


@pytest.mark.corpus
def test_a_row_decodes_its_event_once_and_dates_follow_the_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    from culprit.parsers.procmon import details as D
    from tests.conftest import corpus_path

    calls: list[int] = []
    real = D.decode
    monkeypatch.setattr(D, "decode", lambda c, j: (calls.append(j), real(c, j))[1])
    with open_capture(corpus_path("procmon", "LogfileTests64bitUTC.pml")) as cap:
        i = int(cap.where("operation = 'QueryBasicInformationFile' and result = 'SUCCESS'")[0])
        calls.clear()
        utc = (cap.path_of(i), cap.detail(i))
        assert calls == [i]  # Path and Detail of one row: one decode
        cap.tz_minutes = 480  # type: ignore[attr-defined]
        east = cap.detail(i)
    assert calls == [i, i]
    assert utc[1] != east and "CreationTime: " in east
