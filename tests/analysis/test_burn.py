"""WiX Burn bundle logs in a bundle: the failing bundle run is the failure (named after the bundle, citing
its first error, with the failing package and that package's own log); with the package's MSI log in the
bundle, the MSI's own failure comes first."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import analysis_of, data_path

LOG = "Contoso_Agent_20240903103101.log"


def run(tmp_path: Path, with_msi_log: bool) -> dict:
    temp = tmp_path / "bad" / "Windows" / "Temp"
    temp.mkdir(parents=True)
    shutil.copy(data_path("parsers", "burn", LOG), temp / LOG)
    if with_msi_log:
        child = "Contoso_Agent_20240903103101_000_ContosoAgentMsi.log"
        shutil.copy(data_path("parsers", "msi", "en_failure_rollover.log"), temp / child)
    return analysis_of([tmp_path / "bad"])


def test_failing_bundle_is_the_failure_and_its_package_log_is_asked_for(tmp_path: Path) -> None:
    d = run(tmp_path, with_msi_log=False)
    (f,) = d["failures"]
    assert (f["target"], f["code"], f["symbol"], f["line"]) == (
        "Contoso Agent",
        "0x80070643",
        "ERROR_INSTALL_FAILURE",
        36,
    )
    assert f["package"] == "ContosoAgentMsi"
    assert f["package_log"] == r"C:\Windows\Temp\Contoso_Agent_20240903103101_000_ContosoAgentMsi.log"
    asked = [m["artifact"] for m in d["missing"]]
    assert "msi" in asked and "procmon" in asked
    msi = next(m for m in d["missing"] if m["artifact"] == "msi")
    assert msi["how"].startswith("copy " + f["package_log"] + " ")  # the exact log, not a pattern


def test_the_package_msi_log_explains_the_bundle_failure(tmp_path: Path) -> None:
    d = run(tmp_path, with_msi_log=True)
    first = d["failures"][0]
    assert first["artifact"].endswith("_000_ContosoAgentMsi.log") and first["code"] == "1603"
    assert "msi" not in [m["artifact"] for m in d["missing"]]
