"""A file held open by an agent's process makes the installer's open fail with SHARING VIOLATION."""

from __future__ import annotations

from pathlib import Path

from culprit import pipeline
from culprit.analysis import analyze
from culprit.parsers.procmon.writer import Module, PmlWriter

TARGET = r"C:\Windows\System32\drivers\fbnet.sys"
CBS = (
    "2024-05-02 10:00:00, Info                  CBS    Starting TrustedInstaller initialization.\r\n"
    "2024-05-02 10:05:00, Error                 CBS    Failed to install file: " + TARGET.replace("\\", "\\\\") +
    " [HRESULT = 0x80070020 - ERROR_SHARING_VIOLATION]\r\n"
    "2024-05-02 10:05:01, Info                  CBS    Exec: Processing complete.  Session: 31090000_1234567890, "
    "Package: Package_for_KB5036000~31bf3856ad364e35~amd64~~10.0.1.2 [HRESULT = 0x80070020 - ERROR_SHARING_VIOLATION]\r\n"
)


def _bundle(tmp_path: Path, closed: bool) -> Path:
    root = tmp_path / ("closed" if closed else "held")
    (root / "Windows" / "Logs" / "CBS").mkdir(parents=True)
    (root / "Windows" / "Logs" / "CBS" / "CBS.log").write_text(CBS, encoding="ascii", newline="")
    (root / "procmon").mkdir()
    w = PmlWriter()
    w.add_process(4, "System", modules=[Module(0xFFFFF80000000000, 0x800000, r"C:\Windows\system32\ntoskrnl.exe",
                                               "10.0", "Microsoft Corporation", "NT Kernel")])
    agent = w.add_process(2210, "AcmeWatch.exe", image_path=r"C:\Program Files\Acme\AcmeWatch.exe", parent_pid=656,
                          company="Acme Endpoint Ltd")
    ti = w.add_process(4312, "TiWorker.exe", image_path=r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_"
                       r"31bf3856ad364e35_10.0.19041.3995_none_7e3c3f0b2a1b4c5d\TiWorker.exe", parent_pid=800,
                       company="Microsoft Corporation")
    w.add_event(agent, "CreateFile", TARGET, result="SUCCESS", desired_access=0x80000000, share_mode=0)
    if closed:
        w.add_event(agent, "CloseFile", TARGET)
    w.add_event(ti, "CreateFile", TARGET, result="SHARING VIOLATION", desired_access=0x40000000)
    w.write(root / "procmon" / "lcu.pml")
    return root


def test_holder_named(tmp_path: Path) -> None:
    with pipeline.load([_bundle(tmp_path, closed=False)], utc_offset=0) as ws:
        d = analyze(ws).to_dict()
    f = d["findings"][0]
    assert f["kind"] == "file-locked"
    assert f["culprit"]["module"] == "AcmeWatch.exe" and f["culprit"]["role"] == "service"
    assert f["culprit"]["pid"] == 2210
    assert f["remediation"]["allow"][0]["files"] == [TARGET]
    assert f["title_zh"]


def test_closed_file_blames_nobody(tmp_path: Path) -> None:
    with pipeline.load([_bundle(tmp_path, closed=True)], utc_offset=0) as ws:
        d = analyze(ws).to_dict()
    assert all(f["culprit"] is None for f in d["findings"])
