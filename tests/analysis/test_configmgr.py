"""Configuration Manager client logs in a bundle: the deployment ConfigMgr counted as failed is the
failure (named after its deployment type, with the installer's exit code), the software-update logs name
the KB through the update id, and what is missing to explain it is asked for."""

from __future__ import annotations

import shutil
from pathlib import Path

from culprit import pipeline
from culprit.analysis import analyze
from tests.conftest import data_path

LOGS = ("Windows", "CCM", "Logs")


def run(tmp_path: Path, *names: str) -> dict:
    logs = tmp_path.joinpath("bad", *LOGS)
    logs.mkdir(parents=True)
    for n in names:
        shutil.copy(data_path("parsers", "cmtrace", n), logs / n)
    with pipeline.load([tmp_path / "bad"]) as ws:
        return analyze(ws).to_dict()


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
