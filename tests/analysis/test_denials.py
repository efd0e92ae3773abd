"""The generic denial pass on captures built with the project's PML writer: a product-agnostic
third-party driver denying an installer's write is named from the stack; a denial without a
third-party frame names nobody."""

from __future__ import annotations

from pathlib import Path

from culprit import pipeline
from culprit.analysis import analyze
from culprit.parsers.procmon.writer import Module, PmlWriter

KERNEL = 0xFFFFF80000000000
GUARD = 0xFFFFF80010000000
KEY = r"HKLM\SOFTWARE\Contoso\Widget"

MSI = (
    "=== Verbose logging started: 5/2/2024  9:14:02  Build type: SHIP UNICODE 5.00.10011.00  Calling process: "
    "C:\\Windows\\system32\\msiexec.exe ===\r\n"
    "MSI (s) (B0:C4) [09:14:05:101]: Note: 1: 1402 2: " + KEY + " 3: 5 \r\n"
    "MSI (s) (B0:C4) [09:14:05:300]: Product: Contoso Widget -- Error 1402. Could not open key: " + KEY + ".\r\n"
    "MSI (s) (B0:C4) [09:14:06:000]: Windows Installer installed the product. Product Name: Contoso Widget. "
    "Product Version: 2.1.0. Product Language: 1033. Manufacturer: Contoso. Installation success or error status: 1603.\r\n"
    "MSI (s) (B0:C4) [09:14:06:001]: MainEngineThread is returning 1603\r\n"
)


def _bundle(tmp_path: Path, third_party_frame: bool) -> Path:
    root = tmp_path / ("bundle-tp" if third_party_frame else "bundle-ms")
    (root / "procmon").mkdir(parents=True)
    (root / "Windows" / "Temp").mkdir(parents=True)
    (root / "Windows" / "Temp" / "MSI1a2b3.LOG").write_bytes(b"\xff\xfe" + MSI.encode("utf-16-le"))
    w = PmlWriter()
    w.add_process(4, "System", modules=[
        Module(KERNEL, 0x800000, r"C:\Windows\system32\ntoskrnl.exe", "10.0", "Microsoft Corporation", "NT Kernel"),
        Module(GUARD, 0x40000, r"C:\Windows\system32\drivers\acmeguard.sys", "4.2", "Acme Endpoint Ltd", "Acme Guard"),
    ])
    msi = w.add_process(7344, "msiexec.exe", image_path=r"C:\Windows\System32\msiexec.exe", parent_pid=656,
                        company="Microsoft Corporation")
    stack = [KERNEL + 0x1000, (GUARD if third_party_frame else KERNEL) + 0x2345, KERNEL + 0x3000]
    w.add_event(msi, "RegCreateKey", KEY, result="ACCESS DENIED", desired_access=0x2001F, stack=stack)
    w.add_event(msi, "RegSetValue", KEY + r"\InstallDir", result="ACCESS DENIED", type="REG_SZ", data="C:\\W", stack=stack)
    w.write(root / "procmon" / "install.pml")
    return root


def test_third_party_frame_names_the_driver(tmp_path: Path) -> None:
    with pipeline.load([_bundle(tmp_path, True)]) as ws:
        d = analyze(ws).to_dict()
    assert d["failures"][0]["target"] == "Contoso Widget" and d["failures"][0]["code"] == "1603"
    f = d["findings"][0]
    assert f["kind"] == "registry-write-denied"
    assert f["culprit"]["module"] == "acmeguard.sys" and f["culprit"]["role"] == "kernel-driver"
    assert f["culprit"]["vendor"] == "Acme Endpoint Ltd" or f["culprit"].get("company") == "Acme Endpoint Ltd"
    allow = f["remediation"]["allow"][0]
    assert allow["process"] == r"C:\Windows\System32\msiexec.exe"
    assert KEY in allow["registry_keys"]
    assert f["confidence"] >= 0.9  # the installer's own log names the same key


def test_no_third_party_frame_no_culprit(tmp_path: Path) -> None:
    with pipeline.load([_bundle(tmp_path, False)]) as ws:
        d = analyze(ws).to_dict()
    assert all(f["culprit"] is None for f in d["findings"])
