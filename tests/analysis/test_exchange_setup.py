"""Exchange Server setup logs in a bundle: the first error of the run is the failure, stated in Setup's own
words; agent evidence is asked for only when Setup says access was denied."""

from __future__ import annotations

import pytest

from culprit.cli import main
from tests.conftest import analysis_of, corpus_path, data_path

CORPUS = [
    ("known_ExchangeSetup_ADServiceNotStarted.log", "2019", None, 500, "Unable to set shared config DC."),
    ("known_ExchangeSetup_InstallFromBin.log", "2016", None, 72, "The term 'D:\\Program Files\\Microsoft"),
    ("known_ExchangeSetup_MissingDirectory.log", "2013", None, 86, "Cannot find path 'C:\\Program Files"),
    (
        "known_ExchangeSetup_Search_Foundation_Failure.log",
        "2016",
        None,
        201,
        "Failure configuring SearchFoundation",
    ),
    ("known_ExchangeSetup_ServiceControl_Reverse.log", "2016", None, 57, 'Exception calling "Reverse"'),
    ("msi_ExchangeSetup_MSI_1.log", "2013", "1612", 104, "Couldn't remove product with code"),
    ("msi_ExchangeSetup_MSI_2.log", "2013", "1612", 97, "Installing product"),
    ("msi_ExchangeSetup_MSI_4.log", "2016", None, 86, "Object reference not set"),
    (
        "prereq_ExchangeSetup_AD_Prep_Reboot.log",
        "2016",
        None,
        24,
        "Setup encountered a problem while validating",
    ),
    ("prereq_ExchangeSetup_NoPerm.log", "2019", None, 1932, "The Active Directory schema isn't up-to-date"),
]


KNOWN = {
    "msi_ExchangeSetup_MSI_1.log": ["install-source-missing"],
    "msi_ExchangeSetup_MSI_2.log": ["install-source-missing"],
    "prereq_ExchangeSetup_AD_Prep_Reboot.log": [
        "insufficient-permissions",
        "files-in-use",
        "restart-pending",
        "active-directory",
    ],
    "prereq_ExchangeSetup_NoPerm.log": ["insufficient-permissions"],
}


def run(tmp_path, src) -> dict:
    logs = tmp_path / "bad" / "ExchangeSetupLogs"
    logs.mkdir(parents=True)
    (logs / "ExchangeSetup.log").write_bytes(src.read_bytes())
    return analysis_of([tmp_path / "bad"])


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "version", "code", "line", "said"), CORPUS, ids=[c[0] for c in CORPUS])
def test_first_error_is_the_failure(tmp_path, name, version, code, line, said) -> None:
    d = run(tmp_path, corpus_path("other", "exchange_setup", name))
    f = d["failures"][0]
    assert f["target"] == f"Microsoft Exchange Server {version} setup"
    assert (f.get("code"), f["line"]) == (code, line)
    assert f["error"].startswith(said) or said in f["error"]
    assert d["missing"] == []  # Setup said why: no agent evidence is asked for
    # the known causes a signature recognizes get their fix (no culprit: no agent is involved)
    assert [(f["kind"], f["culprit"]) for f in d["findings"]] == [(k, None) for k in KNOWN.get(name, [])]


def test_access_denied_asks_for_a_capture_of_exsetup(tmp_path, capsys) -> None:
    src = data_path("parsers", "exchangesetup", "cu_copy_denied_utc8.log")
    d = run(tmp_path, src)
    f = d["failures"][0]
    assert f["target"] == "Microsoft Exchange Server 2019 setup" and "is denied" in f["error"]
    procmon = next(m for m in d["missing"] if m["artifact"] == "procmon")
    assert "ExSetup.exe" in procmon["why"]
    assert main(["analyze", str(tmp_path / "bad")]) == 0
    out = capsys.readouterr().out
    assert "FAILED  Microsoft Exchange Server 2019 setup: Access to the path" in out


@pytest.mark.corpus
def test_report_quotes_the_reason_in_both_languages(tmp_path, capsys) -> None:
    logs = tmp_path / "bad" / "ExchangeSetupLogs"
    logs.mkdir(parents=True)
    src = corpus_path("other", "exchange_setup", "known_ExchangeSetup_MissingDirectory.log")
    (logs / "ExchangeSetup.log").write_bytes(src.read_bytes())
    reason = "Cannot find path 'C:\\Program Files\\Microsoft\\Exchange Server\\V15\\UnifiedMessaging"
    said_by_lang = (("en", "The log records why the install failed"), ("zh", "安装失败的原因已记录在日志中"))
    for lang, said in said_by_lang:
        assert main(["analyze", str(tmp_path / "bad"), "-f", "md", "--lang", lang]) == 0
        md = capsys.readouterr().out
        assert said in md and reason in md
        assert "what is missing is listed" not in md and "缺少的证据见" not in md


@pytest.mark.corpus
def test_a_known_cause_gets_its_fix_in_the_report(tmp_path, capsys) -> None:
    logs = tmp_path / "bad" / "ExchangeSetupLogs"
    logs.mkdir(parents=True)
    src = corpus_path("other", "exchange_setup", "prereq_ExchangeSetup_NoPerm.log")
    (logs / "ExchangeSetup.log").write_bytes(src.read_bytes())
    assert main(["analyze", str(tmp_path / "bad"), "-f", "md", "--lang", "zh"]) == 0
    md = capsys.readouterr().out
    assert "运行账户无权更新 AD 架构或组织" in md and "/PrepareSchema" in md
