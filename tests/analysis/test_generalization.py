"""The analysis generalizes beyond the two seed cases: case bundles with other products, drivers, keys,
INFs, languages and failure modes (``tests/data/cases/*``, described in ``docs/cases.md``) are analysed
and compared with their ``expected.json`` answer keys the way ``test_cases.py`` does for the seed cases.

Each answer key is checked aspect by aspect (failure, finding, allow-list, chain evidence, missing
evidence, good-run variant) so that a gap in one aspect does not hide the others; the known gaps are
``xfail(strict=True)`` with the reason, never a weakened expectation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from culprit import pipeline
from culprit.analysis import analyze
from tests import casebuilder
from tests.analysis.test_cases import assert_allow_contains, cited, norm

CASES_DIR = Path(__file__).resolve().parent.parent / "data" / "cases"
CASES = sorted(p.parent.name for p in CASES_DIR.glob("*/expected.json"))

# (case, aspect) → why the analysis does not meet the answer key yet (for the analysis engineer).
GAPS: dict[tuple[str, str], str] = {}


def expected(case: str) -> dict:
    return json.loads((CASES_DIR / case / "expected.json").read_text(encoding="utf-8"))


@cache
def result(case: str, with_good: bool = True) -> dict:
    """The analysis of a case bundle as the JSON contract (computed once per case and variant)."""
    exp = expected(case)
    base = CASES_DIR / case
    b = exp["bundle"]
    paths = [base / b["path"], *(base / x for x in b.get("extra", []))]
    good = [base / b["good"]] if with_good and b.get("good") else []
    with pipeline.load(paths, good=good) as ws:
        return analyze(ws).to_dict()


def _params(aspect: str, only: Callable[[dict], bool] = lambda e: True) -> list:
    out = []
    for case in CASES:
        if not only(expected(case)):
            continue
        reason = GAPS.get((case, aspect))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(case, id=case, marks=marks))
    return out


def _culprit(e: dict) -> bool:
    return bool(e["findings"]) and e["findings"][0].get("culprit") is not None


@pytest.mark.parametrize("case", _params("read"))
def test_bundle_reads_without_warnings(case: str) -> None:
    """Every file of the bundle is recognised by a parser and read without a warning."""
    exp = expected(case)
    base = CASES_DIR / case
    b = exp["bundle"]
    paths = [base / b["path"], *(base / x for x in b.get("extra", []))]
    good = [base / b["good"]] if b.get("good") else []
    with pipeline.load(paths, good=good) as ws:
        unparsed = [a.name for a in ws.artifacts if a.parser is None and not a.name.endswith("manifest.json")]
        assert unparsed == []
        assert [str(w) for w in ws.all_warnings()] == []
        assert ws.utc_offset is not None and "manifest.json" in ws.offset_source
    assert result(case)["warnings"] == []


@pytest.mark.parametrize("case", _params("failure"))
def test_failure(case: str) -> None:
    got, exp = result(case), expected(case)
    assert len(got["failures"]) >= len(exp["failures"]), got["failures"]
    for ef, gf in zip(exp["failures"], got["failures"], strict=False):
        assert gf["target"] == ef["target"]
        assert gf["code"].lower() == ef["code"].lower()
        assert gf["symbol"] == ef["symbol"]
        assert (gf["artifact"], gf["line"]) == (ef["artifact"], ef["line"])


@pytest.mark.parametrize("case", _params("finding"))
def test_finding(case: str) -> None:
    got, exp = result(case), expected(case)
    if not exp["findings"]:
        assert got["findings"] == [], [f["title"] for f in got["findings"]]
        return
    assert got["findings"], f"no finding; unresolved: {[u.get('title') for u in got.get('unresolved', [])]}"
    f, ef = got["findings"][0], exp["findings"][0]
    assert f["kind"] == ef["kind"], f["title"]
    if ef["culprit"] is None:
        assert f["culprit"] is None, f["culprit"]
        for word in ef["remediation"].get("fix_mentions", []):
            assert word.casefold() in (f["remediation"].get("fix") or "").casefold(), f["remediation"]
        return
    for k in ("module", "product", "vendor", "role"):
        assert f["culprit"][k] == ef["culprit"][k], k
    if "injector" in ef:
        inj = f.get("injector") or {}
        assert (inj.get("process"), inj.get("pid")) == (ef["injector"]["process"], ef["injector"]["pid"]), inj
    assert f["title_zh"] and f["remediation"]["workaround"]


@pytest.mark.parametrize(
    "case", _params("no-agent-blamed", lambda e: bool(e["findings"]) and not _culprit(e))
)
def test_no_agent_blamed(case: str) -> None:
    """A cause that is not an agent (store corruption, the ACL): no finding names a culprit."""
    got = result(case)
    assert [(f["kind"], f["culprit"]["module"]) for f in got["findings"] if f["culprit"]] == []


@pytest.mark.parametrize(
    "case", _params("confidence", lambda e: "confidence_min" in (e["findings"] or [{}])[0])
)
def test_confidence(case: str) -> None:
    """Decisive evidence (the installer's own log names the object the stack shows denied) is not 'likely'."""
    got, ef = result(case), expected(case)["findings"][0]
    f = got["findings"][0]
    assert f["confidence"] >= ef["confidence_min"], (f["confidence"], f.get("extra", f.get("reasons")))
    assert not f["title"].startswith("Likely")


@pytest.mark.parametrize("case", _params("allow", _culprit))
def test_allow_list(case: str) -> None:
    got, exp = result(case), expected(case)
    assert_allow_contains(
        got["findings"][0]["remediation"]["allow"], exp["findings"][0]["remediation"]["allow"]
    )


@pytest.mark.parametrize("case", _params("chain", lambda e: bool(e["findings"])))
def test_chain_cites_the_evidence(case: str) -> None:
    got, exp = result(case), expected(case)
    assert got["findings"], "no finding to cite evidence"
    f, ef = got["findings"][0], exp["findings"][0]
    want = {
        (s["artifact"], s.get("line", s.get("event"))) for s in ef["chain"] if "line" in s or "event" in s
    }
    have = cited(f)
    share = len(want & have) / len(want)
    assert share >= 0.8, (
        f"only {share:.0%} of the answer key's evidence cited; missing {sorted(want - have, key=str)}"
    )
    for s in f["chain"]:
        assert s["summary"] and s.get("summary_zh"), s


@pytest.mark.parametrize("case", _params("missing", lambda e: "missing" in e))
def test_missing_evidence_request(case: str) -> None:
    got, exp = result(case), expected(case)
    asked = {m["artifact"]: m for m in got["missing"]}
    for m in exp["missing"]:
        assert m["artifact"] in asked, f"no request for {m['artifact']}; asked {sorted(asked)}"
        text = asked[m["artifact"]]["why"] + " " + asked[m["artifact"]]["how"]
        for word in m.get("mentions", []):
            assert norm(word) in norm(text), (m["artifact"], word, text)
        for word in m.get("mentions_not", []):
            assert norm(word) not in norm(text), (m["artifact"], word, text)


@pytest.mark.parametrize("case", _params("without-good", lambda e: bool(e["bundle"].get("good"))))
def test_without_the_good_run(case: str) -> None:
    """The decisive evidence is in the failing run: the same culprit, and a request for a good run."""
    got, ef = result(case, with_good=False), expected(case)["findings"][0]
    f = got["findings"][0]
    assert f["kind"] == ef["kind"]
    assert f["culprit"]["module"] == ef["culprit"]["module"]
    assert "good-machine" in {m["artifact"] for m in got["missing"]}


@pytest.mark.parametrize("case", sorted(casebuilder.BUILDERS))
def test_committed_captures_match_the_builder(case: str) -> None:
    """The committed .pml files are what ``python -m tests.casebuilder`` writes (rebuild after a change)."""
    for rel, data in casebuilder.build(case).items():
        assert (CASES_DIR / case / rel).read_bytes() == data, (
            f"{case}/{rel}: rerun python -m tests.casebuilder"
        )
