"""Root-cause signatures: run-specific bits removed, the problem's names kept."""

from __future__ import annotations

import copy
import hashlib

import pytest

from culprit.fleet.signature import NO_FAILURE, allow_pattern, normalize, signature_of
from culprit.model import Analysis


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        (
            r"C:\Program Files (x86)\Microsoft\Temp\EU5A1C.tmp\MicrosoftEdgeUpdate.exe",
            r"c:\program files (x86)\microsoft\temp\eu*.tmp\microsoftedgeupdate.exe",
        ),
        (
            r"C:\Program Files (x86)\Microsoft\EdgeUpdate\Install\{3372D205-E08C-4B32-08A8-8F554F38C599}"
            r"\MicrosoftEdge_X64_102.0.1245.39.exe",
            r"c:\program files (x86)\microsoft\edgeupdate\install\{*}\microsoftedge_x64_*.exe",
        ),
        (
            r"C:\Program Files (x86)\Microsoft\EdgeUpdate\1.3.163.19"
            r"\MicrosoftEdgeUpdateComRegisterShell64.exe",
            r"c:\program files (x86)\microsoft\edgeupdate\*\microsoftedgeupdatecomregistershell64.exe",
        ),
        (
            "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\AmdK8\\",
            r"hklm\system\currentcontrolset\services\amdk8",
        ),
        (
            r"\REGISTRY\MACHINE\SYSTEM\ControlSet002\Services\intelppm",
            r"hklm\system\currentcontrolset\services\intelppm",
        ),
        (
            r"\REGISTRY\USER\S-1-5-21-1004336348-1177238915-682003330-1001\Software\X",
            r"hku\s-1-5-21-*\software\x",
        ),
        (r"C:\Users\zhang.wei\AppData\Local\Temp\MSI8F3A.tmp", r"c:\users\*\appdata\local\temp\msi*.tmp"),
        (r"C:\x\EDGEMITMP_C41A2.tmp\setup.exe", r"c:\x\edgemitmp_*.tmp\setup.exe"),
        (r"C:\Windows\Installer\MSI*.tmp", r"c:\windows\installer\msi*.tmp"),
        (r"C:/Windows/System32/drivers/AmdK8.sys", r"c:\windows\system32\drivers\amdk8.sys"),
        (r"C:\x\backup.tmp", r"c:\x\backup.tmp"),  # no digit: a real name, kept
    ],
)
def test_normalize(raw: str, norm: str) -> None:
    assert normalize(raw) == norm


def _analysis(
    key: str = r"HKLM\SYSTEM\CurrentControlSet\Services\AmdK8",
    culprit: str = "krnlmgr.sys",
    temp: str = "EU5A1C",
    code: str = "0x80070005",
) -> dict:
    return {
        "schema": "culprit.analysis/1",
        "failures": [{"target": "KB4474419", "code": code, "symbol": "E_ACCESSDENIED"}],
        "findings": [
            {
                "kind": "registry-write-denied",
                "confidence": 0.9,
                "culprit": {"module": culprit, "product": "TMS", "role": "kernel-driver"},
                "remediation": {
                    "allow": [
                        {
                            "process": r"C:\Windows\servicing\TrustedInstaller.exe",
                            "registry_keys": [key],
                            "files": [r"C:\Windows\System32\drivers\amdk8.sys"],
                        },
                        {
                            "process": rf"C:\Program Files (x86)\Microsoft\Temp\{temp}.tmp"
                            r"\MicrosoftEdgeUpdate.exe",
                            "no_injection": True,
                        },
                    ]
                },
            }
        ],
    }


def test_signature_full_values() -> None:
    sig = signature_of(_analysis())
    text = (
        "kb4474419|0x80070005|registry-write-denied|krnlmgr.sys|"
        r"file:c:\windows\system32\drivers\amdk8.sys;key:hklm\system\currentcontrolset\services\amdk8;"
        r"noinject:c:\program files (x86)\microsoft\temp\eu*.tmp\microsoftedgeupdate.exe;"
        r"proc:c:\windows\servicing\trustedinstaller.exe"
    )
    assert sig.text == text
    assert sig.id == "s-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    assert (sig.outcome, sig.target, sig.code, sig.kind, sig.culprit) == (
        "explained",
        "KB4474419",
        "0x80070005",
        "registry-write-denied",
        "krnlmgr.sys",
    )


def test_run_specific_bits_do_not_split_a_cluster() -> None:
    a = signature_of(_analysis())
    b = signature_of(_analysis(key=r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\amdk8", temp="EU9F00"))
    assert a.id == b.id
    # reordered allow rules, changed confidence and titles: same problem
    c = _analysis()
    c["findings"][0]["remediation"]["allow"].reverse()
    c["findings"][0]["confidence"] = 0.5
    c["findings"][0]["title"] = "Likely: something"
    assert signature_of(c).id == a.id


def test_problem_names_split_clusters() -> None:
    base = signature_of(_analysis()).id
    assert signature_of(_analysis(key=r"HKLM\SYSTEM\CurrentControlSet\Services\intelppm")).id != base
    assert signature_of(_analysis(culprit="other.sys")).id != base
    assert signature_of(_analysis(code="0x80070002")).id != base


def test_unresolved_and_clean() -> None:
    d = _analysis()
    f = d.pop("findings")[0]
    d["unresolved"] = [{"kind": "registry-write-denied", "remediation": f["remediation"]}]
    sig = signature_of(d)
    assert sig.outcome == "unexplained" and sig.culprit == "" and sig.kind == "registry-write-denied"
    assert sig.text.startswith("kb4474419|0x80070005|registry-write-denied||file:")
    bare = {"failures": [{"target": "KB1", "code": "0x80070643"}], "findings": []}
    assert signature_of(bare).text == "kb1|0x80070643|||"
    clean = signature_of(Analysis(bundle="b", artifacts=()))
    assert (clean.text, clean.outcome) == (NO_FAILURE, NO_FAILURE)


def test_allow_pattern_prefers_the_analysis_pattern() -> None:
    rules = [
        {
            "process": r"C:\Windows\Installer\MSI8F3A.tmp",
            "pattern": r"C:\Windows\Installer\MSI*.tmp",
            "no_injection": True,
        },
        copy.deepcopy({"process": r"C:\A\b.exe"}),
    ]
    assert allow_pattern(rules) == [r"noinject:c:\windows\installer\msi*.tmp", r"proc:c:\a\b.exe"]
