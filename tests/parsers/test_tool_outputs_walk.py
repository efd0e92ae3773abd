"""All tool outputs in ../shared/cases and ../shared/corpus: sniffed by content, parsed, < 1% warnings."""

from __future__ import annotations

from pathlib import Path

from culprit import parsers
from culprit.parsers.base import ParseContext, Source
from tests.conftest import SHARED, case_path

MINE = {"fltmc", "driverquery", "tasklist", "scqc", "regquery", "regfile", "icacls", "getacl"}


def _files() -> list[Path]:
    out: list[Path] = []
    for root in (SHARED / "cases", SHARED / "corpus"):
        if root.exists():
            out.extend(p for p in sorted(root.rglob("*")) if p.is_file())
    return out


def test_walk_all_tool_outputs() -> None:
    case_path()  # skip with the reason when the cases are absent
    seen: dict[str, str] = {}
    for p in _files():
        src = Source(p, str(p.relative_to(SHARED)))
        cls, _ = parsers.sniff(src)
        if cls is None or cls.name not in MINE:
            continue
        ctx = ParseContext(src.name)
        events = list(cls().parse(src, ctx))
        lines = sum(1 for _ in src.lines(ParseContext(src.name)))
        assert events, src.name
        assert ctx.warning_count <= lines / 100, (src.name, ctx.warnings[:3])
        seen[src.name.split("/", 1)[1] if "/" in src.name else src.name] = cls.name
    # the case files have generic names: each is recognised by its content
    expected = {
        "edge-injected-dll/bad/system/fltmc.txt": "fltmc",
        "edge-injected-dll/bad/system/driverquery.csv": "driverquery",
        "edge-injected-dll/bad/system/tasklist_m.txt": "tasklist",
        "edge-injected-dll/good/system/fltmc.txt": "fltmc",
        "edge-injected-dll/good/system/driverquery.csv": "driverquery",
        "edge-injected-dll/good/system/tasklist_m.txt": "tasklist",
        "kb4474419-registry-denied/bad/system/AmdK8_acl.txt": "getacl",
        "kb4474419-registry-denied/bad/system/driverquery.csv": "driverquery",
        "kb4474419-registry-denied/bad/system/reg_AmdK8.txt": "regquery",
    }
    assert {k: seen.get(k) for k in expected} == expected
