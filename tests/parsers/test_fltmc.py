"""fltmc filters / instances: real case files (zh-CN, CP936), our English/Chinese samples, damage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Severity
from culprit.parsers.fltmc import FltmcParser
from culprit.textio import Encoding
from tests.conftest import case_path, data_path
from tests.parsers._tooloutput import damaged_variants, run, run_bytes, sniffed


def test_case_file_zh_cp936() -> None:
    p = case_path("edge-injected-dll", "bad", "system", "fltmc.txt")
    assert sniffed(p) == "fltmc"
    events, ctx = run(FltmcParser, p, "bad/system/fltmc.txt")
    assert ctx.warnings == []
    assert [e.fields["filter"] for e in events] == [
        "PROCMON24",
        "tmsfsflt",
        "WdFilter",
        "storqosflt",
        "wcifs",
        "CldFlt",
        "FileCrypt",
        "luafv",
        "npsvctrig",
        "Wof",
        "FileInfo",
    ]
    tms = events[1]
    assert tms.kind == "fltmc:filter"
    assert dict(tms.fields) == {
        "filter": "tmsfsflt",
        "instances": 5,
        "altitude": "368420",
        "frame": 0,
        "legacy": False,
    }
    assert tms.origin.line == 5
    assert tms.origin.artifact == "bad/system/fltmc.txt"
    assert tms.origin.text == "tmsfsflt                                5       368420         0"
    assert events[-1].fields["altitude"] == "40500"


def test_english_filters_with_legacy_and_fractional_altitude() -> None:
    events, ctx = run(FltmcParser, data_path("parsers", "fltmc", "filters_en.txt"))
    assert ctx.warnings == []
    by = {e.fields["filter"]: dict(e.fields) for e in events}
    assert by["AcmeLegacy"] == {
        "filter": "AcmeLegacy",
        "instances": None,
        "altitude": "389998.99",
        "frame": None,
        "legacy": True,
    }
    assert by["FsDepends"] == {
        "filter": "FsDepends",
        "instances": 10,
        "altitude": "385250.5",
        "frame": 0,
        "legacy": False,
    }
    assert by["WdFilter"]["instances"] == 10


def test_chinese_sample_gbk() -> None:
    p = data_path("parsers", "fltmc", "filters_zh.txt")
    assert sniffed(p) == "fltmc"
    events, ctx = run(FltmcParser, p)
    assert ctx.warnings == []
    assert [(e.fields["filter"], e.fields["altitude"]) for e in events] == [
        ("tmsfsflt", "368420"),
        ("WdFilter", "328010"),
    ]


def test_instances() -> None:
    events, ctx = run(FltmcParser, data_path("parsers", "fltmc", "instances_en.txt"))
    assert ctx.warnings == []
    assert {e.kind for e in events} == {"fltmc:instance"}
    assert dict(events[0].fields) == {
        "filter": "bindflt",
        "volume": "C:",
        "altitude": "409800",
        "instance": "bindflt Instance",
        "frame": 0,
        "supported_features": "0000000f",
        "volume_status": None,
    }
    assert events[1].fields["volume"] == ""
    assert events[2].fields["volume"] == "\\Device\\Mup"


def test_listing_failed() -> None:
    events, ctx = run(FltmcParser, data_path("parsers", "fltmc", "error_en.txt"))
    assert ctx.warnings == []
    (e,) = events
    assert e.kind == "fltmc:error" and e.severity is Severity.ERROR
    assert e.code == 0x80070005
    assert dict(e.fields) == {
        "hresult": 0x80070005,
        "message": "Filter listing failed with error: 0x80070005",
        "detail": "Access is denied.",
    }


@pytest.mark.parametrize("kind", ["truncated", "garbage", "huge_line", "garbage_lines"])
def test_damaged_input_warns(kind: str, tmp_path: Path) -> None:
    sample = data_path("parsers", "fltmc", "filters_en.txt").read_bytes()
    p = damaged_variants(sample, tmp_path)[kind]
    events, ctx = run(FltmcParser, p)
    assert ctx.warnings, "damage must be reported"
    if kind in ("huge_line", "garbage_lines"):
        assert any(e.fields.get("filter") == "WdFilter" for e in events)


def test_wrong_encoding_warns_and_keeps_rows() -> None:
    p = data_path("parsers", "fltmc", "filters_zh.txt")
    events, ctx = run(FltmcParser, p, encoding=Encoding("utf-8"))
    assert any("not valid" in w.message for w in ctx.warnings)
    assert [e.fields["filter"] for e in events] == ["tmsfsflt", "WdFilter"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.lists(
            st.sampled_from(
                [
                    "Filter Name                     Num Instances    Altitude    Frame",
                    "------------------------------  -------------  ------------  -----",
                    "--  -",
                    "WdFilter  5  328010  0",
                    "x 1 2 <L",
                    "",
                    "  ",
                    "失败 0x8007000",
                    "Filter failed 0x80070005",
                ]
            )
            | st.text(max_size=80),
            max_size=20,
        ).map(lambda ls: "\r\n".join(ls).encode("utf-8")),
    )
)
def test_property_arbitrary_bytes_never_raise(data: bytes) -> None:
    run_bytes(FltmcParser, data)


def test_pathological_failed_line(tmp_path: Path) -> None:
    p = tmp_path / "f.txt"
    p.write_bytes(b"failed " * 120_000 + b"0x80070005\r\n")
    events, _ctx = run(FltmcParser, p)
    assert [(e.kind, e.code) for e in events] == [("fltmc:error", 0x80070005)]
