"""Process Monitor captures (PML) of the generalization case bundles under ``tests/data/cases``.

The captures are written only with the project's writer (:class:`culprit.parsers.procmon.writer.PmlWriter`);
every process, module, stack and event below is chosen by us to match the case's logs (times are UTC,
the logs' local times minus the machine's offset). The committed ``.pml`` files are this module's output:
regenerate them with ``.venv/bin/python -m tests.casebuilder`` after changing a builder (the tests check
that the committed bytes are what the builders produce).

Format: PML version 9 (``shared/docs/formats.md`` §7.1). On Windows Procmon saves captures wherever the
user chooses; boot-time captures are converted to ``Bootlog.pml`` by default.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from culprit.parsers.procmon.writer import Module, PmlWriter

CASES = Path(__file__).resolve().parent / "data" / "cases"

# Kernel image layout shared by the captures (addresses inside these ranges resolve to the module).
NTOS = 0xFFFFF80560000000
FLTMGR = 0xFFFFF80563A00000
FILEINFO = 0xFFFFF80563C00000
THIRD = 0xFFFFF80566200000  # the case's third-party driver

GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
READ_ATTRIBUTES = 0x80
SYNCHRONIZE = 0x100000
KEY_READ = 0x20019
KEY_WRITE_CREATE = 0x2001F  # Query Value, Set Value, Create Sub Key, Enumerate, Notify, Read Control

MS = "Microsoft Corporation"


def _kernel(third: Module | None, build: str) -> list[Module]:
    mods = [
        Module(NTOS, 0x1046000, r"C:\Windows\system32\ntoskrnl.exe", build, MS, "NT Kernel & System"),
        Module(FLTMGR, 0x7B000, r"C:\Windows\System32\drivers\FLTMGR.SYS", build, MS,
               "Microsoft Filesystem Filter Manager"),
        Module(FILEINFO, 0x1A000, r"C:\Windows\System32\drivers\fileinfo.sys", build, MS,
               "FileInfo Filter Driver"),
    ]
    if third is not None:
        mods.append(third)
    return mods


def _user(build: str, wow64: bool = False) -> list[Module]:
    sysdir = r"C:\Windows\SysWOW64" if wow64 else r"C:\Windows\System32"
    base = 0x77000000 if wow64 else 0x7FFC1A000000
    return [
        Module(base, 0x1F8000, sysdir + r"\ntdll.dll", build, MS, "NT Layer DLL"),
        Module(base + 0x400000, 0xBF000, sysdir + r"\kernel32.dll", build, MS, "Windows NT BASE API Client DLL"),
        Module(base + 0x800000, 0x2CE000, sysdir + r"\KernelBase.dll", build, MS, "Windows NT BASE API Client DLL"),
    ]


def _fs_stack(third_offset: int | None) -> list[int]:
    """A file-system IRP stack: ntoskrnl → FltMgr → (third-party minifilter) → FltMgr → ntoskrnl."""
    frames = [FLTMGR + 0x3F1B, FLTMGR + 0x6A2C]
    if third_offset is not None:
        frames += [THIRD + third_offset, THIRD + 0x1B44]
    frames += [FLTMGR + 0x2E36, NTOS + 0x3E3B45, NTOS + 0x6F2A11, NTOS + 0x6F1C20, NTOS + 0x40F8B5]
    return frames


def _reg_stack(third_offset: int | None) -> list[int]:
    """A registry call stack: ntoskrnl's CmpCallCallBacks → (third-party registry callback) → ntoskrnl."""
    frames = [NTOS + 0x7A1C30, NTOS + 0x7A15E2]
    if third_offset is not None:
        frames += [THIRD + third_offset, THIRD + 0x2A10]
    frames += [NTOS + 0x6D8E41, NTOS + 0x6D6B12, NTOS + 0x40F8B5]
    return frames


# --- lcu-storage-copy-denied-csagent ---------------------------------------------------------------------------

