"""Windows Error Reporting reports in a bundle: an installer's crash in a foreign module names the module's
product; a servicing failure report is the failure when nothing else says what failed; other programs'
crashes are not taken for the install's failure."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import analysis_of, corpus_path, data_path

ARCHIVE = ("ProgramData", "Microsoft", "Windows", "WER", "ReportArchive")


def bundle(tmp_path: Path, reports: dict[str, Path | bytes]) -> Path:
    bad = tmp_path / "bad"
    for folder, src in reports.items():
        d = bad.joinpath(*ARCHIVE, folder)
        d.mkdir(parents=True)
        (d / "Report.wer").write_bytes(src if isinstance(src, bytes) else src.read_bytes())
    return bad


def run(bad: Path) -> dict:
    return analysis_of([bad])


def test_installer_crash_in_foreign_module_names_the_product(tmp_path: Path) -> None:
    d = run(
        bundle(
            tmp_path,
            {"AppCrash_MicrosoftEdgeU_1": data_path("parsers", "wer", "appcrash_edgeupdate_schk.wer")},
        )
    )
    assert [(f["target"], f["code"]) for f in d["failures"]] == [("MicrosoftEdgeUpdate.exe", "0xC0000005")]
    top = d["findings"][0]
    assert top["kind"] == "injected-module"
    assert (top["culprit"]["module"], top["culprit"]["product"]) == ("schk.dll", "TMS")
    # the lines cited: Sig[3].Value=schk.dll, then LoadedModule[9]=C:\Program Files\TMS\schk.dll
    assert [(s["summary"], s["line"]) for s in top["chain"]] == [
        ("MicrosoftEdgeUpdate.exe crashes with exception 0xC0000005 in schk.dll", 29),
        (r"the crash report's module list names C:\Program Files\TMS\schk.dll", 64),
    ]
    rule = top["remediation"]["allow"][0]
    assert rule["no_injection"] and rule["pattern"].endswith(r"\EU*.tmp\MicrosoftEdgeUpdate.exe")


def test_servicing_failure_report_is_the_failure(tmp_path: Path) -> None:
    wcp = corpus_path("other", "wer", "museum_win10_WindowsWcpOtherFailure3_4318f466_Report.wer")
    d = run(bundle(tmp_path, {"NonCritical_x64_1": wcp}))
    assert [(f["target"], f["code"]) for f in d["failures"]] == [
        ("WindowsWcpOtherFailure3 (TiWorker.exe)", "0x800F0984")
    ]
    # 0x800F0984 (a component's binary is gone) is a damaged component store: the signature says how to repair
    (f,) = d["findings"]
    assert f["kind"] == "store-corruption" and f["culprit"] is None
    assert "RestoreHealth" in f["remediation"]["fix"] and f["chain"][0]["line"] == 2


def test_other_programs_crashes_are_not_the_failure(tmp_path: Path) -> None:
    raw = data_path("parsers", "wer", "appcrash_edgeupdate_schk.wer").read_bytes().decode("utf-16")
    other = raw.replace("MicrosoftEdgeUpdate.exe", "Teams.exe").replace("Microsoft Edge Update", "Teams")
    d = run(bundle(tmp_path, {"AppCrash_Teams_1": codecs_bom(other)}))
    assert d["failures"] == [] and d["findings"] == []


def codecs_bom(text: str) -> bytes:
    return "\ufeff".encode("utf-16-le") + text.lstrip("\ufeff").encode("utf-16-le")


def test_crash_report_beside_a_failing_msi_is_evidence_not_a_second_failure(tmp_path: Path) -> None:
    """With the MSI log saying what failed, the crash report of msiexec explains it."""
    src = data_path("parsers", "wer", "appcrash_edgeupdate_schk.wer").read_bytes().decode("utf-16")
    crash = src.replace("MicrosoftEdgeUpdate.exe", "msiexec.exe")
    bad = bundle(tmp_path, {"AppCrash_msiexec_1": codecs_bom(crash)})
    shutil.copy(data_path("parsers", "msi", "en_failure_rollover.log"), bad / "MSI1a2b3.LOG")
    d = run(bad)
    assert d["failures"][0]["target"] != "msiexec.exe"
    assert d["findings"][0]["culprit"]["module"] == "schk.dll"
