"""Configuration Manager client logs in a bundle: the deployment ConfigMgr counted as failed is the
failure (named after its deployment type, with the installer's exit code), the software-update logs name
the KB through the update id, and what is missing to explain it is asked for."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import analysis_of, data_path

LOGS = ("Windows", "CCM", "Logs")


def run(tmp_path: Path, *names: str) -> dict:
    logs = tmp_path.joinpath("bad", *LOGS)
    logs.mkdir(parents=True)
    for n in names:
        shutil.copy(data_path("parsers", "cmtrace", n), logs / n)
    return analysis_of([tmp_path / "bad"])


def test_app_deployment_failure_and_what_to_collect(tmp_path: Path) -> None:
    d = run(tmp_path, "AppEnforce.log")
    f = d["failures"]
    assert [(x["target"], x["code"], x["line"]) for x in f] == [
        ("Contoso Agent 7.2 - Windows Installer (*.msi file)", "1603", 22)
    ]
    assert f[0]["symbol"] == "ERROR_INSTALL_FAILURE"
    asked = [m["artifact"] for m in d["missing"]]
    assert "msi" in asked  # ConfigMgr ran msiexec: its verbose log says which action failed
    procmon = next(m for m in d["missing"] if m["artifact"] == "procmon")
    assert "msiexec.exe" in procmon["why"]


def test_update_failure_is_named_by_its_kb_once(tmp_path: Path) -> None:
    d = run(tmp_path, "WUAHandler.log", "UpdatesHandler.log")
    assert [(x["target"], x["code"]) for x in d["failures"]] == [("KB4474419", "0x80070005")]
    asked = [m["artifact"] for m in d["missing"]]
    assert "cbs" in asked and "procmon" in asked


def test_configmgr_update_logs_corroborate_the_servicing_chain(tmp_path: Path) -> None:
    """KB4474419 pushed by ConfigMgr: the answer stays the CBS chain; ConfigMgr's report of the same
    update failing with the same code is one of its evidence lines."""
    example = Path(__file__).resolve().parents[2] / "examples" / "kb4474419-registry-denied"
    for part in ("bad", "repro"):
        shutil.copytree(example / part, tmp_path / part)
    logs = tmp_path.joinpath("bad", *LOGS)
    logs.mkdir(parents=True)
    for n in ("WUAHandler.log", "UpdatesHandler.log"):
        shutil.copy(data_path("parsers", "cmtrace", n), logs / n)
    d = analysis_of([tmp_path / "bad", tmp_path / "repro"])
    f = d["findings"][0]
    assert f["culprit"]["module"] == "krnlmgr.sys"
    step = next(s for s in f["chain"] if s["summary"].startswith("Configuration Manager"))
    assert step["summary"] == "Configuration Manager reports the deployment of KB4474419 failed 0x80070005"
    assert (step["artifact"], step["line"]) == ("bad/Windows/CCM/Logs/UpdatesHandler.log", 6)