def lcu_storage_copy_denied_csagent() -> dict[str, PmlWriter]:
    """Boot-logging capture on FIN-LT-2291 (Windows 10 22H2, UTC-4): TiWorker.exe is denied opening
    ``drivers\\fbstor.sys`` for writing; CrowdStrike's csagent.sys minifilter is on the stack."""
    build = "10.0.19041.3570"
    t0 = datetime(2023, 10, 11, 6, 13, 58, 900000, tzinfo=UTC)
    w = PmlWriter(computer="FIN-LT-2291", os_version=(10, 0, 19045))
    cs = Module(THIRD, 0x36A000, r"C:\Windows\System32\drivers\CrowdStrike\csagent.sys", "7.4.17302.0",
                "CrowdStrike, Inc.", "CrowdStrike Falcon")
    w.add_process(4, "System", image_path="System", modules=_kernel(cs, build), start=t0 - timedelta(minutes=3))
    svc = w.add_process(884, "svchost.exe", image_path=r"C:\Windows\system32\svchost.exe",
                        command_line=r"C:\Windows\system32\svchost.exe -k DcomLaunch -p", parent_pid=676,
                        company=MS, version=build, description="Host Process for Windows Services",
                        start=t0 - timedelta(minutes=2))
    falcon = w.add_process(3028, "CSFalconService.exe", image_path=r"C:\Program Files\CrowdStrike\CSFalconService.exe",
                           command_line=r'"C:\Program Files\CrowdStrike\CSFalconService.exe"', parent_pid=676,
                           company="CrowdStrike, Inc.", version="7.4.17302.0", description="CrowdStrike Falcon Sensor Service",
                           start=t0 - timedelta(minutes=2))
    ti_dir = (r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3562"
              r"_none_7e0f6a3f2c4d9b11")
    ti = w.add_process(3412, "TiWorker.exe", image_path=ti_dir + r"\TiWorker.exe",
                       command_line=ti_dir + r"\TiWorker.exe -Embedding", parent_pid=884, company=MS,
                       version="10.0.19041.3562", description="Windows Modules Installer Worker",
                       start=t0, modules=_user(build))
    repo = r"C:\Windows\System32\DriverStore\FileRepository\fbstor.inf_amd64_3c1b2f0a9d8e7c65"
    t = t0
    step = timedelta(milliseconds=7)

    def ev(proc: int, op: str, path: str = "", **kw: object) -> int:
        nonlocal t
        t += step
        return w.add_event(proc, op, path, time=t, **kw)

    ev(svc, "Process Create", ti_dir + r"\TiWorker.exe", pid=3412, command_line=ti_dir + r"\TiWorker.exe -Embedding",
       tid=1020)
    ev(ti, "Process Start", parent_pid=884, command_line=ti_dir + r"\TiWorker.exe -Embedding",
       current_directory="C:\\Windows\\system32\\", tid=3416)
    ev(ti, "Thread Create", thread_id=3416, tid=1020)
    ev(ti, "Load Image", ti_dir + r"\TiWorker.exe", image_base=0x7FF6C1B70000, image_size=0x3A000, tid=3416)
    ev(ti, "Load Image", r"C:\Windows\System32\ntdll.dll", image_base=0x7FFC1A000000, image_size=0x1F8000, tid=3416)
    ev(ti, "Load Image", r"C:\Windows\System32\kernel32.dll", image_base=0x7FFC1A400000, image_size=0xBF000, tid=3416)
    ev(ti, "Load Image", r"C:\Windows\System32\KernelBase.dll", image_base=0x7FFC1A800000, image_size=0x2CE000,
       tid=3416)
    ev(falcon, "RegQueryValue", r"HKLM\System\CurrentControlSet\Services\CSAgent\Sim\AG", result="SUCCESS",
       type="REG_BINARY", data=b"\x00" * 16, tid=3100)
    ev(ti, "RegOpenKey", r"HKLM\System\CurrentControlSet\Services\fbstor", desired_access=KEY_READ, tid=3480)
    ev(ti, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services\fbstor", tid=3480)
    ev(ti, "CreateFile", repo + r"\fbstor.inf", desired_access=GENERIC_READ, disposition="Open", tid=3480,
       stack=_fs_stack(None))
    ev(ti, "CloseFile", repo + r"\fbstor.inf", tid=3480)
    t += timedelta(seconds=1, milliseconds=950)
    ev(ti, "CreateFile", repo + r"\fbstor.sys", desired_access=GENERIC_READ, disposition="Open", tid=3480,
       stack=_fs_stack(None))
    ev(ti, "ReadFile", repo + r"\fbstor.sys", offset=0, length=65536, tid=3480)
    ev(ti, "CreateFile", r"C:\Windows\System32\drivers\fbstor.sys",
       desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE, disposition="OverwriteIf",
       result="ACCESS DENIED", tid=3480, stack=_fs_stack(0x5D2E8))
    ev(ti, "CloseFile", repo + r"\fbstor.sys", tid=3480)
    ev(ti, "RegOpenKey", r"HKLM\System\CurrentControlSet\Services\fbstorflt", desired_access=KEY_READ, tid=3480)
    ev(ti, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services\fbstorflt", tid=3480)
    return {"bad/procmon/Bootlog.pml": w}


# --- msi-1402-print-monitor-hlprotect-zh ------------------------------------------------------------------------

def msi_1402_print_monitor_hlprotect_zh() -> dict[str, PmlWriter]:
    """Capture on SH-PRN-WS-118 (Windows 11 23H2 zh-CN, UTC+8) of ``msiexec /i FabrikamPrintAgent-5.2.1.30-x64.msi
    /qn``: the server msiexec.exe is denied creating the print monitor key; hlprotect.sys's registry
    callback is on the stack."""
    build = "10.0.22621.5039"
    t0 = datetime(2025, 3, 18, 6, 20, 11, 440000, tzinfo=UTC)
    w = PmlWriter(computer="SH-PRN-WS-118", os_version=(10, 0, 22631))
    hl = Module(THIRD, 0x136000, r"C:\Windows\system32\drivers\hlprotect.sys", "4.6.2.0", "HarfangLab",
                "HarfangLab Protect")
    w.add_process(4, "System", image_path="System", modules=_kernel(hl, build), start=t0 - timedelta(hours=2))
    agent = w.add_process(3344, "hurukai.exe", image_path=r"C:\Program Files\HarfangLab\hurukai.exe",
                          command_line=r'"C:\Program Files\HarfangLab\hurukai.exe"', parent_pid=1012,
                          company="HarfangLab", version="4.6.2", description="HarfangLab Hurukai agent",
                          start=t0 - timedelta(hours=2))
    client = w.add_process(6956, "msiexec.exe", image_path=r"C:\WINDOWS\system32\msiexec.exe",
                           command_line=r'msiexec  /i C:\Deploy\FabrikamPrintAgent-5.2.1.30-x64.msi /qn',
                           parent_pid=5120, company=MS, version="5.0.22621.3672", description="Windows® installer",
                           user="SH-PRN-WS-118\\运维", integrity="High", start=t0, modules=_user(build))
    server = w.add_process(4596, "msiexec.exe", image_path=r"C:\WINDOWS\system32\msiexec.exe",
                           command_line=r"C:\WINDOWS\system32\msiexec.exe /V", parent_pid=1012, company=MS,
                           version="5.0.22621.3672", description="Windows® installer",
                           start=t0 - timedelta(seconds=40), modules=_user(build))
    t = t0

    def ev(proc: int, op: str, path: str = "", at: float | None = None, **kw: object) -> int:
        nonlocal t
        t = t0 + timedelta(seconds=at) if at is not None else t + timedelta(milliseconds=3)
        return w.add_event(proc, op, path, time=t, **kw)

    sw = r"HKLM\SOFTWARE\Fabrikam\Print Agent"
    mon = r"HKLM\System\CurrentControlSet\Control\Print\Monitors"
    ev(client, "CreateFile", r"C:\Deploy\FabrikamPrintAgent-5.2.1.30-x64.msi", desired_access=GENERIC_READ,
       disposition="Open", tid=7012)
    ev(client, "CloseFile", r"C:\Deploy\FabrikamPrintAgent-5.2.1.30-x64.msi", tid=7012)
    ev(server, "CreateFile", r"C:\Windows\system32\fbpmon.dll", at=0.955,
       desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE, disposition="OverwriteIf", tid=4824,
       open_result="Created", stack=_fs_stack(0x41A2C))
    ev(server, "WriteFile", r"C:\Windows\system32\fbpmon.dll", offset=0, length=412672, tid=4824)
    ev(server, "CloseFile", r"C:\Windows\system32\fbpmon.dll", tid=4824)
    ev(server, "RegCreateKey", sw, at=1.109, desired_access=KEY_WRITE_CREATE, disposition="REG_CREATED_NEW_KEY",
       tid=4824)
    ev(server, "RegSetValue", sw + r"\InstallDir", type="REG_SZ", data="C:\\Program Files\\Fabrikam\\Print Agent\\",
       tid=4824)
    ev(server, "RegSetValue", sw + r"\Version", type="REG_SZ", data="5.2.1.30", tid=4824)
    ev(server, "RegCloseKey", sw, tid=4824)
    ev(server, "RegOpenKey", mon, desired_access=KEY_READ, tid=4824)
    ev(server, "RegCreateKey", mon + r"\Fabrikam Port Monitor", at=1.152, desired_access=KEY_WRITE_CREATE,
       result="ACCESS DENIED", tid=4824, stack=_reg_stack(0x1C3F0))
    ev(server, "RegCloseKey", mon, tid=4824)
    ev(agent, "RegQueryValue", r"HKLM\System\CurrentControlSet\Services\hlprotect\Parameters\PolicyVersion",
       type="REG_DWORD", data=118, tid=3420)
    ev(server, "RegOpenKey", sw, at=2.221, desired_access=KEY_WRITE_CREATE, tid=4824)
    ev(server, "RegDeleteValue", sw + r"\Version", tid=4824)
    ev(server, "RegDeleteValue", sw + r"\InstallDir", tid=4824)
    ev(server, "RegCloseKey", sw, tid=4824)
    return {"bad/procmon/print_agent_install.pml": w}


BUILDERS: dict[str, Callable[[], dict[str, PmlWriter]]] = {
    "lcu-storage-copy-denied-csagent": lcu_storage_copy_denied_csagent,
    "msi-1402-print-monitor-hlprotect-zh": msi_1402_print_monitor_hlprotect_zh,
}


def build(case: str) -> dict[str, bytes]:
    """The PML files of one case: bundle-relative path → bytes."""
    return {rel: w.to_bytes() for rel, w in BUILDERS[case]().items()}


def write_all(root: Path = CASES) -> list[Path]:
    """Write every case's captures under ``root`` and return their paths."""
    out = []
    for case in BUILDERS:
        for rel, data in build(case).items():
            p = root / case / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            out.append(p)
    return out


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else CASES):
        print(p, p.stat().st_size)
