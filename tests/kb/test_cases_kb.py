"""The case answer keys (shared/cases/*/expected.json) agree with the knowledge base."""

from __future__ import annotations

import json

import pytest

from culprit.kb import codes, microsoft, products
from tests.conftest import case_path

CASES = ["edge-injected-dll", "kb4474419-registry-denied"]


def _expected(case: str) -> dict:
    return json.loads(case_path(case, "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES)
def test_failure_codes_have_the_expected_symbols(case: str) -> None:
    for f in _expected(case)["failures"]:
        assert codes.symbol(f["code"]) == f["symbol"], f
        if "raw" in f:  # the signed decimal the MSI log prints
            assert codes.explain(f["raw"])[0].value == int(f["code"], 16)


@pytest.mark.parametrize("case", CASES)
def test_culprits_are_attributed_to_their_product(case: str) -> None:
    for finding in _expected(case)["findings"]:
        c = finding["culprit"]
        hit = products.lookup(c["module"])[0]
        assert (hit.product, hit.vendor, hit.role) == (c["product"], c["vendor"], c["role"])
        assert not microsoft.is_microsoft(name=c["module"], path=c.get("path"))
        if "path_x64" in c:
            assert products.lookup(c["path_x64"])[0].product == c["product"]
            assert hit.details["path_x64"] == c["path_x64"]
        inj = finding.get("injector")
        if inj:
            for p in (inj, inj.get("also") or {}):
                if p:
                    h = products.lookup(p["path"])[0]
                    assert (h.module, h.product, h.role) == (p["process"], "TMS", "injector-process")


def test_edge_exit_status_is_the_generic_omaha_code() -> None:
    notes = _expected("edge-injected-dll")["notes"]
    assert notes["eu_exit_status"].startswith("-2147218431 (0x80040C01")
    r = codes.explain("-2147218431")[0]
    assert (r.kind, r.value, r.symbol) == (
        "omaha",
        0x80040C01,
        "GOOGLEUPDATE_COMMANDLINE_E_NO_SCENARIO_HANDLER_MATCHED",
    )
    assert "generic" in r.meaning_en and "通用" in r.meaning_zh


def test_remediation_processes_are_windows_own_or_edge() -> None:
    allow = _expected("kb4474419-registry-denied")["findings"][0]["remediation"]["allow"][0]
    assert microsoft.is_microsoft(path=allow["process"])  # C:\Windows\servicing\TrustedInstaller.exe
    for f in allow["files"]:
        name = f.rsplit("\\", 1)[-1]
        assert microsoft.is_microsoft(name=name), name  # amdk8.sys ... inbox drivers from cpu.inf
