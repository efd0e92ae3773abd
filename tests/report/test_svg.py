"""The timeline picture: marks, lanes, lifetimes, the good run beside the bad one, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from culprit.report import svg

NS = "{http://www.w3.org/2000/svg}"


def marks(picture: str) -> dict[int, str]:
    """Step number -> mark kind, read back from the SVG."""
    root = ET.fromstring(picture)
    out = {}
    for g in root.iter(f"{NS}g"):
        cls = (g.get("class") or "").split()
        if cls[:1] == ["mark"]:
            n = int(g.find(f"{NS}text").text)  # type: ignore[union-attr,arg-type]
            out[n] = cls[1]
    return out


def test_classify_procmon_records_and_summaries() -> None:
    assert svg.classify({"text": "Process Create C:\\a.exe SUCCESS PID: 1", "summary": "x"}) == "start"
    assert svg.classify({"text": "Process Exit  SUCCESS Exit Status: 0", "summary": "x starts y"}) == "exit"
    assert svg.classify({"text": "Load Image C:\\TMS\\schk.dll SUCCESS", "summary": "loads"}) == "load"
    assert (
        svg.classify({"text": "RegSetValue HKLM\\X ACCESS DENIED", "summary": "Procmon: reg.exe"}) == "denied"
    )
    assert svg.classify({"text": "!!!  dvi: Error 5: 拒绝访问。", "summary": "SetupAPI: failed"}) == "denied"
    assert svg.classify({"text": "", "summary": "Windows Update reports KB1 failed 0x80070005"}) == "fail"
    assert svg.classify({"text": "", "summary": "installation status 1603"}) == "fail"
    assert svg.classify({"text": "", "summary": "krnlmgr.sys is a TMS driver"}) == "info"
    assert (
        svg.classify({"text": "Process Create", "summary": "x", "mark": "denied"}) == "denied"
    )  # explicit wins


def test_edge_timeline_has_both_runs_side_by_side(seed_analysis) -> None:
    d = seed_analysis("edge", "en")
    picture = svg.timeline(d, "en")
    root = ET.fromstring(picture)  # well-formed XML
    assert root.tag == f"{NS}svg"
    panels = [g for g in root.iter(f"{NS}g") if g.get("class") == "panel"]
    assert len(panels) == 2
    titles = [p.find(f"{NS}text").text for p in panels]  # type: ignore[union-attr]
    assert titles == ["failing machine (bad)", "good machine (good)"]
    chain = d["findings"][0]["chain"]
    got = marks(picture)
    assert sorted(got) == list(range(1, len(chain) + 1))  # every step drawn once, numbered as in the chain
    by_text = {n: s.get("text", "") for n, s in enumerate(chain, 1)}
    for n, kind in got.items():
        if by_text[n].startswith("Load Image"):
            assert kind == "load"
        if by_text[n].startswith("Process Create"):
            assert kind == "start"
        if by_text[n].startswith("Process Exit"):
            assert kind == "exit"
    assert "load" in got.values() and "start" in got.values() and "exit" in got.values()
    # lifetimes: the process that loaded schk.dll has a bar labelled with its name
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert "MicrosoftEdgeUpdate.exe" in labels
    assert "order of the chain →" in labels  # no step times in the JSON: the axis says so


def test_kb_timeline_shows_the_denied_operation(seed_analysis) -> None:
    d = seed_analysis("kb4474419", "zh")
    picture = svg.timeline(d, "zh")
    root = ET.fromstring(picture)
    assert len([g for g in root.iter(f"{NS}g") if g.get("class") == "panel"]) == 1
    got = marks(picture)
    chain = d["findings"][0]["chain"]
    denied = [n for n, s in enumerate(chain, 1) if "ACCESS DENIED" in s.get("text", "")]
    assert denied and all(got[n] == "denied" for n in denied)
    assert "故障机 (bad, repro)" in [t.text for t in root.iter(f"{NS}text")]


def test_timed_steps_use_a_time_axis_and_pair_lifetimes() -> None:
    d = {
        "bundle": {"path": "bad"},
        "findings": [
            {
                "chain": [
                    {
                        "summary": "msiexec.exe (PID 1) starts setup.exe (PID 2)",
                        "artifact": "bad/p.PML",
                        "text": "Process Create C:\\setup.exe SUCCESS PID: 2",
                        "time": "2024-01-01T00:00:00Z",
                    },
                    {
                        "summary": "that thread loads C:\\x.dll",
                        "artifact": "bad/p.PML",
                        "text": "Load Image C:\\x.dll",
                        "time": "2024-01-01T00:00:01Z",
                    },
                    {
                        "summary": "setup.exe exits with 5",
                        "artifact": "bad/p.PML",
                        "text": "Process Exit  SUCCESS Exit Status: 5",
                        "time": "2024-01-01T00:00:09Z",
                    },
                ]
            }
        ],
    }
    picture = svg.timeline(d, "en")
    root = ET.fromstring(picture)
    labels = [t.text for t in root.iter(f"{NS}text")]
    assert "time →" in labels and "setup.exe" in labels
    xs = {}
    for g in root.iter(f"{NS}g"):
        if (g.get("class") or "").startswith("mark"):
            n = int(g.find(f"{NS}text").text)  # type: ignore[union-attr,arg-type]
            xs[n] = float(g.find(f"{NS}text").get("x"))  # type: ignore[union-attr,arg-type]
    # 1 s and 8 s gaps: positions follow real time, not the step order
    assert abs((xs[3] - xs[2]) / (xs[2] - xs[1]) - 8.0) < 0.01
    bar = [r for r in root.iter(f"{NS}rect") if r.get("fill-opacity") == "0.35" and r.get("height") == "5"]
    assert bar and bar[0].get("fill") == svg.COLORS["exit-bad"]  # exit status 5: red lifetime


def test_no_chain_no_picture() -> None:
    assert svg.timeline({"findings": []}) == ""
    assert svg.timeline({"findings": [{"chain": []}]}) == ""


def test_text_is_escaped() -> None:
    evil = "</text><script>alert(1)</script>&"
    d = {
        "bundle": {"path": evil},
        "findings": [{"chain": [{"summary": evil, "artifact": evil, "text": evil}]}],
    }
    picture = svg.timeline(d)
    root = ET.fromstring(picture)
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert re.search(r"&lt;script&gt;", picture)


def test_a_huge_chain_is_drawn_up_to_a_bound() -> None:
    chain = [
        {"summary": f"step {i}", "artifact": "bad/CBS.log", "line": i, "text": "x" * 10_000}
        for i in range(5000)
    ]
    picture = svg.timeline({"bundle": {"path": "bad"}, "findings": [{"chain": chain}]}, "en")
    root = ET.fromstring(picture)
    assert len(marks(picture)) == svg.MAX_MARKS
    assert f"{5000 - svg.MAX_MARKS} more chain steps are not drawn" in [
        t.text for t in root.iter(f"{NS}text")
    ]
    assert len(picture) < 200_000
