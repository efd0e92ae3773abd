"""``Include=``/``Needs=`` in a driver INF: the sections it runs from another INF belong to the package, so
their service keys, files and AddReg keys join the allow-list when that INF is in the bundle; when it is not,
the allow-list says what is missing and the INF is asked for."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

from tests.conftest import analysis_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kb4474419-registry-denied"

MACHINE_INF = r"""[Version]
Signature="$WINDOWS NT$"
Class=System

[DestinationDirs]
DefaultDestDir = 12

[PCI_DRV_ROOT]
CopyFiles = PCI_DRV_COPY
AddReg = PCI_DRV_ADDREG

[PCI_DRV_COPY]
pci.sys

[PCI_DRV_ADDREG]
HKLM,"SYSTEM\CurrentControlSet\Control\PnP\PCI",DeviceResetDelay,0x00010001,100

[PCI_DRV_ROOT.Services]
AddService = pci,%SPSVCINST_ASSOCSERVICE%,pci_ServiceInstallSection

[pci_ServiceInstallSection]
ServiceType   = 1
StartType     = 0
ErrorControl  = 3
ServiceBinary = %12%\pci.sys

[UNRELATED_SECTION]
CopyFiles = UNRELATED_COPY

[UNRELATED_COPY]
unrelated.sys

[Strings]
SPSVCINST_ASSOCSERVICE = 0x00000002
"""


def bundle(tmp_path: Path, with_machine_inf: bool) -> list[Path]:
    for part in ("bad", "repro"):
        shutil.copytree(EXAMPLE / part, tmp_path / part)
    inf = tmp_path / "bad" / "Windows" / "inf" / "cpu.inf"
    text = inf.read_bytes().decode("utf-16")
    text = text.replace(
        "CopyFiles = AmdK8_CopyFiles\r\n",
        "CopyFiles = AmdK8_CopyFiles\r\nInclude = machine.inf\r\nNeeds = PCI_DRV_ROOT\r\n",
        1,
    )
    text = text.replace(
        "AddService = AmdK8,",
        "Include = machine.inf\r\nNeeds   = PCI_DRV_ROOT.Services\r\nAddService = AmdK8,",
        1,
    )
    inf.write_bytes(codecs.BOM_UTF16_LE + text.lstrip("\ufeff").encode("utf-16-le"))
    if with_machine_inf:
        (inf.parent / "machine.inf").write_bytes(MACHINE_INF.replace("\n", "\r\n").encode("ascii"))
    return [tmp_path / "bad", tmp_path / "repro"]


def run(paths: list[Path]) -> dict:
    return analysis_of(paths)


def allow_of(d: dict) -> dict:
    rules = d["findings"][0]["remediation"]["allow"]
    return next(r for r in rules if r["process"].lower().endswith("trustedinstaller.exe"))


def test_needed_sections_of_an_included_inf_join_the_allow_list(tmp_path: Path) -> None:
    d = run(bundle(tmp_path, with_machine_inf=True))
    assert d["findings"][0]["culprit"]["module"] == "krnlmgr.sys"  # the answer itself does not change
    rule = allow_of(d)
    keys = [k.lower() for k in rule["registry_keys"]]
    files = [f.lower() for f in rule["files"]]
    assert r"hklm\system\currentcontrolset\services\amdk8" in keys  # cpu.inf's own
    assert r"hklm\system\currentcontrolset\services\pci" in keys  # machine.inf [PCI_DRV_ROOT.Services]
    assert r"hklm\system\currentcontrolset\control\pnp\pci" in keys  # machine.inf [PCI_DRV_ROOT] AddReg
    assert r"c:\windows\system32\drivers\pci.sys" in files
    assert not any("unrelated.sys" in f for f in files)  # a section nobody needs
    assert not rule.get("note")
    assert "machine.inf" not in str(d["missing"])


def test_an_included_inf_missing_from_the_bundle_is_named_and_asked_for(tmp_path: Path) -> None:
    d = run(bundle(tmp_path, with_machine_inf=False))
    rule = allow_of(d)
    assert rule["note"] == (
        "plus what the included sections install (machine.inf [pci_drv_root, pci_drv_root.services]): "
        "those INFs are not in the bundle"
    )
    assert "machine.inf" in rule["note_zh"]
    req = [m for m in d["missing"] if m["artifact"] == "inf"]
    assert len(req) == 1 and r"C:\Windows\INF\machine.inf" in req[0]["how"]
