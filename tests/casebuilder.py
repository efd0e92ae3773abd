"""Process Monitor captures (PML) of the generalization case bundles under ``tests/data/cases``.

The captures are written only with the project's writer (:class:`culprit.parsers.procmon.writer.PmlWriter`);
every process, module, stack and event below is chosen by us to match the case's logs (times are UTC,
the logs' local times minus the machine's offset). The committed ``.pml`` files are this module's output:
regenerate them with ``.venv/bin/python -m tests.casebuilder`` after changing a builder (the tests check
that the committed bytes are what the builders produce). Cases delivered as one zip (``ZIP_BUNDLES``) are
not committed as binaries: :func:`build_zip_bundle` packs ``<case>/bundle/`` (CbsPersist logs into nested
cabinets) and their captures into a zip at test time. One committed binary is not a capture: the LZX
``CbsPersist_*.cab`` of the damaged-bundle case, written by :func:`lzx_cab` (a :class:`Blob` in its builder).

Format: PML version 9 (``shared/docs/formats.md`` §7.1). On Windows Procmon saves captures wherever the
user chooses; boot-time captures are converted to ``Bootlog.pml`` by default.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
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
        Module(
            FLTMGR,
            0x7B000,
            r"C:\Windows\System32\drivers\FLTMGR.SYS",
            build,
            MS,
            "Microsoft Filesystem Filter Manager",
        ),
        Module(
            FILEINFO,
            0x1A000,
            r"C:\Windows\System32\drivers\fileinfo.sys",
            build,
            MS,
            "FileInfo Filter Driver",
        ),
    ]
    if third is not None:
        mods.append(third)
    return mods


def _user(build: str, wow64: bool = False) -> list[Module]:
    sysdir = r"C:\Windows\SysWOW64" if wow64 else r"C:\Windows\System32"
    base = 0x77000000 if wow64 else 0x7FFC1A000000
    return [
        Module(base, 0x1F8000, sysdir + r"\ntdll.dll", build, MS, "NT Layer DLL"),
        Module(
            base + 0x400000, 0xBF000, sysdir + r"\kernel32.dll", build, MS, "Windows NT BASE API Client DLL"
        ),
        Module(
            base + 0x800000,
            0x2CE000,
            sysdir + r"\KernelBase.dll",
            build,
            MS,
            "Windows NT BASE API Client DLL",
        ),
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


# --- lcu-storage-copy-denied-csagent ------------------------------------------------------------------------


def lcu_storage_copy_denied_csagent() -> dict[str, PmlWriter]:
    """Boot-logging capture on FIN-LT-2291 (Windows 10 22H2, UTC-4): TiWorker.exe is denied opening
    ``drivers\\fbstor.sys`` for writing; CrowdStrike's csagent.sys minifilter is on the stack."""
    build = "10.0.19041.3570"
    t0 = datetime(2023, 10, 11, 6, 13, 58, 900000, tzinfo=UTC)
    w = PmlWriter(computer="FIN-LT-2291", os_version=(10, 0, 19045))
    cs = Module(
        THIRD,
        0x36A000,
        r"C:\Windows\System32\drivers\CrowdStrike\csagent.sys",
        "7.4.17302.0",
        "CrowdStrike, Inc.",
        "CrowdStrike Falcon",
    )
    w.add_process(
        4, "System", image_path="System", modules=_kernel(cs, build), start=t0 - timedelta(minutes=3)
    )
    svc = w.add_process(
        884,
        "svchost.exe",
        image_path=r"C:\Windows\system32\svchost.exe",
        command_line=r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
        parent_pid=676,
        company=MS,
        version=build,
        description="Host Process for Windows Services",
        start=t0 - timedelta(minutes=2),
    )
    falcon = w.add_process(
        3028,
        "CSFalconService.exe",
        image_path=r"C:\Program Files\CrowdStrike\CSFalconService.exe",
        command_line=r'"C:\Program Files\CrowdStrike\CSFalconService.exe"',
        parent_pid=676,
        company="CrowdStrike, Inc.",
        version="7.4.17302.0",
        description="CrowdStrike Falcon Sensor Service",
        start=t0 - timedelta(minutes=2),
    )
    ti_dir = (
        r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.3562"
        r"_none_7e0f6a3f2c4d9b11"
    )
    ti = w.add_process(
        3412,
        "TiWorker.exe",
        image_path=ti_dir + r"\TiWorker.exe",
        command_line=ti_dir + r"\TiWorker.exe -Embedding",
        parent_pid=884,
        company=MS,
        version="10.0.19041.3562",
        description="Windows Modules Installer Worker",
        start=t0,
        modules=_user(build),
    )
    repo = r"C:\Windows\System32\DriverStore\FileRepository\fbstor.inf_amd64_3c1b2f0a9d8e7c65"
    t = t0
    step = timedelta(milliseconds=7)

    def ev(proc: int, op: str, path: str = "", **kw: object) -> int:
        nonlocal t
        t += step
        return w.add_event(proc, op, path, time=t, **kw)

    ev(
        svc,
        "Process Create",
        ti_dir + r"\TiWorker.exe",
        pid=3412,
        command_line=ti_dir + r"\TiWorker.exe -Embedding",
        tid=1020,
    )
    ev(
        ti,
        "Process Start",
        parent_pid=884,
        command_line=ti_dir + r"\TiWorker.exe -Embedding",
        current_directory="C:\\Windows\\system32\\",
        tid=3416,
    )
    ev(ti, "Thread Create", thread_id=3416, tid=1020)
    ev(ti, "Load Image", ti_dir + r"\TiWorker.exe", image_base=0x7FF6C1B70000, image_size=0x3A000, tid=3416)
    ev(
        ti,
        "Load Image",
        r"C:\Windows\System32\ntdll.dll",
        image_base=0x7FFC1A000000,
        image_size=0x1F8000,
        tid=3416,
    )
    ev(
        ti,
        "Load Image",
        r"C:\Windows\System32\kernel32.dll",
        image_base=0x7FFC1A400000,
        image_size=0xBF000,
        tid=3416,
    )
    ev(
        ti,
        "Load Image",
        r"C:\Windows\System32\KernelBase.dll",
        image_base=0x7FFC1A800000,
        image_size=0x2CE000,
        tid=3416,
    )
    ev(
        falcon,
        "RegQueryValue",
        r"HKLM\System\CurrentControlSet\Services\CSAgent\Sim\AG",
        result="SUCCESS",
        type="REG_BINARY",
        data=b"\x00" * 16,
        tid=3100,
    )
    ev(ti, "RegOpenKey", r"HKLM\System\CurrentControlSet\Services\fbstor", desired_access=KEY_READ, tid=3480)
    ev(ti, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services\fbstor", tid=3480)
    ev(
        ti,
        "CreateFile",
        repo + r"\fbstor.inf",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=3480,
        stack=_fs_stack(None),
    )
    ev(ti, "CloseFile", repo + r"\fbstor.inf", tid=3480)
    t += timedelta(seconds=1, milliseconds=950)
    ev(
        ti,
        "CreateFile",
        repo + r"\fbstor.sys",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=3480,
        stack=_fs_stack(None),
    )
    ev(ti, "ReadFile", repo + r"\fbstor.sys", offset=0, length=65536, tid=3480)
    ev(
        ti,
        "CreateFile",
        r"C:\Windows\System32\drivers\fbstor.sys",
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        result="ACCESS DENIED",
        tid=3480,
        stack=_fs_stack(0x5D2E8),
    )
    ev(ti, "CloseFile", repo + r"\fbstor.sys", tid=3480)
    ev(
        ti,
        "RegOpenKey",
        r"HKLM\System\CurrentControlSet\Services\fbstorflt",
        desired_access=KEY_READ,
        tid=3480,
    )
    ev(ti, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services\fbstorflt", tid=3480)
    return {"bad/procmon/Bootlog.pml": w}


# --- msi-1402-print-monitor-hlprotect-zh --------------------------------------------------------------------


def msi_1402_print_monitor_hlprotect_zh() -> dict[str, PmlWriter]:
    """Capture on SH-PRN-WS-118 (Windows 11 23H2 zh-CN, UTC+8) of
    ``msiexec /i FabrikamPrintAgent-5.2.1.30-x64.msi
    /qn``: the server msiexec.exe is denied creating the print monitor key; hlprotect.sys's registry
    callback is on the stack."""
    build = "10.0.22621.5039"
    t0 = datetime(2025, 3, 18, 6, 20, 11, 440000, tzinfo=UTC)
    w = PmlWriter(computer="SH-PRN-WS-118", os_version=(10, 0, 22631))
    hl = Module(
        THIRD,
        0x136000,
        r"C:\Windows\system32\drivers\hlprotect.sys",
        "4.6.2.0",
        "HarfangLab",
        "HarfangLab Protect",
    )
    w.add_process(4, "System", image_path="System", modules=_kernel(hl, build), start=t0 - timedelta(hours=2))
    agent = w.add_process(
        3344,
        "hurukai.exe",
        image_path=r"C:\Program Files\HarfangLab\hurukai.exe",
        command_line=r'"C:\Program Files\HarfangLab\hurukai.exe"',
        parent_pid=1012,
        company="HarfangLab",
        version="4.6.2",
        description="HarfangLab Hurukai agent",
        start=t0 - timedelta(hours=2),
    )
    client = w.add_process(
        6956,
        "msiexec.exe",
        image_path=r"C:\WINDOWS\system32\msiexec.exe",
        command_line=r"msiexec  /i C:\Deploy\FabrikamPrintAgent-5.2.1.30-x64.msi /qn",
        parent_pid=5120,
        company=MS,
        version="5.0.22621.3672",
        description="Windows® installer",
        user="SH-PRN-WS-118\\运维",
        integrity="High",
        start=t0,
        modules=_user(build),
    )
    server = w.add_process(
        4596,
        "msiexec.exe",
        image_path=r"C:\WINDOWS\system32\msiexec.exe",
        command_line=r"C:\WINDOWS\system32\msiexec.exe /V",
        parent_pid=1012,
        company=MS,
        version="5.0.22621.3672",
        description="Windows® installer",
        start=t0 - timedelta(seconds=40),
        modules=_user(build),
    )
    t = t0

    def ev(proc: int, op: str, path: str = "", at: float | None = None, **kw: object) -> int:
        nonlocal t
        t = t0 + timedelta(seconds=at) if at is not None else t + timedelta(milliseconds=3)
        return w.add_event(proc, op, path, time=t, **kw)

    sw = r"HKLM\SOFTWARE\Fabrikam\Print Agent"
    mon = r"HKLM\System\CurrentControlSet\Control\Print\Monitors"
    ev(
        client,
        "CreateFile",
        r"C:\Deploy\FabrikamPrintAgent-5.2.1.30-x64.msi",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=7012,
    )
    ev(client, "CloseFile", r"C:\Deploy\FabrikamPrintAgent-5.2.1.30-x64.msi", tid=7012)
    ev(
        server,
        "CreateFile",
        r"C:\Windows\system32\fbpmon.dll",
        at=0.955,
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        tid=4824,
        open_result="Created",
        stack=_fs_stack(0x41A2C),
    )
    ev(server, "WriteFile", r"C:\Windows\system32\fbpmon.dll", offset=0, length=412672, tid=4824)
    ev(server, "CloseFile", r"C:\Windows\system32\fbpmon.dll", tid=4824)
    ev(
        server,
        "RegCreateKey",
        sw,
        at=1.109,
        desired_access=KEY_WRITE_CREATE,
        disposition="REG_CREATED_NEW_KEY",
        tid=4824,
    )
    ev(
        server,
        "RegSetValue",
        sw + r"\InstallDir",
        type="REG_SZ",
        data="C:\\Program Files\\Fabrikam\\Print Agent\\",
        tid=4824,
    )
    ev(server, "RegSetValue", sw + r"\Version", type="REG_SZ", data="5.2.1.30", tid=4824)
    ev(server, "RegCloseKey", sw, tid=4824)
    ev(server, "RegOpenKey", mon, desired_access=KEY_READ, tid=4824)
    ev(
        server,
        "RegCreateKey",
        mon + r"\Fabrikam Port Monitor",
        at=1.152,
        desired_access=KEY_WRITE_CREATE,
        result="ACCESS DENIED",
        tid=4824,
        stack=_reg_stack(0x1C3F0),
    )
    ev(server, "RegCloseKey", mon, tid=4824)
    ev(
        agent,
        "RegQueryValue",
        r"HKLM\System\CurrentControlSet\Services\hlprotect\Parameters\PolicyVersion",
        type="REG_DWORD",
        data=118,
        tid=3420,
    )
    ev(server, "RegOpenKey", sw, at=2.221, desired_access=KEY_WRITE_CREATE, tid=4824)
    ev(server, "RegDeleteValue", sw + r"\Version", tid=4824)
    ev(server, "RegDeleteValue", sw + r"\InstallDir", tid=4824)
    ev(server, "RegCloseKey", sw, tid=4824)
    return {"bad/procmon/print_agent_install.pml": w}


# --- msi-helper-injected-cymemdef ---------------------------------------------------------------------------

CYLANCE = r"C:\Program Files\Cylance\Desktop"
FDM = r"C:\Program Files\Fabrikam\Device Manager"


def _fdm_run(w: PmlWriter, t0: datetime, helper: str, helper_pid: int, msi_pid: int, injected: bool) -> None:
    """One ``msiexec /i FabrikamDeviceManager-7.4.0.1120.msi /qn`` run: the server msiexec.exe starts the
    RunSetupHelper custom action (an EXE from the Binary table, extracted to the Installer folder)."""
    build = "10.0.22621.4317"
    w.add_process(
        4,
        "System",
        image_path="System",
        start=t0 - timedelta(hours=1),
        modules=_kernel(
            Module(
                THIRD,
                0x58000,
                r"C:\Windows\system32\drivers\CyProtectDrv64.sys",
                "3.1.1001.34",
                "Cylance Inc.",
                "CylancePROTECT Driver",
            ),
            build,
        ),
    )
    cy = w.add_process(
        3176,
        "CylanceSvc.exe",
        image_path=CYLANCE + r"\CylanceSvc.exe",
        command_line=f'"{CYLANCE}\\CylanceSvc.exe"',
        parent_pid=780,
        company="Cylance Inc.",
        version="3.1.1001.34",
        description="CylancePROTECT Service",
        start=t0 - timedelta(hours=1),
        modules=_user(build),
    )
    server = w.add_process(
        msi_pid,
        "msiexec.exe",
        image_path=r"C:\WINDOWS\system32\msiexec.exe",
        command_line=r"C:\WINDOWS\system32\msiexec.exe /V",
        parent_pid=780,
        company=MS,
        version="5.0.22621.4317",
        description="Windows® installer",
        start=t0 - timedelta(seconds=3),
        modules=_user(build),
    )
    hpath = "C:\\WINDOWS\\Installer\\" + helper
    cmd = f'"{hpath}" /install /quiet /log "C:\\Windows\\Temp\\FdmSetupHelper.log"'
    hmods = [
        Module(
            0x7FF7A2C40000,
            0x1D4000,
            hpath,
            "7.4.0.1120",
            "Fabrikam, Inc.",
            "Fabrikam Device Manager Setup Helper",
        ),
        *_user(build),
    ]
    if injected:
        hmods.append(
            Module(
                0x7FFBE9A10000,
                0x6E000,
                CYLANCE + r"\CyMemDef64.dll",
                "3.1.1001.34",
                "Cylance Inc.",
                "CylancePROTECT Memory Defense",
            )
        )
    life = timedelta(milliseconds=163) if injected else timedelta(seconds=8, milliseconds=412)
    helper_start = t0 + timedelta(milliseconds=52)
    h = w.add_process(
        helper_pid,
        helper,
        image_path=hpath,
        command_line=cmd,
        parent_pid=msi_pid,
        company="Fabrikam, Inc.",
        version="7.4.0.1120",
        description="Fabrikam Device Manager Setup Helper",
        start=helper_start,
        end=helper_start + life,
        modules=hmods,
    )
    svc_pid = 7760
    svc = None
    if not injected:
        svc = w.add_process(
            svc_pid,
            "fdmsvc.exe",
            image_path=FDM + r"\fdmsvc.exe",
            command_line=f'"{FDM}\\fdmsvc.exe" /register',
            parent_pid=helper_pid,
            company="Fabrikam, Inc.",
            version="7.4.0.1120",
            description="Fabrikam Device Manager Service",
            start=helper_start + timedelta(seconds=6),
            end=helper_start + timedelta(seconds=7),
            modules=[
                Module(
                    0x7FF6D0E20000,
                    0x228000,
                    FDM + r"\fdmsvc.exe",
                    "7.4.0.1120",
                    "Fabrikam, Inc.",
                    "Fabrikam Device Manager Service",
                ),
                *_user(build),
            ],
        )

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    htid = helper_pid + 4
    w.add_event(
        cy,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Cylance\Desktop\MemDef\Policy",
        time=at(1),
        type="REG_DWORD",
        data=1,
        tid=3540,
    )
    w.add_event(
        server,
        "CreateFile",
        hpath,
        time=at(20),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        open_result="Created",
        tid=msi_pid + 8,
    )
    w.add_event(server, "CloseFile", hpath, time=at(31), tid=msi_pid + 8)
    w.add_event(
        server, "Process Create", hpath, time=at(50), pid=helper_pid, command_line=cmd, tid=msi_pid + 8
    )
    w.add_event(
        h,
        "Process Start",
        time=at(52),
        parent_pid=msi_pid,
        command_line=cmd,
        current_directory="C:\\WINDOWS\\system32\\",
        tid=htid,
    )
    w.add_event(h, "Thread Create", time=at(52.1), thread_id=htid, tid=msi_pid + 8)
    w.add_event(
        h, "Load Image", hpath, time=at(52.3), image_base=0x7FF7A2C40000, image_size=0x1D4000, tid=htid
    )
    w.add_event(
        h,
        "Load Image",
        r"C:\Windows\System32\ntdll.dll",
        time=at(52.5),
        image_base=0x7FFC1A000000,
        image_size=0x1F8000,
        tid=htid,
    )
    w.add_event(
        h,
        "Load Image",
        r"C:\Windows\System32\kernel32.dll",
        time=at(53.9),
        image_base=0x7FFC1A400000,
        image_size=0xBF000,
        tid=htid,
    )
    w.add_event(
        h,
        "Load Image",
        r"C:\Windows\System32\KernelBase.dll",
        time=at(54.2),
        image_base=0x7FFC1A800000,
        image_size=0x2CE000,
        tid=htid,
    )
    if injected:
        w.add_event(h, "Thread Create", time=at(58.0), thread_id=8112, tid=3540)
        w.add_event(
            h,
            "Load Image",
            CYLANCE + r"\CyMemDef64.dll",
            time=at(58.6),
            image_base=0x7FFBE9A10000,
            image_size=0x6E000,
            tid=8112,
        )
        w.add_event(h, "Thread Exit", time=at(61.0), tid=8112)
        w.add_event(
            h,
            "RegOpenKey",
            r"HKLM\SOFTWARE\Fabrikam\Device Manager",
            time=at(140.0),
            desired_access=KEY_READ,
            result="NAME NOT FOUND",
            tid=htid,
        )
        w.add_event(
            h,
            "CreateFile",
            r"C:\Windows\Temp\FdmSetupHelper.log",
            time=at(171.0),
            desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
            disposition="OverwriteIf",
            open_result="Created",
            tid=htid,
        )
        w.add_event(
            h,
            "WriteFile",
            r"C:\Windows\Temp\FdmSetupHelper.log",
            time=at(172.0),
            offset=0,
            length=212,
            tid=htid,
        )
        w.add_event(h, "CloseFile", r"C:\Windows\Temp\FdmSetupHelper.log", time=at(173.0), tid=htid)
        w.add_event(
            h,
            "Process Exit",
            time=at(215.0),
            exit_status=1603,
            user_time=156250,
            kernel_time=312500,
            private_bytes=1_904_640,
            peak_private_bytes=2_056_192,
            working_set=7_888_896,
            peak_working_set=7_892_992,
            tid=htid,
        )
        w.add_event(
            server,
            "RegOpenKey",
            r"HKLM\SOFTWARE\Fabrikam\Device Manager",
            time=at(260.0),
            desired_access=KEY_READ,
            result="NAME NOT FOUND",
            tid=msi_pid + 8,
        )
        return
    assert svc is not None
    w.add_event(
        h,
        "RegCreateKey",
        r"HKLM\SOFTWARE\Fabrikam\Device Manager",
        time=at(140.0),
        desired_access=KEY_WRITE_CREATE,
        disposition="REG_CREATED_NEW_KEY",
        tid=htid,
    )
    w.add_event(
        h,
        "RegSetValue",
        r"HKLM\SOFTWARE\Fabrikam\Device Manager\InstallPath",
        time=at(141.0),
        type="REG_SZ",
        data=FDM + "\\",
        tid=htid,
    )
    w.add_event(
        h,
        "Process Create",
        FDM + r"\fdmsvc.exe",
        time=at(6050.0),
        pid=svc_pid,
        command_line=f'"{FDM}\\fdmsvc.exe" /register',
        tid=htid,
    )
    w.add_event(
        svc,
        "Process Start",
        time=at(6052.0),
        parent_pid=helper_pid,
        command_line=f'"{FDM}\\fdmsvc.exe" /register',
        current_directory=FDM + "\\",
        tid=svc_pid + 4,
    )
    w.add_event(
        svc,
        "Load Image",
        FDM + r"\fdmsvc.exe",
        time=at(6052.5),
        image_base=0x7FF6D0E20000,
        image_size=0x228000,
        tid=svc_pid + 4,
    )
    w.add_event(
        svc,
        "Load Image",
        r"C:\Windows\System32\ntdll.dll",
        time=at(6052.7),
        image_base=0x7FFC1A000000,
        image_size=0x1F8000,
        tid=svc_pid + 4,
    )
    w.add_event(
        svc,
        "RegCreateKey",
        r"HKLM\System\CurrentControlSet\Services\FdmSvc",
        time=at(6400.0),
        desired_access=KEY_WRITE_CREATE,
        disposition="REG_CREATED_NEW_KEY",
        tid=svc_pid + 4,
    )
    w.add_event(
        svc,
        "Process Exit",
        time=at(7052.0),
        exit_status=0,
        user_time=312500,
        kernel_time=468750,
        private_bytes=3_100_672,
        peak_private_bytes=3_354_624,
        working_set=12_615_680,
        peak_working_set=12_640_256,
        tid=svc_pid + 4,
    )
    w.add_event(
        h,
        "Process Exit",
        time=at(8464.0),
        exit_status=0,
        user_time=781250,
        kernel_time=1_093_750,
        private_bytes=2_441_216,
        peak_private_bytes=2_760_704,
        working_set=9_797_632,
        peak_working_set=9_822_208,
        tid=htid,
    )


def msi_helper_injected_cymemdef() -> dict[str, PmlWriter]:
    """AMS-ENG-LT-0731 (bad) and AMS-ENG-LT-0802 (good), Windows 11 23H2 en-US, UTC+1. On the bad machine a
    CylanceSvc.exe thread creates a thread in the setup helper that loads CyMemDef64.dll; the helper quits
    163 ms after it started with 1603. On the good machine (memory protection policy not assigned) the
    helper runs 8.4 s and starts fdmsvc.exe /register."""
    bad = PmlWriter(computer="AMS-ENG-LT-0731", os_version=(10, 0, 22631))
    _fdm_run(bad, datetime(2024, 11, 14, 8, 31, 4, 0, tzinfo=UTC), "MSI7D21.tmp", 8044, 5912, injected=True)
    good = PmlWriter(computer="AMS-ENG-LT-0802", os_version=(10, 0, 22631))
    _fdm_run(good, datetime(2024, 11, 14, 9, 31, 4, 0, tzinfo=UTC), "MSI3C88.tmp", 7420, 4188, injected=False)
    return {"bad/procmon/fdm_install.pml": bad, "good/procmon/fdm_install.pml": good}


# --- lcu-store-corrupt-sophos-zh ----------------------------------------------------------------------------


def lcu_store_corrupt_sophos_zh() -> dict[str, PmlWriter]:
    """GZ-BR-TELLER-07 (Windows 10 LTSC 2019 zh-CN, UTC+8) while KB5034127 is retried: TiWorker.exe does not
    find a component manifest (the store is corrupt); meanwhile Sophos tamper protection denies the Task
    Scheduler service rewriting one of Sophos's own tasks, which has nothing to do with the update."""
    build = "10.0.17763.5206"
    t0 = datetime(2024, 1, 12, 7, 3, 46, 100000, tzinfo=UTC)
    w = PmlWriter(computer="GZ-BR-TELLER-07", os_version=(10, 0, 17763))
    sed = Module(
        THIRD,
        0x18E000,
        r"C:\Windows\system32\drivers\SophosED.sys",
        "2023.2.1.9",
        "Sophos Limited",
        "Sophos Endpoint Defense",
    )
    w.add_process(
        4, "System", image_path="System", modules=_kernel(sed, build), start=t0 - timedelta(hours=6)
    )
    ss = (
        r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35"
        r"_10.0.17763.5290_none_9c3a6f0b2e4d7a18"
    )
    ti = w.add_process(
        4120,
        "TiWorker.exe",
        image_path=ss + r"\TiWorker.exe",
        command_line=ss + r"\TiWorker.exe -Embedding",
        parent_pid=792,
        company=MS,
        version="10.0.17763.5290",
        description="Windows Modules Installer Worker",
        start=t0 - timedelta(minutes=1, seconds=35),
        modules=_user(build),
    )
    sched = w.add_process(
        1344,
        "svchost.exe",
        image_path=r"C:\Windows\system32\svchost.exe",
        command_line=r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule",
        parent_pid=640,
        company=MS,
        version=build,
        description="Host Process for Windows Services",
        start=t0 - timedelta(hours=6),
    )
    comp = (
        "amd64_microsoft-windows-s..ccesscontrolservice_31bf3856ad364e35"
        "_10.0.17763.5329_none_5b8e2f1c0d7a4e39"
    )
    t = t0

    def ev(proc: int, op: str, path: str = "", **kw: object) -> int:
        nonlocal t
        t += timedelta(milliseconds=11)
        return w.add_event(proc, op, path, time=t, **kw)

    ev(
        ti,
        "RegOpenKey",
        "HKLM\\COMPONENTS\\DerivedData\\Components\\" + comp,
        desired_access=KEY_READ,
        tid=5012,
    )
    ev(ti, "RegCloseKey", "HKLM\\COMPONENTS\\DerivedData\\Components\\" + comp, tid=5012)
    ev(
        ti,
        "CreateFile",
        "C:\\Windows\\WinSxS\\Manifests\\" + comp + ".manifest",
        desired_access=GENERIC_READ,
        disposition="Open",
        result="NAME NOT FOUND",
        tid=5012,
        stack=_fs_stack(None),
    )
    ev(
        ti,
        "CreateFile",
        "C:\\Windows\\WinSxS\\" + comp,
        desired_access=GENERIC_READ,
        disposition="Open",
        result="NAME NOT FOUND",
        tid=5012,
        stack=_fs_stack(None),
    )
    task = (
        r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tree"
        + r"\Sophos\Sophos Health Check"
    )
    ev(
        sched,
        "RegOpenKey",
        task,
        desired_access=KEY_WRITE_CREATE,
        result="ACCESS DENIED",
        tid=1702,
        stack=_reg_stack(0x7B1E0),
    )
    ev(
        sched,
        "RegSetValue",
        task + r"\SD",
        type="REG_BINARY",
        data=b"\x01\x00\x04\x80" + bytes(12),
        result="ACCESS DENIED",
        tid=1702,
        stack=_reg_stack(0x7B1E0),
    )
    ev(
        ti,
        "CreateFile",
        r"C:\Windows\Logs\CBS\CBS.log",
        desired_access=GENERIC_WRITE | SYNCHRONIZE,
        disposition="OpenIf",
        open_result="Opened",
        tid=5012,
    )
    ev(ti, "WriteFile", r"C:\Windows\Logs\CBS\CBS.log", offset=1_284_096, length=372, tid=5012)
    return {"bad/procmon/lcu_retry.pml": w}


# --- pnputil-service-key-deny-ace ---------------------------------------------------------------------------


def pnputil_service_key_deny_ace() -> dict[str, PmlWriter]:
    """DAL-MKT-DT-0456 (Windows 11 24H2 en-US, UTC-6) during
    ``pnputil /add-driver fbusbaud.inf /install``: the
    Service Control Manager (services.exe, on SetupAPI's behalf) is denied opening the FbAudioSvc key for
    writing. Only Windows frames are on the stack: the key's own deny ACE refuses it. ESET's helper driver
    is loaded but takes no part."""
    build = "10.0.26100.2605"
    t0 = datetime(2024, 12, 9, 16, 12, 44, 300000, tzinfo=UTC)
    w = PmlWriter(computer="DAL-MKT-DT-0456", os_version=(10, 0, 26100))
    eset = Module(
        THIRD, 0x2E000, r"C:\Windows\system32\drivers\ehdrv.sys", "10.1.2046.0", "ESET", "ESET Helper Driver"
    )
    w.add_process(
        4, "System", image_path="System", modules=_kernel(eset, build), start=t0 - timedelta(hours=2)
    )
    scm = w.add_process(
        812,
        "services.exe",
        image_path=r"C:\WINDOWS\system32\services.exe",
        command_line=r"C:\WINDOWS\system32\services.exe",
        parent_pid=700,
        company=MS,
        version=build,
        description="Services and Controller app",
        start=t0 - timedelta(hours=2),
        modules=_user(build),
    )
    pnp = w.add_process(
        6240,
        "pnputil.exe",
        image_path=r"C:\WINDOWS\system32\pnputil.exe",
        command_line=r"pnputil  /add-driver C:\Drivers\FabrikamAudio\fbusbaud.inf /install",
        parent_pid=5988,
        company=MS,
        version=build,
        description="Microsoft PnP Utility",
        user="CORP\\dal-it-admin",
        integrity="High",
        start=t0 - timedelta(milliseconds=120),
        modules=_user(build),
    )
    t = t0

    def ev(proc: int, op: str, path: str = "", gap: float = 3.0, **kw: object) -> int:
        nonlocal t
        t += timedelta(milliseconds=gap)
        return w.add_event(proc, op, path, time=t, **kw)

    inf = r"C:\Drivers\FabrikamAudio\fbusbaud.inf"
    svc = r"HKLM\System\CurrentControlSet\Services"
    ev(pnp, "CreateFile", inf, desired_access=GENERIC_READ, disposition="Open", tid=6244)
    ev(pnp, "ReadFile", inf, offset=0, length=2311, tid=6244)
    ev(pnp, "CloseFile", inf, tid=6244)
    ev(
        pnp,
        "CreateFile",
        r"C:\Windows\System32\drivers\fbusbaud.sys",
        gap=560.0,
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        open_result="Overwritten",
        tid=6244,
        stack=_fs_stack(None),
    )
    ev(pnp, "CloseFile", r"C:\Windows\System32\drivers\fbusbaud.sys", tid=6244)
    ev(scm, "RegOpenKey", svc + r"\FbUsbAud", gap=40.0, desired_access=KEY_WRITE_CREATE, tid=1420)
    ev(scm, "RegSetValue", svc + r"\FbUsbAud\Start", type="REG_DWORD", data=3, tid=1420)
    ev(
        scm,
        "RegSetValue",
        svc + r"\FbUsbAud\ImagePath",
        type="REG_EXPAND_SZ",
        data="\\SystemRoot\\System32\\drivers\\fbusbaud.sys",
        tid=1420,
    )
    ev(scm, "RegCloseKey", svc + r"\FbUsbAud", tid=1420)
    ev(
        scm,
        "RegOpenKey",
        svc + r"\FbAudioSvc",
        gap=14.0,
        desired_access=KEY_WRITE_CREATE,
        result="ACCESS DENIED",
        tid=1420,
        stack=_reg_stack(None),
    )
    ev(scm, "RegOpenKey", svc + r"\FbAudioSvc", desired_access=KEY_READ, tid=1420)
    ev(scm, "RegCloseKey", svc + r"\FbAudioSvc", tid=1420)
    return {"bad/procmon/pnputil_install.pml": w}


# --- msi-1923-service-denied-sentinelone -----------------------------------------------------------------


def msi_1923_service_denied_sentinelone() -> dict[str, PmlWriter]:
    """LON-FS-BKP-02 (Windows Server 2022 en-GB, UTC+0) during
    ``msiexec /i FabrikamBackupAgent-9.1.3.msi /qn``:
    msiexec.exe's ServiceInstall asks the Service Control Manager to create FbBackupSvc; services.exe is
    denied creating the service key and SentinelMonitor.sys's registry callback is on the stack."""
    build = "10.0.20348.2966"
    t0 = datetime(2025, 1, 21, 11, 47, 31, 480000, tzinfo=UTC)
    w = PmlWriter(computer="LON-FS-BKP-02", os_version=(10, 0, 20348))
    s1 = Module(
        THIRD,
        0x10D000,
        r"C:\Windows\system32\drivers\SentinelMonitor.sys",
        "23.4.2.216",
        "SentinelOne",
        "SentinelOne Monitor",
    )
    w.add_process(4, "System", image_path="System", modules=_kernel(s1, build), start=t0 - timedelta(days=3))
    scm = w.add_process(
        696,
        "services.exe",
        image_path=r"C:\Windows\system32\services.exe",
        command_line=r"C:\Windows\system32\services.exe",
        parent_pid=584,
        company=MS,
        version=build,
        description="Services and Controller app",
        start=t0 - timedelta(days=3),
        modules=_user(build),
    )
    server = w.add_process(
        2472,
        "msiexec.exe",
        image_path=r"C:\Windows\system32\msiexec.exe",
        command_line=r"C:\Windows\system32\msiexec.exe /V",
        parent_pid=696,
        company=MS,
        version="5.0.20348.2966",
        description="Windows® installer",
        start=t0 - timedelta(seconds=2),
        modules=_user(build),
    )
    agent = w.add_process(
        3012,
        "SentinelAgent.exe",
        image_path=r"C:\Program Files\SentinelOne\Sentinel Agent 23.4.2.216\SentinelAgent.exe",
        command_line=r'"C:\Program Files\SentinelOne\Sentinel Agent 23.4.2.216\SentinelAgent.exe"',
        parent_pid=696,
        company="SentinelOne",
        version="23.4.2.216",
        description="Sentinel Agent",
        start=t0 - timedelta(days=3),
    )
    t = t0

    def ev(proc: int, op: str, path: str = "", gap: float = 2.0, **kw: object) -> int:
        nonlocal t
        t += timedelta(milliseconds=gap)
        return w.add_event(proc, op, path, time=t, **kw)

    exe = r"C:\Program Files\Fabrikam\Backup Agent\fbbacksvc.exe"
    key = r"HKLM\System\CurrentControlSet\Services\FbBackupSvc"
    ev(
        server,
        "CreateFile",
        exe,
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        open_result="Created",
        tid=3060,
        stack=_fs_stack(None),
    )
    ev(server, "WriteFile", exe, offset=0, length=3145216, tid=3060)
    ev(server, "CloseFile", exe, tid=3060)
    ev(
        server,
        "RegOpenKey",
        r"HKLM\System\CurrentControlSet\Services",
        gap=25.0,
        desired_access=KEY_READ,
        tid=3060,
    )
    ev(
        scm,
        "RegCreateKey",
        key,
        gap=6.0,
        desired_access=KEY_WRITE_CREATE,
        result="ACCESS DENIED",
        tid=1148,
        stack=_reg_stack(0x4E7A0),
    )
    ev(
        agent,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Sentinel Labs\State\LastPolicyUpdate",
        type="REG_QWORD",
        data=133818462100000000,
        tid=3330,
    )
    ev(server, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services", tid=3060)
    ev(
        server,
        "CreateFile",
        exe,
        gap=1080.0,
        desired_access=0x10080,
        disposition="Open",
        options=0x1060,
        tid=3060,
    )
    ev(server, "CloseFile", exe, tid=3060)
    return {"bad/procmon/backup_agent_install.pml": w}


# --- win7-driver-rename-denied-mfehidk ----------------------------------------------------------------------

# Windows 7 SP1 kernel image layout (a different base than the Windows 10/11 captures above).
W7_NTOS = 0xFFFFF80002A5B000
W7_FLTMGR = 0xFFFFF88000E3C000
W7_THIRD = 0xFFFFF88001A00000
DELETE = 0x10000


def win7_driver_rename_denied_mfehidk() -> dict[str, PmlWriter]:
    """Boot-logging capture on BLR-POS-0113 (Windows 7 SP1 en-US, UTC+5:30) while the critical driver
    operations queue of KB5022338 installs fbsensor.inf: TrustedInstaller.exe writes the new driver to a
    temporary file in ``System32\\drivers`` and is denied opening ``fbsensor.sys`` for the replace (Delete
    access); McAfee's mfehidk.sys minifilter is between the FltMgr frames."""
    build = "6.1.7601.26021"
    t0 = datetime(2023, 1, 11, 16, 25, 46, 118000, tzinfo=UTC)
    w = PmlWriter(computer="BLR-POS-0113", os_version=(6, 1, 7601))
    kernel = [
        Module(W7_NTOS, 0x5E6000, r"C:\Windows\system32\ntoskrnl.exe", build, MS, "NT Kernel & System"),
        Module(
            W7_FLTMGR,
            0x4C000,
            r"C:\Windows\system32\drivers\fltmgr.sys",
            build,
            MS,
            "Microsoft Filesystem Filter Manager",
        ),
        Module(
            W7_THIRD,
            0x1A4000,
            r"C:\Windows\system32\drivers\mfehidk.sys",
            "15.7.0.1078",
            "McAfee, Inc.",
            "McAfee Link Driver",
        ),
    ]
    w.add_process(4, "System", image_path="System", modules=kernel, start=t0 - timedelta(minutes=1))
    mcshield = w.add_process(
        1324,
        "mcshield.exe",
        image_path=r"C:\Program Files\Common Files\McAfee\AVSolution\mcshield.exe",
        command_line=r'"C:\Program Files\Common Files\McAfee\AVSolution\mcshield.exe"',
        parent_pid=512,
        company="McAfee, Inc.",
        version="15.7.0.1078",
        description="McAfee On-Access Scanner service",
        start=t0 - timedelta(seconds=50),
    )
    ti = w.add_process(
        1788,
        "TrustedInstaller.exe",
        image_path=r"C:\Windows\servicing\TrustedInstaller.exe",
        command_line=r"C:\Windows\servicing\TrustedInstaller.exe",
        parent_pid=512,
        company=MS,
        version="6.1.7601.24499",
        description="Windows Modules Installer",
        start=t0 - timedelta(seconds=15),
        modules=_user(build),
    )
    repo = r"C:\Windows\System32\DriverStore\FileRepository\fbsensor.inf_amd64_neutral_5b2e9c0d4f7a1c38"
    drivers = r"C:\Windows\System32\drivers"
    fs = [W7_FLTMGR + 0x6F2A, W7_FLTMGR + 0x3B1C]
    fs_tail = [W7_FLTMGR + 0x2C8D, W7_NTOS + 0x2D6A1F, W7_NTOS + 0x2D2B40, W7_NTOS + 0x08F9D3]
    t = t0

    def ev(proc: int, op: str, path: str = "", **kw: object) -> int:
        nonlocal t
        t += timedelta(milliseconds=4)
        return w.add_event(proc, op, path, time=t, **kw)

    ev(
        ti,
        "CreateFile",
        repo + r"\fbsensor.sys",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=1912,
        stack=[*fs, *fs_tail],
    )
    ev(ti, "ReadFile", repo + r"\fbsensor.sys", offset=0, length=48640, tid=1912)
    ev(
        ti,
        "CreateFile",
        drivers + r"\SET4A1F.tmp",
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="Create",
        open_result="Created",
        tid=1912,
        stack=[*fs, W7_THIRD + 0x2E41C, *fs_tail],
    )
    ev(ti, "WriteFile", drivers + r"\SET4A1F.tmp", offset=0, length=48640, tid=1912)
    ev(ti, "CloseFile", drivers + r"\SET4A1F.tmp", tid=1912)
    ev(
        mcshield,
        "CreateFile",
        drivers + r"\SET4A1F.tmp",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=1480,
    )
    ev(mcshield, "CloseFile", drivers + r"\SET4A1F.tmp", tid=1480)
    ev(
        ti,
        "CreateFile",
        drivers + r"\fbsensor.sys",
        desired_access=DELETE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="Open",
        result="ACCESS DENIED",
        tid=1912,
        stack=[*fs, W7_THIRD + 0x31A08, W7_THIRD + 0x2E41C, *fs_tail],
    )
    ev(
        ti,
        "CreateFile",
        drivers + r"\SET4A1F.tmp",
        desired_access=DELETE | SYNCHRONIZE,
        disposition="Open",
        tid=1912,
        stack=[*fs, W7_THIRD + 0x2E41C, *fs_tail],
    )
    ev(ti, "CloseFile", drivers + r"\SET4A1F.tmp", tid=1912)
    ev(ti, "CloseFile", repo + r"\fbsensor.sys", tid=1912)
    return {"bad/procmon/Bootlog.pml": w}


# --- dism-capability-service-denied-klif --------------------------------------------------------------------


def dism_capability_service_denied_klif() -> dict[str, PmlWriter]:
    """PAR-APP-SRV-14 (Windows Server 2019 fr-FR, UTC+1) during ``Add-WindowsCapability -Online -Name
    OpenSSH.Server~~~~0.0.1.0``: PowerShell's DISM API session starts DismHost.exe, whose CBS provider
    hands the package to TiWorker.exe; TiWorker.exe is denied creating the ``sshd`` service key and
    Kaspersky's klif.sys registry callback is on the stack."""
    build = "10.0.17763.5329"
    t0 = datetime(2024, 2, 6, 13, 21, 8, 200000, tzinfo=UTC)
    w = PmlWriter(computer="PAR-APP-SRV-14", os_version=(10, 0, 17763))
    klif = Module(
        THIRD,
        0x1D2000,
        r"C:\Windows\system32\drivers\klif.sys",
        "11.0.1.1231",
        "AO Kaspersky Lab",
        "Klif Mini-Filter [fre_wnet_AMD64]",
    )
    w.add_process(
        4, "System", image_path="System", modules=_kernel(klif, build), start=t0 - timedelta(days=9)
    )
    avp = w.add_process(
        2844,
        "avp.exe",
        image_path=r"C:\Program Files (x86)\Kaspersky Lab\KES.11.11.0\avp.exe",
        command_line=r'"C:\Program Files (x86)\Kaspersky Lab\KES.11.11.0\avp.exe"',
        parent_pid=656,
        company="AO Kaspersky Lab",
        version="11.11.0.452",
        description="Kaspersky Endpoint Security for Windows",
        is64=False,
        start=t0 - timedelta(days=9),
    )
    ps = w.add_process(
        3980,
        "powershell.exe",
        image_path=r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        command_line=r'"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive'
        r' -Command "Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0"',
        parent_pid=3712,
        company=MS,
        version=build,
        description="Windows PowerShell",
        user="PAR\\adm-srvops",
        integrity="High",
        start=t0 - timedelta(seconds=3),
        modules=_user(build),
    )
    host_dir = r"C:\Windows\TEMP\3E0A5F21-7C4B-4D8E-9B16-2F6C0D91A7E4"
    dh_cmd = host_dir + r"\dismhost.exe {5E1B3C2A-7D4F-4A9B-8C21-3F0E6D5A9B17}"
    dh = w.add_process(
        5236,
        "DismHost.exe",
        image_path=host_dir + r"\dismhost.exe",
        command_line=dh_cmd,
        parent_pid=3980,
        company=MS,
        version="10.0.17763.5201",
        description="Dism Host Servicing Process",
        user="PAR\\adm-srvops",
        integrity="High",
        start=t0 + timedelta(milliseconds=20),
        modules=_user(build),
    )
    ss = (
        r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.17763.5201"
        r"_none_2e7c9d1b5f3a8e40"
    )
    ti = w.add_process(
        4408,
        "TiWorker.exe",
        image_path=ss + r"\TiWorker.exe",
        command_line=ss + r"\TiWorker.exe -Embedding",
        parent_pid=788,
        company=MS,
        version="10.0.17763.5201",
        description="Windows Modules Installer Worker",
        start=t0 + timedelta(milliseconds=900),
        modules=_user(build),
    )
    comp = (
        r"C:\Windows\WinSxS\amd64_openssh-server-components-onecore_31bf3856ad364e35_10.0.17763.1"
        r"_none_8a1c5e3f0b2d7a64"
    )

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    w.add_event(
        ps,
        "Process Create",
        host_dir + r"\dismhost.exe",
        time=at(0.018),
        pid=5236,
        command_line=dh_cmd,
        tid=4012,
    )
    w.add_event(
        dh,
        "Process Start",
        time=at(0.020),
        parent_pid=3980,
        command_line=dh_cmd,
        current_directory=host_dir + "\\",
        tid=5240,
    )
    w.add_event(
        dh,
        "Load Image",
        host_dir + r"\dismhost.exe",
        time=at(0.021),
        image_base=0x7FF7B2A10000,
        image_size=0x2C000,
        tid=5240,
    )
    w.add_event(
        dh,
        "Load Image",
        host_dir + r"\CbsProvider.dll",
        time=at(0.412),
        image_base=0x7FFB8C0F0000,
        image_size=0x9E000,
        tid=5240,
    )
    w.add_event(
        dh,
        "CreateFile",
        r"C:\Windows\Logs\DISM\dism.log",
        time=at(0.415),
        desired_access=GENERIC_WRITE | SYNCHRONIZE,
        disposition="OpenIf",
        open_result="Opened",
        tid=5240,
    )
    w.add_event(ti, "RegOpenKey", r"HKLM\COMPONENTS", time=at(1.3), desired_access=KEY_READ, tid=4520)
    w.add_event(
        ti,
        "CreateFile",
        comp + r"\sshd.exe",
        time=at(130.1),
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=4520,
        stack=_fs_stack(0x3A1C8),
    )
    w.add_event(
        ti,
        "CreateFile",
        r"C:\Windows\System32\OpenSSH\sshd.exe",
        time=at(130.4),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="Create",
        open_result="Created",
        tid=4520,
        stack=_fs_stack(0x3A1C8),
    )
    w.add_event(ti, "CloseFile", r"C:\Windows\System32\OpenSSH\sshd.exe", time=at(130.5), tid=4520)
    w.add_event(
        ti,
        "RegOpenKey",
        r"HKLM\System\CurrentControlSet\Services",
        time=at(130.70),
        desired_access=KEY_READ,
        tid=4520,
    )
    w.add_event(
        ti,
        "RegCreateKey",
        r"HKLM\System\CurrentControlSet\Services\sshd",
        time=at(130.704),
        desired_access=0xF003F,
        result="ACCESS DENIED",
        tid=4520,
        stack=_reg_stack(0x8C3A4),
    )
    w.add_event(
        avp,
        "RegQueryValue",
        r"HKLM\SOFTWARE\WOW6432Node\KasperskyLab\protected\KES\settings\HipsRules",
        time=at(130.71),
        type="REG_DWORD",
        data=1,
        tid=3120,
    )
    w.add_event(ti, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services", time=at(130.72), tid=4520)
    w.add_event(
        ti,
        "CreateFile",
        r"C:\Windows\System32\OpenSSH\sshd.exe",
        time=at(130.9),
        desired_access=0x10080,
        disposition="Open",
        options=0x1060,
        tid=4520,
    )
    w.add_event(ti, "CloseFile", r"C:\Windows\System32\OpenSSH\sshd.exe", time=at(130.91), tid=4520)
    w.add_event(
        dh,
        "CreateFile",
        r"C:\Windows\Logs\DISM\dism.log",
        time=at(131.8),
        desired_access=GENERIC_WRITE | SYNCHRONIZE,
        disposition="OpenIf",
        open_result="Opened",
        tid=5312,
    )
    return {"bad/procmon/add_capability.pml": w}


# --- webview2-early-exit-fcoehook-csv ---------------------------------------------------------------------


def webview2_early_exit_fcoehook_csv() -> dict[str, PmlWriter]:
    """The good machine of the WebView2 case, PHX-ENG-WS-0207 (Windows 10 22H2 en-US, UTC-7): the standalone
    WebView2 Runtime installer extracts MicrosoftEdgeUpdate.exe to ``Microsoft\\Temp\\EU*.tmp``; it runs 31 s,
    hands off to the installed Edge Update and runs the WebView2 setup, which exits 0. FortiClient's
    FCDBLog.exe runs here too but injects nothing. (The failing machine's evidence is a Procmon CSV export
    only, written by hand under ``bad/procmon``.)"""
    build = "10.0.19041.4355"
    t0 = datetime(2024, 6, 5, 22, 2, 40, 118000, tzinfo=UTC)
    w = PmlWriter(computer="PHX-ENG-WS-0207", os_version=(10, 0, 19045))
    w.add_process(
        4, "System", image_path="System", modules=_kernel(None, build), start=t0 - timedelta(hours=5)
    )
    fcdb = w.add_process(
        3188,
        "FCDBLog.exe",
        image_path=r"C:\Program Files\Fortinet\FortiClient\FCDBLog.exe",
        command_line=r'"C:\Program Files\Fortinet\FortiClient\FCDBLog.exe"',
        parent_pid=760,
        company="Fortinet Inc",
        version="7.2.4.0972",
        description="FortiClient Logging Daemon",
        start=t0 - timedelta(hours=5),
    )
    inst_path = r"C:\Users\jpark\Downloads\MicrosoftEdgeWebView2RuntimeInstallerX64.exe"
    inst = w.add_process(
        4980,
        "MicrosoftEdgeWebView2RuntimeInstallerX64.exe",
        image_path=inst_path,
        command_line=f'"{inst_path}" /silent /install',
        parent_pid=4316,
        company=MS,
        version="1.3.185.17",
        description="Microsoft Edge WebView2 Runtime Installer",
        user="CORP\\jpark-adm",
        integrity="High",
        is64=False,
        start=t0 - timedelta(milliseconds=40),
        modules=_user(build, wow64=True),
    )
    eu_dir = r"C:\Program Files (x86)\Microsoft\Temp\EU81C4.tmp"
    eu_cmd = (
        f'"{eu_dir}\\MicrosoftEdgeUpdate.exe" /silent /install '
        '"appguid={F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}&appname=Microsoft%20Edge%20Webview2%20Runtime&needsadmin=prefers"'
    )
    eu = w.add_process(
        7064,
        "MicrosoftEdgeUpdate.exe",
        image_path=eu_dir + r"\MicrosoftEdgeUpdate.exe",
        command_line=eu_cmd,
        parent_pid=4980,
        company=MS,
        version="1.3.185.17",
        description="Microsoft Edge Update",
        user="CORP\\jpark-adm",
        integrity="High",
        is64=False,
        start=t0 + timedelta(milliseconds=41),
        end=t0 + timedelta(seconds=31, milliseconds=207),
        modules=[
            Module(
                0xB30000,
                0x4A000,
                eu_dir + r"\MicrosoftEdgeUpdate.exe",
                "1.3.185.17",
                MS,
                "Microsoft Edge Update",
            ),
            *_user(build, wow64=True),
            Module(
                0x6D120000, 0x1A6000, eu_dir + r"\msedgeupdate.dll", "1.3.185.17", MS, "Microsoft Edge Update"
            ),
        ],
    )
    setup_dir = r"C:\Program Files (x86)\Microsoft\EdgeUpdate\Install\{8C1A3F52-7E06-4B8D-9D2F-61A0C5E7B394}"
    setup_cmd = (
        f'"{setup_dir}\\MicrosoftEdge_X64_125.0.2535.85.exe" --msedgewebview --verbose-logging'
        " --do-not-launch-msedge --system-level"
    )
    setup = w.add_process(
        7532,
        "MicrosoftEdge_X64_125.0.2535.85.exe",
        image_path=setup_dir + r"\MicrosoftEdge_X64_125.0.2535.85.exe",
        command_line=setup_cmd,
        parent_pid=7064,
        company=MS,
        version="125.0.2535.85",
        description="Microsoft Edge Installer",
        user="CORP\\jpark-adm",
        integrity="High",
        start=t0 + timedelta(seconds=4, milliseconds=620),
        end=t0 + timedelta(seconds=30, milliseconds=902),
        modules=_user(build),
    )

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    eu_exe = eu_dir + r"\MicrosoftEdgeUpdate.exe"
    w.add_event(
        fcdb,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Fortinet\FortiClient\FA_ESNAC\exploit_prevention\enabled",
        time=at(0),
        type="REG_DWORD",
        data=0,
        tid=3240,
    )
    w.add_event(
        inst,
        "CreateFile",
        eu_exe,
        time=at(13),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | 0x10000,
        disposition="OverwriteIf",
        open_result="Created",
        tid=4984,
    )
    w.add_event(inst, "CloseFile", eu_exe, time=at(14), tid=4984)
    w.add_event(inst, "Process Create", eu_exe, time=at(41), pid=7064, command_line=eu_cmd, tid=4984)
    w.add_event(
        eu,
        "Process Start",
        time=at(41.05),
        parent_pid=4980,
        command_line=eu_cmd,
        current_directory=eu_dir + "\\",
        tid=4984,
    )
    w.add_event(eu, "Thread Create", time=at(41.1), thread_id=7068, tid=4984)
    w.add_event(eu, "Load Image", eu_exe, time=at(41.4), image_base=0xB30000, image_size=0x4A000, tid=7068)
    w.add_event(
        eu,
        "Load Image",
        r"C:\Windows\SysWOW64\ntdll.dll",
        time=at(42.9),
        image_base=0x77000000,
        image_size=0x1F8000,
        tid=7068,
    )
    w.add_event(
        eu,
        "Load Image",
        r"C:\Windows\SysWOW64\kernel32.dll",
        time=at(44.0),
        image_base=0x77400000,
        image_size=0xBF000,
        tid=7068,
    )
    w.add_event(
        eu,
        "Load Image",
        eu_dir + r"\msedgeupdate.dll",
        time=at(52.7),
        image_base=0x6D120000,
        image_size=0x1A6000,
        tid=7068,
    )
    w.add_event(
        eu,
        "RegCreateKey",
        r"HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients"
        r"\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}",
        time=at(2210),
        desired_access=KEY_WRITE_CREATE,
        disposition="REG_CREATED_NEW_KEY",
        tid=7068,
    )
    w.add_event(
        eu,
        "Process Create",
        setup_dir + r"\MicrosoftEdge_X64_125.0.2535.85.exe",
        time=at(4620),
        pid=7532,
        command_line=setup_cmd,
        tid=7104,
    )
    w.add_event(
        setup,
        "Process Start",
        time=at(4620.1),
        parent_pid=7064,
        command_line=setup_cmd,
        current_directory=setup_dir + "\\",
        tid=7536,
    )
    w.add_event(
        setup,
        "CreateFile",
        r"C:\Program Files (x86)\Microsoft\EdgeWebView\Application\125.0.2535.85\msedgewebview2.exe",
        time=at(19400),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="Create",
        open_result="Created",
        tid=7536,
    )
    w.add_event(
        setup,
        "Process Exit",
        time=at(30902),
        exit_status=0,
        user_time=9_843_750,
        kernel_time=6_562_500,
        private_bytes=48_615_424,
        peak_private_bytes=61_472_768,
        working_set=52_789_248,
        peak_working_set=66_826_240,
        tid=7536,
    )
    w.add_event(
        eu,
        "Process Exit",
        time=at(31207),
        exit_status=0,
        user_time=781_250,
        kernel_time=625_000,
        private_bytes=4_096_000,
        peak_private_bytes=4_456_448,
        working_set=13_221_888,
        peak_working_set=13_447_168,
        tid=7068,
    )
    w.add_event(
        inst,
        "Process Exit",
        time=at(31260),
        exit_status=0,
        user_time=156_250,
        kernel_time=312_500,
        private_bytes=3_407_872,
        peak_private_bytes=3_715_072,
        working_set=11_022_336,
        peak_working_set=11_108_352,
        tid=4984,
    )
    return {"good/procmon/webview2_install.pml": w}


# --- zip-lcu-service-denied-360-zh (a bundle delivered as one zip, built at test time) ---------------------


def zip_lcu_service_denied_360_zh() -> dict[str, PmlWriter]:
    """CD-BR-KIOSK-031 (Windows 10 22H2 zh-CN, UTC+8): the support engineer's reproduction of the failed
    service change, ``reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\FbFprSvc /v Start ...`` from an
    elevated cmd.exe; reg.exe is denied opening the key for Set Value and 360's AtdrAgent64.sys registry
    callback is on the stack."""
    build = "10.0.19041.4046"
    t0 = datetime(2024, 3, 15, 2, 41, 9, 512000, tzinfo=UTC)
    w = PmlWriter(computer="CD-BR-KIOSK-031", os_version=(10, 0, 19045))
    atdr = Module(
        THIRD,
        0xF4000,
        r"C:\Windows\system32\drivers\AtdrAgent64.sys",
        "10.0.0.1021",
        "360.cn",
        "360 终端安全 驱动",
    )
    w.add_process(
        4, "System", image_path="System", modules=_kernel(atdr, build), start=t0 - timedelta(hours=3)
    )
    agent = w.add_process(
        3056,
        "360EntClient.exe",
        image_path=r"C:\Program Files (x86)\360\360Safe\EntClient\360EntClient.exe",
        command_line=r'"C:\Program Files (x86)\360\360Safe\EntClient\360EntClient.exe" /service',
        parent_pid=692,
        company="360.cn",
        version="10.0.0.1021",
        description="360终端安全管理系统",
        is64=False,
        start=t0 - timedelta(hours=3),
    )
    cmd = w.add_process(
        6120,
        "cmd.exe",
        image_path=r"C:\Windows\system32\cmd.exe",
        command_line=r'"C:\Windows\system32\cmd.exe"',
        parent_pid=5304,
        company=MS,
        version=build,
        description="Windows 命令处理程序",
        user="CD-BR-KIOSK-031\\运维管理员",
        integrity="High",
        start=t0 - timedelta(minutes=2),
        modules=_user(build),
    )
    reg_cmd = r"reg  add HKLM\SYSTEM\CurrentControlSet\Services\FbFprSvc /v Start /t REG_DWORD /d 2 /f"
    reg = w.add_process(
        6488,
        "reg.exe",
        image_path=r"C:\Windows\system32\reg.exe",
        command_line=reg_cmd,
        parent_pid=6120,
        company=MS,
        version=build,
        description="注册表控制台工具",
        user="CD-BR-KIOSK-031\\运维管理员",
        integrity="High",
        start=t0 + timedelta(milliseconds=5),
        end=t0 + timedelta(milliseconds=61),
        modules=[
            Module(0x7FF6E1B20000, 0x1B000, r"C:\Windows\system32\reg.exe", build, MS, "注册表控制台工具"),
            *_user(build),
        ],
    )
    key = r"HKLM\System\CurrentControlSet\Services\FbFprSvc"

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    w.add_event(
        cmd,
        "Process Create",
        r"C:\Windows\system32\reg.exe",
        time=at(4.8),
        pid=6488,
        command_line=reg_cmd,
        tid=6124,
    )
    w.add_event(
        reg,
        "Process Start",
        time=at(5.0),
        parent_pid=6120,
        command_line=reg_cmd,
        current_directory="C:\\Windows\\system32\\",
        tid=6492,
    )
    w.add_event(
        reg,
        "Load Image",
        r"C:\Windows\system32\reg.exe",
        time=at(5.3),
        image_base=0x7FF6E1B20000,
        image_size=0x1B000,
        tid=6492,
    )
    w.add_event(
        reg,
        "RegOpenKey",
        key,
        time=at(38.2),
        desired_access=0x20006,
        result="ACCESS DENIED",
        tid=6492,
        stack=_reg_stack(0x3B7C0),
    )
    w.add_event(
        agent,
        "RegQueryValue",
        r"HKLM\SOFTWARE\WOW6432Node\360Safe\EntClient\RegProtect\Enabled",
        time=at(38.9),
        type="REG_DWORD",
        data=1,
        tid=3104,
    )
    w.add_event(
        reg,
        "Process Exit",
        time=at(61.0),
        exit_status=1,
        user_time=0,
        kernel_time=156_250,
        private_bytes=1_388_544,
        peak_private_bytes=1_441_792,
        working_set=5_586_944,
        peak_working_set=5_603_328,
        tid=6492,
    )
    return {"procmon/reg_repro.pml": w}


# --- round three --------------------------------------------------------------------------------------------
# --- lcu-driver-sharing-violation-dsagent-ptbr -------------------------------------------------------------


def lcu_driver_sharing_violation_dsagent_ptbr() -> dict[str, PmlWriter]:
    """SP-SRV-APP07 (Windows Server 2019, pt-BR, UTC-3) during the online driver queue of KB5036896:
    Trend Micro Deep Security's ds_agent.exe opened ``drivers\\fbnic.sys`` 41 s earlier sharing only Read
    and never closed it, so TiWorker.exe's CreateFile for writing ends in SHARING VIOLATION. Only Windows
    frames are on that stack (the sharing check is the file system's); Trend Micro's minifilter is loaded
    but not on it."""
    build = "10.0.17763.5696"
    t0 = datetime(2024, 4, 10, 5, 17, 40, 380000, tzinfo=UTC)
    w = PmlWriter(computer="SP-SRV-APP07", os_version=(10, 0, 17763))
    tm = Module(
        THIRD,
        0x1A000,
        r"C:\Windows\system32\drivers\tmevtmgr.sys",
        "20.0.0.8438",
        "Trend Micro Inc.",
        "Trend Micro Event Management Driver",
    )
    w.add_process(4, "System", image_path="System", modules=_kernel(tm, build), start=t0 - timedelta(days=12))
    svc = w.add_process(
        812,
        "svchost.exe",
        image_path=r"C:\Windows\system32\svchost.exe",
        command_line=r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
        parent_pid=640,
        company=MS,
        version=build,
        description="Host Process for Windows Services",
        start=t0 - timedelta(days=12),
    )
    dsa_dir = r"C:\Program Files\Trend Micro\Deep Security Agent"
    dsa = w.add_process(
        2936,
        "ds_agent.exe",
        image_path=dsa_dir + r"\ds_agent.exe",
        command_line=f'"{dsa_dir}\\ds_agent.exe" -w "{dsa_dir}\\" -b -i -e "{dsa_dir}\\\\dsa.mof"',
        parent_pid=640,
        company="Trend Micro Inc.",
        version="20.0.0.8438",
        description="Trend Micro Deep Security Agent",
        start=t0 - timedelta(days=12),
        modules=[
            Module(
                0x7FF7A2D10000,
                0x1C4000,
                dsa_dir + r"\ds_agent.exe",
                "20.0.0.8438",
                "Trend Micro Inc.",
                "Trend Micro Deep Security Agent",
            ),
            *_user(build),
        ],
    )
    ti_dir = (
        r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.17763.5689"
        r"_none_5d3e8b0c2f7a41d2"
    )
    ti = w.add_process(
        4412,
        "TiWorker.exe",
        image_path=ti_dir + r"\TiWorker.exe",
        command_line=ti_dir + r"\TiWorker.exe -Embedding",
        parent_pid=812,
        company=MS,
        version="10.0.17763.5689",
        description="Windows Modules Installer Worker",
        start=t0 - timedelta(minutes=19, seconds=28),
        modules=_user(build),
    )
    target = r"C:\Windows\System32\drivers\fbnic.sys"
    source = r"C:\Windows\System32\DriverStore\FileRepository\fbnic.inf_amd64_e51c9a07b3d28f46\fbnic.sys"

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    # The agent's integrity scan opens the driver (Read, sharing Read only) and keeps the handle.
    w.add_event(
        dsa,
        "CreateFile",
        target,
        time=at(-41.207),
        desired_access=GENERIC_READ | SYNCHRONIZE,
        disposition="Open",
        options=0x60,
        share_mode=0x1,
        tid=3180,
        stack=_fs_stack(None),
    )
    w.add_event(dsa, "ReadFile", target, time=at(-41.205), offset=0, length=65536, tid=3180)
    w.add_event(dsa, "ReadFile", target, time=at(-41.203), offset=65536, length=65536, tid=3180)
    w.add_event(dsa, "ReadFile", target, time=at(-41.201), offset=131072, length=65536, tid=3180)
    w.add_event(
        ti,
        "CreateFile",
        source,
        time=at(1.566),
        desired_access=GENERIC_READ | SYNCHRONIZE,
        disposition="Open",
        share_mode=0x5,
        tid=4420,
    )
    w.add_event(ti, "ReadFile", source, time=at(1.567), offset=0, length=212992, tid=4420)
    for k, s in enumerate((1.568, 1.601, 1.634)):  # SetupAPI retries the target twice before giving up
        w.add_event(
            ti,
            "CreateFile",
            target,
            time=at(s),
            desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
            disposition="OverwriteIf",
            options=0x60,
            share_mode=0x0,
            result="SHARING VIOLATION",
            tid=4420,
            stack=_fs_stack(None),
            duration=1200 + 40 * k,
        )
    w.add_event(ti, "CloseFile", source, time=at(1.690), tid=4420)
    w.add_event(
        dsa,
        "RegQueryValue",
        r"HKLM\SOFTWARE\TrendMicro\Deep Security Agent\IntegrityMonitoring\Enabled",
        time=at(2.004),
        type="REG_DWORD",
        data=1,
        tid=3180,
    )
    del svc
    return {"bad/procmon/lcu_retry.pml": w}


# --- msi-1310-file-write-denied-cortex ----------------------------------------------------------------------


def msi_1310_file_write_denied_cortex() -> dict[str, PmlWriter]:
    """TYO-ENG-WS-118 (Windows 11 24H2, en-US, UTC+9) during the SCCM-delivered install of Fabrikam Sync
    Client: the Windows Installer service (msiexec.exe, the ``MSI (s)`` process) writes ``FbSync.exe`` and is
    then denied creating ``FbSyncShell.dll`` under Program Files; Cortex XDR's cyvrfsfd.sys minifilter is
    between the FltMgr frames. The rollback deletes FbSync.exe."""
    build = "10.0.26100.1742"
    t0 = datetime(2024, 9, 12, 5, 6, 52, 496000, tzinfo=UTC)
    w = PmlWriter(computer="TYO-ENG-WS-118", os_version=(10, 0, 26100))
    cortex = Module(
        THIRD,
        0x81000,
        r"C:\Windows\system32\drivers\cyvrfsfd.sys",
        "8.4.1.11536",
        "Palo Alto Networks",
        "Cortex XDR File System Filter",
    )
    w.add_process(
        4, "System", image_path="System", modules=_kernel(cortex, build), start=t0 - timedelta(hours=5)
    )
    w.add_process(
        3308,
        "cyserver.exe",
        image_path=r"C:\Program Files\Palo Alto Networks\Traps\cyserver.exe",
        command_line=r'"C:\Program Files\Palo Alto Networks\Traps\cyserver.exe"',
        parent_pid=1012,
        company="Palo Alto Networks",
        version="8.4.1.11536",
        description="Cortex XDR Service",
        start=t0 - timedelta(hours=5),
    )
    msi = w.add_process(
        8060,
        "msiexec.exe",
        image_path=r"C:\Windows\System32\msiexec.exe",
        command_line=r"C:\Windows\system32\msiexec.exe /V",
        parent_pid=1012,
        company=MS,
        version=build,
        description="Windows® installer",
        start=t0 - timedelta(minutes=3),
        modules=_user(build),
    )
    folder = r"C:\Program Files\Fabrikam\Sync Client"
    t = t0

    def ev(op: str, path: str, gap: float = 2.0, **kw: object) -> int:
        nonlocal t
        t += timedelta(milliseconds=gap)
        return w.add_event(msi, op, path, time=t, tid=8008, **kw)

    ev(
        "CreateFile",
        folder,
        desired_access=READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OpenIf",
        options=0x21,
        open_result="Created",
    )
    ev("CloseFile", folder)
    ev(
        "CreateFile",
        folder + r"\FbSync.exe",
        gap=12.0,
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        share_mode=0x0,
        open_result="Created",
    )
    for k in range(3):
        ev("WriteFile", folder + r"\FbSync.exe", gap=40.0, offset=k * 1048576, length=1048576)
    ev("CloseFile", folder + r"\FbSync.exe", gap=20.0)
    denied = dict(
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        share_mode=0x0,
        result="ACCESS DENIED",
        stack=_fs_stack(0x4A1C0),
    )
    ev("CreateFile", folder + r"\FbSyncShell.dll", gap=14.0, **denied)
    ev("CreateFile", folder + r"\FbSyncShell.dll", gap=1000.0, **denied)  # Windows Installer's retry
    ev(
        "CreateFile",
        folder + r"\FbSync.exe",
        gap=60.0,
        desired_access=0x10080,  # Delete, Read Attributes: the rollback removes the copied file
        disposition="Open",
        options=0x1040,
        share_mode=0x7,
    )
    ev("CloseFile", folder + r"\FbSync.exe")
    return {"bad/procmon/sync_client_install.pml": w}


# --- exchange-cu-config-denied-tmevtmgr ---------------------------------------------------------------------


def exchange_cu_config_denied_tmevtmgr() -> dict[str, PmlWriter]:
    """SH-EXCH-MBX-02 (Windows Server 2019, en-US, UTC+8) during the upgrade to Exchange 2019 CU14:
    ExSetup.exe reads the new ``Microsoft.Exchange.Diagnostics.Service.exe.config`` from the setup media and is denied
    replacing the copy in ``V15\\Bin``; Trend Micro Apex One's tmevtmgr.sys minifilter is between the FltMgr
    frames. Setup stops (ExchangeSetup.log: ``Access to the path ... is denied``)."""
    build = "10.0.17763.5820"
    t0 = datetime(2024, 5, 14, 13, 14, 37, 41000, tzinfo=UTC)  # 21:14:37.041 at UTC+8
    w = PmlWriter(computer="SH-EXCH-MBX-02", os_version=(10, 0, 17763))
    trend = Module(
        THIRD,
        0x62000,
        r"C:\Windows\system32\drivers\tmevtmgr.sys",
        "14.0.12980",
        "Trend Micro Inc.",
        "Trend Micro Event Management Driver",
    )
    w.add_process(
        4, "System", image_path="System", modules=_kernel(trend, build), start=t0 - timedelta(days=12)
    )
    w.add_process(
        2716,
        "TmListen.exe",
        image_path=r"C:\Program Files (x86)\Trend Micro\Security Agent\TmListen.exe",
        command_line=r'"C:\Program Files (x86)\Trend Micro\Security Agent\TmListen.exe"',
        parent_pid=704,
        company="Trend Micro Inc.",
        version="14.0.12980",
        description="Trend Micro Apex One Security Agent Listener",
        start=t0 - timedelta(days=12),
    )
    setup = w.add_process(
        9120,
        "ExSetup.exe",
        image_path=r"C:\Windows\Temp\ExchangeSetup\ExSetup.exe",
        command_line=r'"C:\Windows\Temp\ExchangeSetup\ExSetup.exe" /mode:Upgrade '
        r"/IAcceptExchangeServerLicenseTerms_DiagnosticDataOFF /sourcedir:E:",
        parent_pid=8844,
        company=MS,
        version="15.2.1544.4",
        description="Microsoft Exchange Server Setup",
        start=t0 - timedelta(minutes=12, seconds=26),
        modules=_user(build),
    )
    src = r"E:\Setup\Data\Microsoft.Exchange.Diagnostics.Service.exe.config"
    dest = r"C:\Program Files\Microsoft\Exchange Server\V15\Bin" + "\\Microsoft.Exchange.Diagnostics.Service.exe.config"
    t = t0

    def ev(op: str, path: str, gap: float = 1.5, **kw: object) -> int:
        nonlocal t
        t += timedelta(milliseconds=gap)
        return w.add_event(setup, op, path, time=t, tid=10284, **kw)

    ev("CreateFile", src, desired_access=GENERIC_READ | SYNCHRONIZE, disposition="Open", open_result="Opened")
    ev("ReadFile", src, offset=0, length=7316)
    ev("CloseFile", src)
    ev(
        "CreateFile",
        dest,
        gap=3.0,
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        share_mode=0x0,
        result="ACCESS DENIED",
        stack=_fs_stack(0x2F1A4),
    )
    ev(
        "CreateFile",
        dest,
        gap=0.8,
        desired_access=READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="Open",
        open_result="Opened",
    )
    ev("CloseFile", dest)
    return {"bad/procmon/exsetup_cu14.pml": w}


# --- drvinst-hardware-copy-denied-devicelock-ru ------------------------------------------------------------


def drvinst_hardware_copy_denied_devicelock_ru() -> dict[str, PmlWriter]:
    """MSK-OPS-WS-0931 (Windows 10 LTSC 2021, ru-RU, UTC+3) when a USB document camera is plugged in: the
    Plug and Play service starts DrvInst.exe, which reads ``fbcam.sys`` from the driver store and is denied
    creating ``System32\\drivers\\fbcam.sys``; DeviceLock's DLFsFlt.sys minifilter is between the FltMgr
    frames. No servicing stack is involved (no CBS, no TiWorker.exe)."""
    build = "10.0.19041.4522"
    t0 = datetime(2024, 6, 18, 7, 42, 17, 540000, tzinfo=UTC)
    w = PmlWriter(computer="MSK-OPS-WS-0931", os_version=(10, 0, 19044))
    dl = Module(
        THIRD,
        0x5C000,
        r"C:\Windows\system32\drivers\DLFsFlt.sys",
        "9.0.84.1",
        "DeviceLock, Inc.",
        "DeviceLock File System Filter Driver",
    )
    w.add_process(4, "System", image_path="System", modules=_kernel(dl, build), start=t0 - timedelta(hours=2))
    pnp = w.add_process(
        1076,
        "svchost.exe",
        image_path=r"C:\Windows\system32\svchost.exe",
        command_line=r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
        parent_pid=760,
        company=MS,
        version=build,
        description="Хост-процесс для служб Windows",
        start=t0 - timedelta(hours=2),
    )
    w.add_process(
        2840,
        "DLService.exe",
        image_path=r"C:\Windows\SysWOW64\dlservice\DLService.exe",
        command_line=r"C:\Windows\SysWOW64\dlservice\DLService.exe",
        parent_pid=760,
        company="DeviceLock, Inc.",
        version="9.0.84.1",
        description="DeviceLock Service",
        is64=False,
        start=t0 - timedelta(hours=2),
    )
    dev = r"USB\VID_1FB0&PID_0C27&MI_00\7&2f41c8a&0&0000"
    cmd = f'C:\\Windows\\system32\\DrvInst.exe "4" "0" "{dev}" "" "" "6f2c8a3b1" "0000000000000000"'
    drv = w.add_process(
        7312,
        "drvinst.exe",
        image_path=r"C:\Windows\system32\DrvInst.exe",
        command_line=cmd,
        parent_pid=1076,
        company=MS,
        version=build,
        description="Driver Installation Module",
        start=t0,
        end=t0 + timedelta(milliseconds=1861),
        modules=[
            Module(
                0x7FF6B3A40000,
                0x5B000,
                r"C:\Windows\system32\DrvInst.exe",
                build,
                MS,
                "Driver Installation Module",
            ),
            *_user(build),
        ],
    )
    repo = r"C:\Windows\System32\DriverStore\FileRepository\fbcam.inf_amd64_4e7a1c9b02d5f638"
    target = r"C:\Windows\System32\drivers\fbcam.sys"

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    w.add_event(
        pnp,
        "Process Create",
        r"C:\Windows\system32\DrvInst.exe",
        time=at(0.0),
        pid=7312,
        command_line=cmd,
        tid=1180,
    )
    w.add_event(
        drv,
        "Process Start",
        time=at(0.2),
        parent_pid=1076,
        command_line=cmd,
        current_directory="C:\\Windows\\system32\\",
        tid=7316,
    )
    w.add_event(
        drv,
        "Load Image",
        r"C:\Windows\system32\DrvInst.exe",
        time=at(0.5),
        image_base=0x7FF6B3A40000,
        image_size=0x5B000,
        tid=7316,
    )
    w.add_event(drv, "CreateFile", repo + r"\fbcam.inf", time=at(52.0), desired_access=GENERIC_READ, tid=7316)
    w.add_event(drv, "ReadFile", repo + r"\fbcam.inf", time=at(52.3), offset=0, length=5734, tid=7316)
    w.add_event(drv, "CloseFile", repo + r"\fbcam.inf", time=at(52.6), tid=7316)
    w.add_event(
        drv,
        "CreateFile",
        repo + r"\fbcam.sys",
        time=at(1689.0),
        desired_access=GENERIC_READ | SYNCHRONIZE,
        share_mode=0x1,
        tid=7316,
    )
    w.add_event(
        drv,
        "CreateFile",
        target,
        time=at(1690.4),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        share_mode=0x0,
        result="ACCESS DENIED",
        tid=7316,
        stack=_fs_stack(0x2D3F0),
    )
    w.add_event(drv, "CloseFile", repo + r"\fbcam.sys", time=at(1691.0), tid=7316)
    w.add_event(
        drv,
        "Process Exit",
        time=at(1861.0),
        exit_status=5,
        user_time=312_500,
        kernel_time=468_750,
        private_bytes=3_407_872,
        peak_private_bytes=3_588_096,
        working_set=11_272_192,
        peak_working_set=11_304_960,
        tid=7316,
    )
    return {"bad/procmon/camera_plugin.pml": w}


# --- setup-exe-early-exit-sysfer-zh ------------------------------------------------------------------------

SEP = r"C:\Program Files\Symantec\Symantec Endpoint Protection\14.3.10148.8000.105\Bin64"


def _meeting_setup_run(
    w: PmlWriter, t0: datetime, user: str, folder: str, pids: tuple[int, int], injected: bool
) -> None:
    """One run of Fabrikam Meeting's two-stage setup (32-bit) on a Windows 10 22H2 zh-CN machine: the
    downloaded bootstrapper extracts ``setup.exe`` into ``%TEMP%\\FbMtgSetup_<random>`` and starts it with
    ``/stage2``; stage 2 writes its own log and, when it lives, installs and starts ``FbMtgUpdater.exe``."""
    build = "10.0.19041.4648"
    w.add_process(
        4, "System", image_path="System", modules=_kernel(None, build), start=t0 - timedelta(hours=3)
    )
    sep = w.add_process(
        2764,
        "ccSvcHst.exe",
        image_path=SEP + r"\ccSvcHst.exe",
        command_line=(
            f'"{SEP}\\ccSvcHst.exe" /s "Symantec Endpoint Protection" /m "{SEP}\\sms.dll" /prefetch:1'
        ),
        parent_pid=744,
        company="Broadcom",
        version="14.3.10148.8000",
        description="Symantec Service Framework",
        start=t0 - timedelta(hours=3),
        modules=_user(build),
    )
    stage1_pid, stage2_pid = pids
    home = f"C:\\Users\\{user}"
    boot = home + r"\Downloads\FabrikamMeetingSetup_5.3.2.exe"
    setup = folder + r"\setup.exe"
    cmd2 = f'"{setup}" /stage2 /lang=2052 /parent={stage1_pid}'
    log = (
        home
        + r"\AppData\Local\Temp\FbMeetingSetup_"
        + t0.astimezone(timezone(timedelta(hours=8))).strftime("%Y%m%d_%H%M%S")
        + ".log"
    )
    user_name = f"CORP\\{user}"
    s1 = w.add_process(
        stage1_pid,
        "FabrikamMeetingSetup_5.3.2.exe",
        image_path=boot,
        command_line=f'"{boot}" ',
        parent_pid=5012,
        company="Fabrikam, Inc.",
        version="5.3.2.1870",
        description="Fabrikam 会议 安装程序",
        user=user_name,
        integrity="High",
        is64=False,
        start=t0 - timedelta(seconds=2),
        modules=_user(build, wow64=True),
    )
    smods = [
        Module(0x00D20000, 0x2B1000, setup, "5.3.2.1870", "Fabrikam, Inc.", "Fabrikam 会议 安装程序"),
        *_user(build, wow64=True),
    ]
    if injected:
        smods.append(
            Module(
                0x6E3A0000,
                0x4F000,
                r"C:\Windows\SysWOW64\sysfer.dll",
                "14.3.10148.8000",
                "Broadcom",
                "Symantec CMC Firewall sysfer",
            )
        )
    life = timedelta(milliseconds=74) if injected else timedelta(seconds=24, milliseconds=640)
    s2 = w.add_process(
        stage2_pid,
        "setup.exe",
        image_path=setup,
        command_line=cmd2,
        parent_pid=stage1_pid,
        company="Fabrikam, Inc.",
        version="5.3.2.1870",
        description="Fabrikam 会议 安装程序",
        user=user_name,
        integrity="High",
        is64=False,
        start=t0,
        end=t0 + life,
        modules=smods,
    )
    upd = r"C:\Program Files (x86)\Fabrikam\Meeting\FbMtgUpdater.exe"
    u = None
    if not injected:
        u = w.add_process(
            stage2_pid + 712,
            "FbMtgUpdater.exe",
            image_path=upd,
            command_line=f'"{upd}" /register',
            parent_pid=stage2_pid,
            company="Fabrikam, Inc.",
            version="5.3.2.1870",
            description="Fabrikam 会议 更新服务",
            user=user_name,
            integrity="High",
            is64=False,
            start=t0 + timedelta(seconds=22, milliseconds=770),
            end=t0 + timedelta(seconds=24, milliseconds=410),
            modules=_user(build, wow64=True),
        )

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    t1 = stage1_pid + 4
    t2 = stage2_pid + 4
    w.add_event(
        s1,
        "CreateFile",
        folder,
        time=at(-900),
        desired_access=READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="Create",
        options=0x21,
        open_result="Created",
        tid=t1,
    )
    w.add_event(
        s1,
        "CreateFile",
        setup,
        time=at(-880),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        open_result="Created",
        tid=t1,
    )
    w.add_event(s1, "WriteFile", setup, time=at(-870), offset=0, length=2822144, tid=t1)
    w.add_event(s1, "CloseFile", setup, time=at(-20), tid=t1)
    w.add_event(
        sep,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Symantec\Symantec Endpoint Protection\SMC\SYKNAPPS\ApplicationControl\Enabled",
        time=at(-3),
        type="REG_DWORD",
        data=1 if injected else 0,
        tid=2980,
    )
    w.add_event(s1, "Process Create", setup, time=at(-0.4), pid=stage2_pid, command_line=cmd2, tid=t1)
    w.add_event(
        s2,
        "Process Start",
        time=at(0.0),
        parent_pid=stage1_pid,
        command_line=cmd2,
        current_directory=folder + "\\",
        tid=t2,
    )
    w.add_event(s2, "Thread Create", time=at(0.1), thread_id=t2, tid=t1)
    w.add_event(s2, "Load Image", setup, time=at(0.3), image_base=0x00D20000, image_size=0x2B1000, tid=t2)
    w.add_event(
        s2,
        "Load Image",
        r"C:\Windows\System32\ntdll.dll",
        time=at(0.5),
        image_base=0x7FFC1A000000,
        image_size=0x1F8000,
        tid=t2,
    )
    w.add_event(
        s2,
        "Load Image",
        r"C:\Windows\SysWOW64\ntdll.dll",
        time=at(0.7),
        image_base=0x77000000,
        image_size=0x1A3000,
        tid=t2,
    )
    w.add_event(
        s2,
        "Load Image",
        r"C:\Windows\SysWOW64\kernel32.dll",
        time=at(2.1),
        image_base=0x77400000,
        image_size=0xF0000,
        tid=t2,
    )
    w.add_event(
        s2,
        "Load Image",
        r"C:\Windows\SysWOW64\KernelBase.dll",
        time=at(2.4),
        image_base=0x77800000,
        image_size=0x214000,
        tid=t2,
    )
    w.add_event(
        s2,
        "CreateFile",
        log,
        time=at(6.0),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        share_mode=0x1,
        open_result="Created",
        tid=t2,
    )
    w.add_event(s2, "WriteFile", log, time=at(6.3), offset=0, length=402, tid=t2)
    if injected:
        w.add_event(s2, "Thread Create", time=at(9.0), thread_id=6412, tid=2980)
        w.add_event(
            s2,
            "Load Image",
            r"C:\Windows\SysWOW64\sysfer.dll",
            time=at(9.4),
            image_base=0x6E3A0000,
            image_size=0x4F000,
            tid=6412,
        )
        w.add_event(s2, "Thread Exit", time=at(11.2), tid=6412)
        w.add_event(s2, "WriteFile", log, time=at(14.0), offset=402, length=78, tid=t2)
        w.add_event(
            s2,
            "Process Exit",
            time=at(74.0),
            exit_status=0xC0000409,
            user_time=0,
            kernel_time=156_250,
            private_bytes=1_236_992,
            peak_private_bytes=1_302_528,
            working_set=6_098_944,
            peak_working_set=6_115_328,
            tid=t2,
        )
        w.add_event(
            s1,
            "Process Exit",
            time=at(120.0),
            exit_status=1,
            user_time=156_250,
            kernel_time=312_500,
            private_bytes=2_043_904,
            peak_private_bytes=4_915_200,
            working_set=9_170_944,
            peak_working_set=12_406_784,
            tid=t1,
        )
        return
    assert u is not None
    w.add_event(s2, "WriteFile", log, time=at(14.0), offset=402, length=78, tid=t2)
    w.add_event(
        s2,
        "CreateFile",
        r"C:\Program Files (x86)\Fabrikam\Meeting",
        time=at(293.0),
        desired_access=READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OpenIf",
        options=0x21,
        open_result="Created",
        tid=t2,
    )
    w.add_event(
        s2,
        "CreateFile",
        upd,
        time=at(16200.0),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        open_result="Created",
        tid=t2,
    )
    w.add_event(s2, "CloseFile", upd, time=at(16230.0), tid=t2)
    w.add_event(
        s2,
        "Process Create",
        upd,
        time=at(22769.0),
        pid=stage2_pid + 712,
        command_line=f'"{upd}" /register',
        tid=t2,
    )
    w.add_event(
        u,
        "Process Start",
        time=at(22770.0),
        parent_pid=stage2_pid,
        command_line=f'"{upd}" /register',
        current_directory=folder + "\\",
        tid=stage2_pid + 716,
    )
    w.add_event(
        u,
        "Load Image",
        upd,
        time=at(22770.4),
        image_base=0x00400000,
        image_size=0x1A2000,
        tid=stage2_pid + 716,
    )
    w.add_event(
        u,
        "RegCreateKey",
        r"HKLM\System\CurrentControlSet\Services\FbMtgUpdater",
        time=at(23100.0),
        desired_access=KEY_WRITE_CREATE,
        disposition="REG_CREATED_NEW_KEY",
        tid=stage2_pid + 716,
    )
    w.add_event(
        u,
        "Process Exit",
        time=at(24410.0),
        exit_status=0,
        user_time=312_500,
        kernel_time=468_750,
        private_bytes=2_621_440,
        peak_private_bytes=2_818_048,
        working_set=8_912_896,
        peak_working_set=9_011_200,
        tid=stage2_pid + 716,
    )
    w.add_event(
        s2,
        "Process Exit",
        time=at(24640.0),
        exit_status=0,
        user_time=5_468_750,
        kernel_time=3_906_250,
        private_bytes=5_242_880,
        peak_private_bytes=6_029_312,
        working_set=15_728_640,
        peak_working_set=16_252_928,
        tid=t2,
    )
    w.add_event(
        s1,
        "Process Exit",
        time=at(24700.0),
        exit_status=0,
        user_time=156_250,
        kernel_time=312_500,
        private_bytes=2_043_904,
        peak_private_bytes=4_915_200,
        working_set=9_170_944,
        peak_working_set=12_406_784,
        tid=t1,
    )


def setup_exe_early_exit_sysfer_zh() -> dict[str, PmlWriter]:
    """SZ-FIN-NB-0318 (bad) and SZ-FIN-NB-0402 (good), Windows 10 22H2 zh-CN, UTC+8. On the bad machine
    a ccSvcHst.exe thread (TID 2980) creates a thread in Fabrikam Meeting's stage-2 ``setup.exe`` (32-bit)
    that loads ``C:\\Windows\\SysWOW64\\sysfer.dll`` (Broadcom, in a Windows folder but not Windows' own);
    setup.exe dies 74 ms after start (0xC0000409) and its log stops after the banner. On the good machine
    (no application-control policy) setup.exe runs 24.6 s and registers FbMtgUpdater.exe."""
    bad = PmlWriter(computer="SZ-FIN-NB-0318", os_version=(10, 0, 19045))
    _meeting_setup_run(
        bad,
        datetime(2024, 7, 26, 7, 30, 12, 412000, tzinfo=UTC),
        "wangwei",
        r"C:\Users\wangwei\AppData\Local\Temp\FbMtgSetup_4F2A91",
        (5124, 6388),
        injected=True,
    )
    good = PmlWriter(computer="SZ-FIN-NB-0402", os_version=(10, 0, 19045))
    _meeting_setup_run(
        good,
        datetime(2024, 7, 26, 8, 5, 40, 96000, tzinfo=UTC),
        "lihua",
        r"C:\Users\lihua\AppData\Local\Temp\FbMtgSetup_9B07C3",
        (4410, 7036),
        injected=False,
    )
    return {"bad/procmon/meeting_setup.pml": bad, "good/procmon/meeting_setup.pml": good}


# --- round four: shared servicing boot capture -------------------------------------------------------------


def _servicing_boot_capture(
    *,
    computer: str,
    os_version: tuple[int, int, int],
    build: str,
    ssu_dir: str,
    ssu_version: str,
    t0: datetime,
    third: Module,
    agent: tuple[int, str, str, str, str],
    ti_pid: int,
    svchost_pid: int,
) -> tuple[PmlWriter, int, int, Callable[..., int]]:
    """A boot-logging capture's cast: System (kernel modules with ``third``), the DcomLaunch svchost.exe, the
    agent's service (pid, name, image, company, description) and TiWorker.exe started from ``ssu_dir``.
    Returns the writer, the TiWorker and agent process indexes, and ``ev(proc, op, path, **kw)`` that adds an
    event 6 ms after the previous one."""
    w = PmlWriter(computer=computer, os_version=os_version)
    w.add_process(
        4, "System", image_path="System", modules=_kernel(third, build), start=t0 - timedelta(minutes=3)
    )
    svc = w.add_process(
        svchost_pid,
        "svchost.exe",
        image_path=r"C:\Windows\system32\svchost.exe",
        command_line=r"C:\Windows\system32\svchost.exe -k DcomLaunch -p",
        parent_pid=700,
        company=MS,
        version=build,
        description="Host Process for Windows Services",
        start=t0 - timedelta(minutes=2),
    )
    apid, aname, aimage, acompany, adesc = agent
    ag = w.add_process(
        apid,
        aname,
        image_path=aimage,
        command_line=f'"{aimage}"',
        parent_pid=700,
        company=acompany,
        version=third.version,
        description=adesc,
        start=t0 - timedelta(minutes=2),
    )
    ti_image = ssu_dir + r"\TiWorker.exe"
    ti = w.add_process(
        ti_pid,
        "TiWorker.exe",
        image_path=ti_image,
        command_line=ti_image + " -Embedding",
        parent_pid=svchost_pid,
        company=MS,
        version=ssu_version,
        description="Windows Modules Installer Worker",
        start=t0,
        modules=_user(build),
    )
    t = t0
    step = timedelta(milliseconds=6)

    def ev(proc: int, op: str, path: str = "", **kw: object) -> int:
        nonlocal t
        if "after" in kw:
            t += kw.pop("after")  # type: ignore[operator]
        t += step
        return w.add_event(proc, op, path, time=t, **kw)

    ev(svc, "Process Create", ti_image, pid=ti_pid, command_line=ti_image + " -Embedding", tid=1020)
    ev(
        ti,
        "Process Start",
        parent_pid=svchost_pid,
        command_line=ti_image + " -Embedding",
        current_directory="C:\\Windows\\system32\\",
        tid=ti_pid + 4,
    )
    ev(ti, "Thread Create", thread_id=ti_pid + 4, tid=1020)
    ev(ti, "Load Image", ti_image, image_base=0x7FF6C1B70000, image_size=0x3A000, tid=ti_pid + 4)
    ev(
        ti,
        "Load Image",
        r"C:\Windows\System32\ntdll.dll",
        image_base=0x7FFC1A000000,
        image_size=0x1F8000,
        tid=ti_pid + 4,
    )
    return w, ti, ag, ev


# --- lcu-two-attempts-copy-denied-webroot-es ----------------------------------------------------------------


def lcu_two_attempts_copy_denied_webroot_es() -> dict[str, PmlWriter]:
    """Boot-logging capture on MX-GDL-LT-0712 (Windows 10 22H2 es-MX, UTC-6) of today's KB5034843 restart:
    TiWorker.exe is denied opening ``drivers\\fbtouch.sys`` for writing, Webroot's WRkrn.sys minifilter is
    on the stack. The CBS log also holds last week's KB5034763 attempt (store corruption), not captured."""
    build = "10.0.19041.4170"
    ssu = "10.0.19041.4163"
    ssu_dir = (
        r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.4163"
        r"_none_7c2b9e1a4f6d3e08"
    )
    wr = Module(
        THIRD,
        0x7E000,
        r"C:\Windows\System32\drivers\WRkrn.sys",
        "9.0.35.12",
        "Webroot",
        "Webroot SecureAnywhere",
    )
    t0 = datetime(2024, 2, 29, 0, 42, 17, 300000, tzinfo=UTC)
    w, ti, ag, ev = _servicing_boot_capture(
        computer="MX-GDL-LT-0712",
        os_version=(10, 0, 19045),
        build=build,
        ssu_dir=ssu_dir,
        ssu_version=ssu,
        t0=t0,
        third=wr,
        agent=(2872, "WRSA.exe", r"C:\Program Files\Webroot\WRSA.exe", "Webroot", "Webroot SecureAnywhere"),
        ti_pid=3568,
        svchost_pid=892,
    )
    repo = r"C:\Windows\System32\DriverStore\FileRepository\fbtouch.inf_amd64_9d41c07e5b2a3f18"
    tid = 3620
    ev(ag, "RegQueryValue", r"HKLM\SOFTWARE\WRData\Status\ShieldsActive", type="REG_DWORD", data=1, tid=2900)
    ev(ti, "RegOpenKey", r"HKLM\System\CurrentControlSet\Services\fbtouch", desired_access=KEY_READ, tid=tid)
    ev(ti, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services\fbtouch", tid=tid)
    ev(
        ti,
        "CreateFile",
        repo + r"\fbtouch.inf",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=tid,
        stack=_fs_stack(None),
    )
    ev(ti, "CloseFile", repo + r"\fbtouch.inf", tid=tid)
    ev(
        ti,
        "CreateFile",
        repo + r"\fbtouch.sys",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=tid,
        stack=_fs_stack(None),
        after=timedelta(seconds=1, milliseconds=420),
    )
    ev(ti, "ReadFile", repo + r"\fbtouch.sys", offset=0, length=65536, tid=tid)
    ev(
        ti,
        "CreateFile",
        r"C:\Windows\System32\drivers\fbtouch.sys",
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        result="ACCESS DENIED",
        tid=tid,
        stack=_fs_stack(0x2C41A),
    )
    ev(ti, "CloseFile", repo + r"\fbtouch.sys", tid=tid)
    return {"bad/procmon/Bootlog.pml": w}


# --- lcu-two-infs-second-denied-cisco-ja --------------------------------------------------------------------


def lcu_two_infs_second_denied_cisco_ja() -> dict[str, PmlWriter]:
    """Boot-logging capture on TKY-ENG-WS-2207 (Windows 11 23H2 ja-JP, UTC+9): the critical driver queue
    installs fbhid.inf (every copy succeeds) and then fbsens.inf, whose copy of ``System32\\FbSensSvc.exe``
    is denied with Cisco Secure Endpoint's immunetprotect.sys minifilter on the stack."""
    build = "10.0.22621.3296"
    ssu = "10.0.22621.3227"
    ssu_dir = (
        r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.22621.3227"
        r"_none_4b1d7e2c9a0f6e53"
    )
    amp = Module(
        THIRD,
        0x9C000,
        r"C:\Windows\System32\drivers\immunetprotect.sys",
        "8.2.3.30119",
        "Cisco Systems, Inc.",
        "Cisco Secure Endpoint Protection Driver",
    )
    t0 = datetime(2024, 3, 13, 1, 6, 44, 100000, tzinfo=UTC)
    w, ti, ag, ev = _servicing_boot_capture(
        computer="TKY-ENG-WS-2207",
        os_version=(10, 0, 22631),
        build=build,
        ssu_dir=ssu_dir,
        ssu_version=ssu,
        t0=t0,
        third=amp,
        agent=(
            3180,
            "sfc.exe",
            r"C:\Program Files\Cisco\AMP\8.2.3.30119\sfc.exe",
            "Cisco Systems, Inc.",
            "Cisco Secure Endpoint Service",
        ),
        ti_pid=4012,
        svchost_pid=1004,
    )
    hid = r"C:\Windows\System32\DriverStore\FileRepository\fbhid.inf_amd64_0e6b3a9c1d27f845"
    sens = r"C:\Windows\System32\DriverStore\FileRepository\fbsens.inf_amd64_72c4d1e08b3f5a96"
    tid = 4060
    write = GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE
    ev(
        ag,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Immunet Protect\ProtectionEnabled",
        type="REG_DWORD",
        data=1,
        tid=3200,
    )
    # fbhid.inf (index 0): its driver is copied, its service created
    ev(
        ti,
        "CreateFile",
        hid + r"\fbhid.sys",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=tid,
        stack=_fs_stack(None),
    )
    ev(
        ti,
        "CreateFile",
        r"C:\Windows\System32\drivers\fbhid.sys",
        desired_access=write,
        disposition="OverwriteIf",
        open_result="Created",
        tid=tid,
        stack=_fs_stack(None),
    )
    ev(ti, "WriteFile", r"C:\Windows\System32\drivers\fbhid.sys", offset=0, length=48128, tid=tid)
    ev(ti, "CloseFile", r"C:\Windows\System32\drivers\fbhid.sys", tid=tid)
    ev(
        ti,
        "RegCreateKey",
        r"HKLM\System\CurrentControlSet\Services\fbhid",
        desired_access=KEY_WRITE_CREATE,
        disposition="REG_CREATED_NEW_KEY",
        tid=tid,
        stack=_reg_stack(None),
    )
    ev(ti, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services\fbhid", tid=tid)
    # fbsens.inf (index 1): the kernel driver is copied, the service executable is denied
    ev(
        ti,
        "CreateFile",
        sens + r"\fbsens.sys",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=tid,
        stack=_fs_stack(None),
        after=timedelta(milliseconds=610),
    )
    ev(
        ti,
        "CreateFile",
        r"C:\Windows\System32\drivers\fbsens.sys",
        desired_access=write,
        disposition="OverwriteIf",
        open_result="Overwritten",
        tid=tid,
        stack=_fs_stack(None),
    )
    ev(ti, "WriteFile", r"C:\Windows\System32\drivers\fbsens.sys", offset=0, length=71680, tid=tid)
    ev(ti, "CloseFile", r"C:\Windows\System32\drivers\fbsens.sys", tid=tid)
    ev(
        ti,
        "CreateFile",
        sens + r"\FbSensSvc.exe",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=tid,
        stack=_fs_stack(None),
    )
    ev(
        ti,
        "CreateFile",
        r"C:\Windows\System32\FbSensSvc.exe",
        desired_access=write,
        disposition="OverwriteIf",
        result="ACCESS DENIED",
        tid=tid,
        stack=_fs_stack(0x41D7C),
    )
    ev(ti, "CloseFile", sens + r"\FbSensSvc.exe", tid=tid)
    return {"bad/procmon/Bootlog.pml": w}


# --- lcu-driver-acl-deny-dgdmk-on-stack-it ------------------------------------------------------------------


def lcu_driver_acl_deny_dgdmk_on_stack_it() -> dict[str, PmlWriter]:
    """Boot-logging capture on MIL-SRV-FS-04 (Windows Server 2022 it-IT, UTC+1): TiWorker.exe is denied
    opening ``drivers\\fbraid.sys`` for writing. Digital Guardian's dgdmk.sys sits in the file-system chain of
    every one of TiWorker.exe's opens (the successful reads have its frames too), and the file's DACL holds an
    explicit Deny for Everyone: the deny ACE, not the agent, refuses the write."""
    build = "10.0.20348.2340"
    ssu = "10.0.20348.2332"
    ssu_dir = (
        r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.20348.2332"
        r"_none_1f7a0c5e3b9d4e21"
    )
    dg = Module(
        THIRD,
        0x1B4000,
        r"C:\Windows\System32\drivers\dgdmk.sys",
        "7.9.2.0118",
        "Digital Guardian, Inc.",
        "Digital Guardian Kernel Driver",
    )
    t0 = datetime(2024, 3, 14, 2, 31, 5, 600000, tzinfo=UTC)
    w, ti, ag, ev = _servicing_boot_capture(
        computer="MIL-SRV-FS-04",
        os_version=(10, 0, 20348),
        build=build,
        ssu_dir=ssu_dir,
        ssu_version=ssu,
        t0=t0,
        third=dg,
        agent=(
            2344,
            "DgService.exe",
            r"C:\Program Files\DGAgent\DgService.exe",
            "Digital Guardian, Inc.",
            "Digital Guardian Agent Service",
        ),
        ti_pid=3904,
        svchost_pid=968,
    )
    repo = r"C:\Windows\System32\DriverStore\FileRepository\fbraid.inf_amd64_5a0e2d7c91b3f648"
    tid = 3952
    ev(ti, "RegOpenKey", r"HKLM\System\CurrentControlSet\Services\fbraid", desired_access=KEY_READ, tid=tid)
    ev(ti, "RegCloseKey", r"HKLM\System\CurrentControlSet\Services\fbraid", tid=tid)
    ev(
        ti,
        "CreateFile",
        repo + r"\fbraid.inf",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=tid,
        stack=_fs_stack(0x8E10C),
    )
    ev(ti, "CloseFile", repo + r"\fbraid.inf", tid=tid)
    ev(
        ti,
        "CreateFile",
        repo + r"\fbraid.sys",
        desired_access=GENERIC_READ,
        disposition="Open",
        tid=tid,
        stack=_fs_stack(0x8E10C),
        after=timedelta(seconds=1, milliseconds=80),
    )
    ev(ti, "ReadFile", repo + r"\fbraid.sys", offset=0, length=65536, tid=tid)
    ev(
        ti,
        "CreateFile",
        r"C:\Windows\System32\drivers\fbraid.sys",
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        result="ACCESS DENIED",
        tid=tid,
        stack=_fs_stack(0x8E10C),
    )
    ev(ti, "CloseFile", repo + r"\fbraid.sys", tid=tid)
    ev(ag, "RegQueryValue", r"HKLM\SOFTWARE\Verdasys\Agent\Status", type="REG_DWORD", data=1, tid=2400)
    return {"bad/procmon/Bootlog.pml": w}


# --- webview2-two-dlls-mbae-not-ctxhook-pl ------------------------------------------------------------------

MBAM = r"C:\Program Files\Malwarebytes\Anti-Malware"
CTXHOOK = r"C:\Program Files (x86)\Citrix\System32\CtxHook.dll"


def _webview2_vdi_run(
    computer: str, t0: datetime, eu_tmp: str, pids: tuple[int, int, int], injected: bool
) -> PmlWriter:
    """One run of the standalone WebView2 Runtime installer on a Citrix VDI desktop (Windows 10 22H2 pl-PL)
    started by the ConfigMgr client as SYSTEM. Citrix's CtxHook.dll loads into the 32-bit EU*.tmp
    MicrosoftEdgeUpdate.exe on its own main thread in every run (AppInit hook of the VDA). With ``injected``,
    a thread of MBAMService.exe creates a thread in the updater that loads Malwarebytes' mbae.dll and the
    updater exits 0x80040C01 68 ms after start; otherwise it runs 29 s and starts the WebView2 setup."""
    build = "10.0.19041.4522"
    inst_pid, eu_pid, setup_pid = pids
    w = PmlWriter(computer=computer, os_version=(10, 0, 19045))
    w.add_process(
        4, "System", image_path="System", modules=_kernel(None, build), start=t0 - timedelta(hours=2)
    )
    mb = w.add_process(
        3412,
        "MBAMService.exe",
        image_path=MBAM + r"\MBAMService.exe",
        command_line=f'"{MBAM}\\MBAMService.exe"',
        parent_pid=748,
        company="Malwarebytes",
        version="5.1.5.116",
        description="Malwarebytes Service",
        start=t0 - timedelta(hours=2),
    )
    inst_path = r"C:\Windows\ccmcache\2c\MicrosoftEdgeWebView2RuntimeInstallerX64.exe"
    inst = w.add_process(
        inst_pid,
        "MicrosoftEdgeWebView2RuntimeInstallerX64.exe",
        image_path=inst_path,
        command_line=f'"{inst_path}" /silent /install',
        parent_pid=2976,
        company=MS,
        version="1.3.187.41",
        description="Microsoft Edge WebView2 Runtime Installer",
        is64=False,
        start=t0 - timedelta(milliseconds=35),
        modules=_user(build, wow64=True),
    )
    eu_dir = rf"C:\Program Files (x86)\Microsoft\Temp\{eu_tmp}"
    eu_exe = eu_dir + r"\MicrosoftEdgeUpdate.exe"
    eu_cmd = (
        f'"{eu_exe}" /silent /install '
        '"appguid={F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}&appname=Microsoft%20Edge%20Webview2%20Runtime&needsadmin=prefers"'
    )
    ctx = Module(0x6E400000, 0x2D000, CTXHOOK, "7.33.5000.11", "Citrix Systems, Inc.", "Citrix Hook Library")
    mbae = Module(
        0x6C2A0000, 0xE4000, MBAM + r"\mbae.dll", "1.13.1.604", "Malwarebytes", "Malwarebytes Anti-Exploit"
    )
    mods = [
        Module(0xC40000, 0x4A000, eu_exe, "1.3.187.41", MS, "Microsoft Edge Update"),
        *_user(build, wow64=True),
        Module(
            0x76D00000,
            0x1A0000,
            r"C:\Windows\SysWOW64\user32.dll",
            build,
            MS,
            "Multi-User Windows USER API Client DLL",
        ),
        ctx,
        *([mbae] if injected else []),
        Module(
            0x6D120000, 0x1A6000, eu_dir + r"\msedgeupdate.dll", "1.3.187.41", MS, "Microsoft Edge Update"
        ),
    ]
    life = timedelta(milliseconds=68) if injected else timedelta(seconds=29, milliseconds=412)
    eu = w.add_process(
        eu_pid,
        "MicrosoftEdgeUpdate.exe",
        image_path=eu_exe,
        command_line=eu_cmd,
        parent_pid=inst_pid,
        company=MS,
        version="1.3.187.41",
        description="Microsoft Edge Update",
        is64=False,
        start=t0,
        end=t0 + life,
        modules=mods,
    )

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    main = eu_pid + 4
    w.add_event(
        mb,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Malwarebytes\Anti-Exploit\Enabled",
        time=at(-20),
        type="REG_DWORD",
        data=1,
        tid=3460,
    )
    w.add_event(
        inst,
        "CreateFile",
        eu_exe,
        time=at(-14),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | DELETE,
        disposition="OverwriteIf",
        open_result="Created",
        tid=inst_pid + 4,
    )
    w.add_event(inst, "CloseFile", eu_exe, time=at(-13), tid=inst_pid + 4)
    w.add_event(inst, "Process Create", eu_exe, time=at(0), pid=eu_pid, command_line=eu_cmd, tid=inst_pid + 4)
    w.add_event(
        eu,
        "Process Start",
        time=at(0.05),
        parent_pid=inst_pid,
        command_line=eu_cmd,
        current_directory=eu_dir + "\\",
        tid=inst_pid + 4,
    )
    w.add_event(eu, "Thread Create", time=at(0.1), thread_id=main, tid=inst_pid + 4)
    w.add_event(eu, "Load Image", eu_exe, time=at(0.4), image_base=0xC40000, image_size=0x4A000, tid=main)
    w.add_event(
        eu,
        "Load Image",
        r"C:\Windows\SysWOW64\ntdll.dll",
        time=at(1.9),
        image_base=0x77000000,
        image_size=0x1F8000,
        tid=main,
    )
    w.add_event(
        eu,
        "Load Image",
        r"C:\Windows\SysWOW64\kernel32.dll",
        time=at(3.0),
        image_base=0x77400000,
        image_size=0xBF000,
        tid=main,
    )
    w.add_event(
        eu,
        "Load Image",
        r"C:\Windows\SysWOW64\user32.dll",
        time=at(6.2),
        image_base=0x76D00000,
        image_size=0x1A0000,
        tid=main,
    )
    w.add_event(eu, "Load Image", CTXHOOK, time=at(7.9), image_base=0x6E400000, image_size=0x2D000, tid=main)
    if injected:
        w.add_event(
            mb,
            "CreateFile",
            eu_exe,
            time=at(9.4),
            desired_access=READ_ATTRIBUTES,
            disposition="Open",
            tid=3460,
        )
        w.add_event(mb, "CloseFile", eu_exe, time=at(9.6), tid=3460)
        w.add_event(eu, "Thread Create", time=at(10.2), thread_id=eu_pid + 32, tid=3460)
        w.add_event(
            eu,
            "Load Image",
            MBAM + r"\mbae.dll",
            time=at(10.9),
            image_base=0x6C2A0000,
            image_size=0xE4000,
            tid=eu_pid + 32,
        )
        w.add_event(eu, "Thread Exit", time=at(12.3), user_time=0, kernel_time=0, tid=eu_pid + 32)
    w.add_event(
        eu,
        "Load Image",
        eu_dir + r"\msedgeupdate.dll",
        time=at(17.6),
        image_base=0x6D120000,
        image_size=0x1A6000,
        tid=main,
    )
    if injected:
        w.add_event(
            eu,
            "Process Exit",
            time=at(68),
            exit_status=0x80040C01,
            user_time=156_250,
            kernel_time=0,
            private_bytes=2_199_552,
            peak_private_bytes=2_342_912,
            working_set=8_564_736,
            peak_working_set=8_617_984,
            tid=main,
        )
        w.add_event(
            inst,
            "Process Exit",
            time=at(151),
            exit_status=0x80040902,
            user_time=312_500,
            kernel_time=468_750,
            private_bytes=3_416_064,
            peak_private_bytes=3_723_264,
            working_set=11_030_528,
            peak_working_set=11_116_544,
            tid=inst_pid + 4,
        )
        return w
    setup_dir = r"C:\Program Files (x86)\Microsoft\EdgeUpdate\Install\{4E0B7C13-95A2-4F6D-8B31-C72D0A9E5F84}"
    setup_exe = setup_dir + r"\MicrosoftEdge_X64_126.0.2592.56.exe"
    setup_cmd = f'"{setup_exe}" --msedgewebview --verbose-logging --do-not-launch-msedge --system-level'
    setup = w.add_process(
        setup_pid,
        "MicrosoftEdge_X64_126.0.2592.56.exe",
        image_path=setup_exe,
        command_line=setup_cmd,
        parent_pid=eu_pid,
        company=MS,
        version="126.0.2592.56",
        description="Microsoft Edge Installer",
        start=at(4410),
        end=at(29105),
        modules=_user(build),
    )
    w.add_event(
        eu,
        "RegCreateKey",
        r"HKLM\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}",
        time=at(2105),
        desired_access=KEY_WRITE_CREATE,
        disposition="REG_CREATED_NEW_KEY",
        tid=main,
    )
    w.add_event(
        eu, "Process Create", setup_exe, time=at(4410), pid=setup_pid, command_line=setup_cmd, tid=eu_pid + 40
    )
    w.add_event(
        setup,
        "Process Start",
        time=at(4410.1),
        parent_pid=eu_pid,
        command_line=setup_cmd,
        current_directory=setup_dir + "\\",
        tid=setup_pid + 4,
    )
    w.add_event(
        setup,
        "CreateFile",
        r"C:\Program Files (x86)\Microsoft\EdgeWebView\Application\126.0.2592.56\msedgewebview2.exe",
        time=at(18250),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="Create",
        open_result="Created",
        tid=setup_pid + 4,
    )
    w.add_event(
        setup,
        "Process Exit",
        time=at(29105),
        exit_status=0,
        user_time=9_531_250,
        kernel_time=6_250_000,
        private_bytes=48_123_904,
        peak_private_bytes=61_157_376,
        working_set=52_400_128,
        peak_working_set=66_514_944,
        tid=setup_pid + 4,
    )
    w.add_event(
        eu,
        "Process Exit",
        time=at(29412),
        exit_status=0,
        user_time=796_875,
        kernel_time=640_625,
        private_bytes=4_112_384,
        peak_private_bytes=4_472_832,
        working_set=13_238_272,
        peak_working_set=13_463_552,
        tid=main,
    )
    w.add_event(
        inst,
        "Process Exit",
        time=at(29466),
        exit_status=0,
        user_time=171_875,
        kernel_time=328_125,
        private_bytes=3_416_064,
        peak_private_bytes=3_723_264,
        working_set=11_030_528,
        peak_working_set=11_116_544,
        tid=inst_pid + 4,
    )
    return w


def webview2_two_dlls_mbae_not_ctxhook_pl() -> dict[str, PmlWriter]:
    """WebView2 Runtime installs on two Citrix VDI desktops of the same image (Windows 10 22H2 pl-PL, UTC+2):
    on VDI-PL-0442 (bad) two third-party DLLs load into the EU*.tmp updater before it exits, CtxHook.dll
    (Citrix, in both runs, on the main thread) and mbae.dll (Malwarebytes, bad run only, on a thread
    MBAMService.exe created); on VDI-PL-0457 (good) the updater runs 29 s with CtxHook.dll loaded."""
    bad = _webview2_vdi_run(
        "VDI-PL-0442",
        datetime(2024, 6, 18, 7, 14, 5, 231000, tzinfo=UTC),
        "EU7D21.tmp",
        (5540, 6804, 0),
        True,
    )
    good = _webview2_vdi_run(
        "VDI-PL-0457",
        datetime(2024, 6, 18, 7, 31, 42, 610000, tzinfo=UTC),
        "EU93B0.tmp",
        (5212, 6148, 7720),
        False,
    )
    return {"bad/procmon/webview2_install.pml": bad, "good/procmon/webview2_install.pml": good}


class Blob:
    """Bytes a builder writes that are not a capture (an LZX cabinet), with the writer's ``to_bytes``."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def to_bytes(self) -> bytes:
        return self.data


def _lzx_words(bits: str) -> bytes:
    """LZX bit fields, most significant bit first, in 16-bit little-endian words (zero padded)."""
    bits += "0" * (-len(bits) % 16)
    return b"".join(struct.pack("<H", int(bits[i : i + 16], 2)) for i in range(0, len(bits), 16))


def lzx_cab(name: str, data: bytes, window_bits: int = 21) -> bytes:
    """An MS-CAB holding ``name`` in one LZX folder ([MS-CAB] CFFOLDER typeCompress 3 | window << 8).

    Each 32 KiB frame is one LZX *uncompressed* block ([MS-PATCH] LZX: block type 3, 24-bit size, the
    bitstream realigned to 16 bits, R0-R2, the raw bytes, a pad byte after an odd size); the first frame
    starts with the E8-translation bit (0). A valid LZX stream any LZX decoder expands (checked with
    ``cabextract -t``), for the reader that must say it does not decode LZX."""
    frames = []
    for n, i in enumerate(range(0, len(data), 0x8000)):
        blk = data[i : i + 0x8000]
        head = ("0" if n == 0 else "") + "011" + format(len(blk), "024b")
        payload = _lzx_words(head) + struct.pack("<III", 1, 1, 1) + blk + (b"\x00" if len(blk) & 1 else b"")
        frames.append(struct.pack("<IHH", 0, len(payload), len(blk)) + payload)
    files = struct.pack("<IIHHHH", len(data), 0, 0, 0x5A6F, 0x4B97, 0x20) + name.encode("ascii") + b"\x00"
    coff_files = 36 + 8
    coff_data = coff_files + len(files)
    total = coff_data + sum(len(f) for f in frames)
    header = b"MSCF" + struct.pack("<IIIIIBBHHHHH", 0, total, 0, coff_files, 0, 3, 1, 1, 1, 0, 0, 0)
    folder = struct.pack("<IHH", coff_data, len(frames), 3 | (window_bits << 8))
    return header + folder + files + b"".join(frames)


def _cbs_routine_session(day: str, clock: str, csi_utc: str, session: str) -> list[str]:
    """One TrustedInstaller start with a Windows Update applicability session and nothing to install."""
    ssu = (
        r"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.22621.3140"
        r"_none_6a2c8f1e4d7b0c35"
    )

    def line(msg: str, comp: str = "CBS") -> str:
        return f"{day} {clock}, {'Info':<22}{comp:<7}{msg}"

    return [
        line("Starting TrustedInstaller initialization."),
        line(f"Loaded Servicing Stack v10.0.22621.3140 with Core: {ssu}\\cbscore.dll"),
        line(
            f"00000001@{csi_utc} WcpInitialize: wcp.dll version 10.0.22621.3140 (WinBuild.160101.0800)", "CSI"
        ),
        line("Ending TrustedInstaller initialization."),
        line("Starting the TrustedInstaller main loop."),
        line("TrustedInstaller service starts successfully."),
        line("No startup processing required, TrustedInstaller service was not set as autostart"),
        line("Startup processing thread terminated normally"),
        line(
            f"Session: {session} initialized by client WindowsUpdateAgent, external staging directory: "
            "(null), external registry directory: (null)"
        ),
        line(f"Session: {session} finalized. Reboot required: no [HRESULT = 0x00000000 - S_OK]"),
        line("Ending the TrustedInstaller main loop."),
        line("Starting TrustedInstaller finalization."),
        line("Ending TrustedInstaller finalization."),
    ]


# --- msi-1406-run-key-denied-damaged-bundle-sophos ----------------------------------------------------------


def msi_1406_run_key_denied_damaged_bundle_sophos() -> dict[str, PmlWriter | Blob]:
    """Capture on TOR-FIN-LT-1138 (Windows 11 23H2 en-CA, UTC-4) of the Fabrikam Sync Client MSI: the server
    msiexec.exe (SYSTEM) is denied setting the ``FabrikamSyncTray`` value under ``...\\CurrentVersion\\Run``
    with Sophos' SophosED.sys registry-callback frames on the stack. (The rest of the bundle is damaged: a
    truncated manifest.json, the MSI log's tail without BOM, an LZX CbsPersist cabinet.)"""
    build = "10.0.22621.3296"
    t0 = datetime(2024, 3, 20, 14, 12, 31, 880000, tzinfo=UTC)
    sed = Module(
        THIRD,
        0x2F4000,
        r"C:\Windows\system32\drivers\SophosED.sys",
        "3.3.1.17",
        "Sophos Limited",
        "Sophos Endpoint Defense",
    )
    w = PmlWriter(computer="TOR-FIN-LT-1138", os_version=(10, 0, 22631))
    w.add_process(
        4, "System", image_path="System", modules=_kernel(sed, build), start=t0 - timedelta(hours=1)
    )
    sedsvc = w.add_process(
        3156,
        "SEDService.exe",
        image_path=r"C:\Program Files\Sophos\Endpoint Defense\SEDService.exe",
        command_line=r'"C:\Program Files\Sophos\Endpoint Defense\SEDService.exe"',
        parent_pid=1012,
        company="Sophos Limited",
        version="3.3.1.17",
        description="Sophos Endpoint Defense Service",
        start=t0 - timedelta(hours=1),
    )
    msi = w.add_process(
        4260,
        "msiexec.exe",
        image_path=r"C:\Windows\System32\msiexec.exe",
        command_line=r"C:\Windows\system32\msiexec.exe /V",
        parent_pid=1012,
        company=MS,
        version="5.0.22621.3296",
        description="Windows® installer",
        start=t0 - timedelta(seconds=14),
        modules=_user(build),
    )
    run = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"
    sw = r"HKLM\SOFTWARE\Fabrikam\Sync Client"
    tid = 4300

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    w.add_event(
        msi,
        "CreateFile",
        r"C:\Program Files\Fabrikam\Sync Client\FbSyncTray.exe",
        time=at(69),
        desired_access=GENERIC_WRITE | READ_ATTRIBUTES | SYNCHRONIZE,
        disposition="OverwriteIf",
        open_result="Created",
        tid=tid,
        stack=_fs_stack(None),
    )
    w.add_event(
        msi, "CloseFile", r"C:\Program Files\Fabrikam\Sync Client\FbSyncTray.exe", time=at(120), tid=tid
    )
    w.add_event(
        msi,
        "RegCreateKey",
        sw,
        time=at(147),
        desired_access=KEY_WRITE_CREATE,
        disposition="REG_OPENED_EXISTING_KEY",
        tid=tid,
        stack=_reg_stack(None),
    )
    w.add_event(
        msi,
        "RegSetValue",
        sw + r"\InstallDir",
        time=at(148),
        type="REG_SZ",
        data="C:\\Program Files\\Fabrikam\\Sync Client\\",
        tid=tid,
        stack=_reg_stack(None),
    )
    w.add_event(
        msi,
        "RegSetValue",
        sw + r"\Version",
        time=at(162),
        type="REG_SZ",
        data="5.0.3.211",
        tid=tid,
        stack=_reg_stack(None),
    )
    w.add_event(msi, "RegCloseKey", sw, time=at(163), tid=tid)
    w.add_event(
        msi, "RegOpenKey", run, time=at(165), desired_access=KEY_WRITE_CREATE, tid=tid, stack=_reg_stack(None)
    )
    w.add_event(
        msi,
        "RegSetValue",
        run + r"\FabrikamSyncTray",
        time=at(180),
        result="ACCESS DENIED",
        type="REG_SZ",
        data='"C:\\Program Files\\Fabrikam\\Sync Client\\FbSyncTray.exe" /background',
        tid=tid,
        stack=_reg_stack(0x6B3D0),
    )
    w.add_event(
        sedsvc,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Sophos\Endpoint Defense\TamperProtection\Enabled",
        time=at(188),
        type="REG_DWORD",
        data=1,
        tid=3200,
    )
    w.add_event(msi, "RegCloseKey", run, time=at(190), tid=tid)
    w.add_event(
        msi, "RegOpenKey", sw, time=at(1257), desired_access=KEY_WRITE_CREATE, tid=tid, stack=_reg_stack(None)
    )
    w.add_event(msi, "RegCloseKey", sw, time=at(1274), tid=tid)
    old: list[str] = []
    for i, (day, clock, csi) in enumerate(
        [
            ("2024-03-12", "03:11:40", "2024/03/12:07:11:40.903"),
            ("2024-03-14", "21:30:05", "2024/03/15:01:30:05.246"),
            ("2024-03-17", "08:02:51", "2024/03/17:12:02:51.730"),
        ]
    ):
        old += _cbs_routine_session(day, clock, csi, f"3109{4100 + i * 37}_{2813300455 + i * 7919}")
    persist = "CbsPersist_20240318101544"
    cab = lzx_cab(persist + ".log", ("\r\n".join(old) + "\r\n").encode("ascii"))
    return {
        "bad/procmon/sync_client_install.pml": w,
        f"bad/Windows/Logs/CBS/{persist}.cab": Blob(cab),  # last week's CBS log, archived by CBS as LZX
    }


def build_zip_bundle(case: str) -> bytes:
    """The single-zip bundle of ``case``: the text files under ``<case>/bundle/`` as they lie on the machine,
    each ``CbsPersist_*.log`` packed into its ``CbsPersist_*.cab`` (as Windows archives them) and the case's
    captures from :data:`ZIP_BUNDLES` added."""
    from tests.builders import build_cab, build_zip

    src = CASES / case / "bundle"
    members: dict[str, bytes] = {}
    for p in sorted(src.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(src).as_posix()
        if p.name.startswith("CbsPersist_") and p.suffix == ".log":
            members[rel[: -len(".log")] + ".cab"] = build_cab({p.name: p.read_bytes()})
        else:
            members[rel] = p.read_bytes()
    for rel, w in ZIP_BUNDLES[case]().items():
        members[rel] = w.to_bytes()
    return build_zip(members)


BUILDERS: dict[str, Callable[[], dict[str, PmlWriter | Blob]]] = {
    "lcu-storage-copy-denied-csagent": lcu_storage_copy_denied_csagent,
    "msi-1402-print-monitor-hlprotect-zh": msi_1402_print_monitor_hlprotect_zh,
    "msi-helper-injected-cymemdef": msi_helper_injected_cymemdef,
    "lcu-store-corrupt-sophos-zh": lcu_store_corrupt_sophos_zh,
    "pnputil-service-key-deny-ace": pnputil_service_key_deny_ace,
    "msi-1923-service-denied-sentinelone": msi_1923_service_denied_sentinelone,
    "win7-driver-rename-denied-mfehidk": win7_driver_rename_denied_mfehidk,
    "dism-capability-service-denied-klif": dism_capability_service_denied_klif,
    "webview2-early-exit-fcoehook-csv": webview2_early_exit_fcoehook_csv,
    "lcu-driver-sharing-violation-dsagent-ptbr": lcu_driver_sharing_violation_dsagent_ptbr,
    "msi-1310-file-write-denied-cortex": msi_1310_file_write_denied_cortex,
    "exchange-cu-config-denied-tmevtmgr": exchange_cu_config_denied_tmevtmgr,
    "drvinst-hardware-copy-denied-devicelock-ru": drvinst_hardware_copy_denied_devicelock_ru,
    "setup-exe-early-exit-sysfer-zh": setup_exe_early_exit_sysfer_zh,
    "lcu-two-attempts-copy-denied-webroot-es": lcu_two_attempts_copy_denied_webroot_es,
    "lcu-two-infs-second-denied-cisco-ja": lcu_two_infs_second_denied_cisco_ja,
    "lcu-driver-acl-deny-dgdmk-on-stack-it": lcu_driver_acl_deny_dgdmk_on_stack_it,
    "webview2-two-dlls-mbae-not-ctxhook-pl": webview2_two_dlls_mbae_not_ctxhook_pl,
    "msi-1406-run-key-denied-damaged-bundle-sophos": msi_1406_run_key_denied_damaged_bundle_sophos,
}

# Cases delivered as one zip built at test time (``build_zip_bundle``): case → its captures (zip-relative).
ZIP_BUNDLES: dict[str, Callable[[], dict[str, PmlWriter]]] = {
    "zip-lcu-service-denied-360-zh": zip_lcu_service_denied_360_zh,
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
