"""The analysis generalizes beyond the two seed cases: case bundles with other products, drivers, keys,
INFs, languages and failure modes (``tests/data/cases/*``, described in ``docs/cases.md``) are analysed
and compared with their ``expected.json`` answer keys the way ``test_cases.py`` does for the seed cases.

Each answer key is checked aspect by aspect (failure, finding, allow-list, chain evidence, missing
evidence, good-run variant) so that a gap in one aspect does not hide the others; the known gaps are
``xfail(strict=True)`` with the reason, never a weakened expectation.
"""

from __future__ import annotations

import json
import tempfile
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

# A non-MSI, non-Edge installer (round three): the injection pass is never reached.

# The explicit deny ACE of an icacls listing is not weighed (round four).

# A denial that only a Procmon CSV export shows (no stacks): no circumstantial finding (round four).

# (case, aspect) → why the analysis does not meet the answer key yet (for the analysis engineer).
GAPS: dict[tuple[str, str], str] = {}


def expected(case: str) -> dict:
    return json.loads((CASES_DIR / case / "expected.json").read_text(encoding="utf-8"))


@cache
def result(case: str, with_good: bool = True) -> dict:
    """The analysis of a case bundle as the JSON contract (computed once per case and variant)."""
    paths, good = bundle_paths(case, with_good)
    with pipeline.load(paths, good=good) as ws:
        return analyze(ws).to_dict()


_BUILT = tempfile.TemporaryDirectory(prefix="culprit-cases-")  # bundles built at test time (removed at exit)


def bundle_paths(case: str, with_good: bool = True) -> tuple[list[Path], list[Path]]:
    """The paths to analyse for a case and its good run. A case whose answer key names a ``zip`` is delivered
    as that one file: it is built from ``<case>/bundle/`` by ``casebuilder.build_zip_bundle`` (nested
    CbsPersist cab, captures) into a temporary folder, so its artifacts are named ``<zip>/...``."""
    b = expected(case)["bundle"]
    base = CASES_DIR / case
    if b.get("zip"):
        z = Path(_BUILT.name) / case / b["zip"]
        if not z.exists():
            z.parent.mkdir(parents=True, exist_ok=True)
            z.write_bytes(casebuilder.build_zip_bundle(case))
        paths = [z]
    else:
        paths = [base / b["path"], *(base / x for x in b.get("extra", []))]
    good = [base / b["good"]] if with_good and b.get("good") else []
    return paths, good


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


def _warned(w: dict, want: dict) -> bool:
    """Does warning ``w`` say what the answer key expects (the artifact or a member of it, the words)?"""
    art = str(w.get("artifact", ""))
    return (art == want["artifact"] or art.startswith(want["artifact"] + "/")) and all(
        norm(word) in norm(str(w.get("message", ""))) for word in want.get("mentions", [])
    )


@pytest.mark.parametrize("case", _params("read"))
def test_bundle_reads_without_warnings(case: str) -> None:
    """Every file of the bundle is recognised by a parser and read without a warning, except the damage the
    answer key lists in ``bundle.warnings`` (artifact and words), which must be reported and nothing else.
    A bundle whose manifest is unusable states the offset the logs prove in ``bundle.utc_offset_minutes``."""
    b = expected(case)["bundle"]
    want = b.get("warnings", [])
    paths, good = bundle_paths(case)
    with pipeline.load(paths, good=good) as ws:
        unparsed = [a.name for a in ws.artifacts if a.parser is None and not a.name.endswith("manifest.json")]
        assert unparsed == []
        read = [w.to_dict() for w in ws.all_warnings()]
        if "utc_offset_minutes" in b:
            assert (ws.utc_offset, "manifest.json" in ws.offset_source) == (b["utc_offset_minutes"], False)
        else:
            assert ws.utc_offset is not None and "manifest.json" in ws.offset_source
    reported = result(case)["warnings"]
    for got in (read, reported):
        assert [w for w in got if not any(_warned(w, e) for e in want)] == []
        assert [e for e in want if not any(_warned(w, e) for w in got)] == []


@pytest.mark.parametrize("case", _params("encoding", lambda e: "encodings" in e["bundle"]))
def test_ansi_logs_decoded_in_the_machines_code_page(case: str) -> None:
    """ANSI text is decoded in the code page the manifest names (cp1251, cp949...), not guessed as another."""
    got = {a["path"]: a.get("encoding") for a in result(case)["bundle"]["artifacts"]}
    for artifact, enc in expected(case)["bundle"]["encodings"].items():
        assert got.get(artifact) == enc, (artifact, got.get(artifact))


@pytest.mark.parametrize("case", _params("failure"))
def test_failure(case: str) -> None:
    got, exp = result(case), expected(case)
    assert len(got["failures"]) >= len(exp["failures"]), got["failures"]
    for ef, gf in zip(exp["failures"], got["failures"], strict=False):
        assert gf["target"] == ef["target"]
        assert (gf.get("code") or "").lower() == (ef.get("code") or "").lower()  # Exchange Setup writes none
        assert gf.get("symbol") == ef.get("symbol")
        if "error" in ef:  # a failure without a code carries what its log said
            assert gf.get("error") == ef["error"]
        # a text log is cited by line, a PML capture by event index
        assert (gf["artifact"], gf.get("line", gf.get("event"))) == (ef["artifact"], ef.get("line", ef.get("event")))


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


@pytest.mark.parametrize(
    "case",
    _params("allow-not", lambda e: bool(e["findings"]) and "allow_not" in e["findings"][0]["remediation"]),
)
def test_allow_list_leaves_out_what_installed(case: str) -> None:
    """Keys and files of another package that installed (the other INF of the same queue) are not allowed."""
    got, ef = result(case), expected(case)["findings"][0]
    assert got["findings"], "no finding"
    have = {
        norm(x)
        for a in got["findings"][0]["remediation"]["allow"]
        for x in (*a.get("registry_keys", []), *a.get("files", []))
    }
    assert sorted(have & {norm(x) for x in ef["remediation"]["allow_not"]}) == []


@pytest.mark.parametrize("case", _params("likely", lambda e: "confidence_max" in (e["findings"] or [{}])[0]))
def test_circumstantial_evidence_is_likely(case: str) -> None:
    """Without a stack (a CSV export) an agent is only 'Likely': the title says so, the confidence is low."""
    got, ef = result(case), expected(case)["findings"][0]
    assert got["findings"], "no finding"
    f = got["findings"][0]
    assert f["confidence"] <= ef["confidence_max"], f["confidence"]
    assert f["title"].startswith("Likely"), f["title"]


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
    """The committed .pml (and LZX .cab) files are what ``python -m tests.casebuilder`` writes."""
    for rel, data in casebuilder.build(case).items():
        assert (CASES_DIR / case / rel).read_bytes() == data, (
            f"{case}/{rel}: rerun python -m tests.casebuilder"
        )


@pytest.mark.parametrize("case", sorted(casebuilder.ZIP_BUNDLES))
def test_zipped_bundle_nests_the_cbs_archive(case: str) -> None:
    """A one-zip bundle holds the collector's manifest at its root and the CBS archive as a nested cabinet."""
    import zipfile

    (z,), _ = bundle_paths(case)
    with zipfile.ZipFile(z) as zf:
        names = zf.namelist()
        cabs = [n for n in names if n.rsplit("/", 1)[-1].startswith("CbsPersist_") and n.endswith(".cab")]
        assert "manifest.json" in names and cabs, names
        assert zf.read(cabs[0])[:4] == b"MSCF"
        assert not [n for n in names if n.endswith(".log") and "CbsPersist_" in n]
