"""Small PML captures of one invented install ("Contoso Agent"), written with the project's PML writer.

``install_run()`` writes a capture of ``msiexec /i agent.msi`` started from ``cmd.exe``: msiexec starts the
extracted custom-action EXE ``C:\\Windows\\Installer\\MSI*.tmp``, which reads and writes the product's keys,
loads its DLLs and starts ``helper.exe`` from a temp folder. Options switch on the variations the diff must
see through (PIDs, TIDs, times, temp names, user names) or must report (a foreign DLL, an ACCESS DENIED, an
early exit).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from culprit.parsers.procmon.structs import Module
from culprit.parsers.procmon.writer import PmlWriter

MS = "Microsoft Corporation"
T0 = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
HOOK = r"C:\Program Files\Fabrikam\fbhook.dll"
HOOK_COMPANY = "Fabrikam Security Ltd"


def _mod(path: str, company: str = MS, desc: str = "", base: int = 0x7FF800000000) -> Module:
    return Module(base, 0x10000, path, "10.0.19041.1", company, desc)


def install_run(
    path: Path,
    *,
    pid_base: int = 1000,
    t0: datetime = T0,
    temp: str = "MSI4C2E",
    eu: str = "EU7C31",
    user: str = "alice",
    hook_in_both: bool = False,
    hook_only: bool = False,
    denied: bool = False,
    early_exit: bool = False,
    name_suffix: str = "",
    ca_status: int = 0,
    crash_child: bool = False,
    queries: int = 0,
) -> Path:
    """Write one run of the install to ``path`` and return it.

    Args:
        pid_base: PIDs and TIDs are numbered from here (runs differ only in this must diff to nothing).
        t0: when msiexec starts.
        temp / eu: the run-specific temp names of the custom-action EXE and of helper.exe's folder.
        user: the user profile the MSI is installed from.
        hook_in_both: load the third-party ``fbhook.dll`` into the custom action (give it to both runs).
        hook_only: load ``fbhook.dll`` on a thread that ``agentmon.exe`` creates in the custom action.
        denied: the custom action's write of ``InstallPath`` and its ``RegCreateKey`` of the service key get
            ACCESS DENIED.
        early_exit: the custom action quits 60 ms after the hook loads, with 0x80070643, without helper.exe.
        name_suffix: appended to the custom action's process name (lets tests inject odd characters).
        ca_status: the custom action's exit status when it does not quit early.
        crash_child: the custom action starts ``WerFault.exe`` (as a crash of it would) before it exits.
        queries: extra successful registry reads by the custom action (between 200 and 1400 ms).
    """
    w = PmlWriter(computer="WS-0001")
    p = pid_base

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    ca_path = rf"C:\Windows\Installer\{temp}.tmp"
    helper_path = rf"C:\Program Files\Contoso\{eu}.tmp\helper.exe"
    ca_end = 260.0 if early_exit else 5200.0
    mon = w.add_process(
        p + 90,
        "agentmon.exe",
        image_path=r"C:\Program Files\Fabrikam\agentmon.exe",
        command_line=r'"C:\Program Files\Fabrikam\agentmon.exe" /service',
        parent_pid=p - 400,
        company=HOOK_COMPANY,
        start=t0 - timedelta(hours=2),
        modules=[_mod(r"C:\Program Files\Fabrikam\agentmon.exe", HOOK_COMPANY)],
    )
    cmd = w.add_process(
        p,
        "cmd.exe",
        image_path=r"C:\Windows\System32\cmd.exe",
        command_line=r'"C:\Windows\system32\cmd.exe" ',
        parent_pid=p - 300,
        company=MS,
        start=t0 - timedelta(minutes=5),
        modules=[_mod(r"C:\Windows\System32\cmd.exe")],
    )
    msi = w.add_process(
        p + 4,
        "msiexec.exe",
        image_path=r"C:\Windows\System32\msiexec.exe",
        command_line=rf"msiexec /i C:\Users\{user}\Downloads\agent.msi /qn",
        parent_pid=p,
        company=MS,
        start=at(0),
        end=at(ca_end + 200),
        modules=[_mod(r"C:\Windows\System32\msiexec.exe"), _mod(r"C:\Windows\System32\msi.dll")],
    )
    ca_mods = [_mod(ca_path, MS, "Contoso setup helper"), _mod(r"C:\Windows\SysWOW64\kernel32.dll")]
    if hook_in_both or hook_only:
        ca_mods.append(_mod(HOOK, HOOK_COMPANY, "Fabrikam hook", base=0x6F370000))
    ca = w.add_process(
        p + 8,
        f"{temp}.tmp{name_suffix}",
        image_path=ca_path,
        command_line=rf'"{ca_path}" /install /log C:\Users\{user}\AppData\Local\Temp\ca.log',
        parent_pid=p + 4,
        company=MS,
        start=at(100),
        end=at(ca_end),
        modules=ca_mods,
    )
    helper = None
    if not early_exit:
        helper = w.add_process(
            p + 12,
            "helper.exe",
            image_path=helper_path,
            command_line=rf'"{helper_path}" --register --pid {p + 8}',
            parent_pid=p + 8,
            company="Contoso Ltd",
            start=at(1500),
            end=at(4800),
            modules=[_mod(helper_path, "Contoso Ltd")],
        )

    # background noise from the monitoring agent, identical in both runs
    w.add_event(
        mon,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Fabrikam\Policy\Mode",
        tid=p + 91,
        time=at(-50),
        type="REG_DWORD",
        data=1,
    )
    w.add_event(
        cmd,
        "Process Create",
        r"C:\Windows\System32\msiexec.exe",
        tid=p + 1,
        time=at(0),
        pid=p + 4,
        command_line=rf"msiexec /i C:\Users\{user}\Downloads\agent.msi /qn",
    )
    w.add_event(
        msi,
        "Process Start",
        tid=p + 5,
        time=at(0.1),
        parent_pid=p,
        command_line=rf"msiexec /i C:\Users\{user}\Downloads\agent.msi /qn",
    )
    w.add_event(
        msi,
        "Load Image",
        r"C:\Windows\System32\msiexec.exe",
        tid=p + 5,
        time=at(0.2),
        image_base=0x7FF700000000,
        image_size=0x20000,
    )
    w.add_event(
        msi,
        "Load Image",
        r"C:\Windows\System32\msi.dll",
        tid=p + 5,
        time=at(2),
        image_base=0x7FF800000000,
        image_size=0x400000,
    )
    w.add_event(msi, "CreateFile", rf"C:\Users\{user}\Downloads\agent.msi", tid=p + 5, time=at(5))
    w.add_event(
        msi, "ReadFile", rf"C:\Users\{user}\Downloads\agent.msi", tid=p + 5, time=at(6), offset=0, length=4096
    )
    w.add_event(
        msi,
        "Process Create",
        ca_path,
        tid=p + 5,
        time=at(100),
        pid=p + 8,
        command_line=rf'"{ca_path}" /install',
    )
    w.add_event(
        ca,
        "Process Start",
        tid=p + 9,
        time=at(100.1),
        parent_pid=p + 4,
        command_line=rf'"{ca_path}" /install',
    )
    w.add_event(ca, "Thread Create", tid=p + 5, time=at(100.2), thread_id=p + 9)
    w.add_event(ca, "Load Image", ca_path, tid=p + 9, time=at(100.3), image_base=0x400000, image_size=0x30000)
    w.add_event(
        ca,
        "Load Image",
        r"C:\Windows\SysWOW64\kernel32.dll",
        tid=p + 9,
        time=at(101),
        image_base=0x77970000,
        image_size=0xE0000,
    )
    hook_at = 110.0
    if hook_only:
        # a thread of agentmon.exe creates a thread in the custom action; that thread loads the hook
        w.add_event(ca, "Thread Create", tid=p + 91, time=at(hook_at - 1), thread_id=p + 10)
        w.add_event(
            ca, "Load Image", HOOK, tid=p + 10, time=at(hook_at), image_base=0x6F370000, image_size=0x5B000
        )
        w.add_event(ca, "Thread Exit", tid=p + 10, time=at(hook_at + 2))
    if hook_in_both:
        w.add_event(
            ca, "Load Image", HOOK, tid=p + 9, time=at(hook_at + 5), image_base=0x6F370000, image_size=0x5B000
        )
    w.add_event(ca, "RegOpenKey", r"HKLM\SOFTWARE\Contoso\Agent", tid=p + 9, time=at(150))
    for n in range(queries):
        w.add_event(
            ca,
            "RegQueryValue",
            rf"HKLM\SOFTWARE\Contoso\Agent\Feature{n % 40}",
            tid=p + 9,
            time=at(200 + n * 1200 / max(queries, 1)),
            type="REG_DWORD",
            data=1,
        )
    w.add_event(
        ca,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Contoso\Agent\Version",
        tid=p + 9,
        time=at(151),
        result="NAME NOT FOUND",
    )
    w.add_event(
        ca,
        "RegSetValue",
        r"HKLM\SOFTWARE\Contoso\Agent\InstallPath",
        tid=p + 9,
        time=at(160),
        result="ACCESS DENIED" if denied else "SUCCESS",
        type="REG_SZ",
        data=r"C:\Program Files\Contoso",
    )
    if denied:
        w.add_event(
            ca,
            "RegCreateKey",
            r"HKLM\SYSTEM\CurrentControlSet\Services\ContosoSvc",
            tid=p + 9,
            time=at(170),
            result="ACCESS DENIED",
        )
    w.add_event(ca, "CreateFile", rf"C:\Users\{user}\AppData\Local\Temp\ca.log", tid=p + 9, time=at(180))
    w.add_event(
        ca,
        "WriteFile",
        rf"C:\Users\{user}\AppData\Local\Temp\ca.log",
        tid=p + 9,
        time=at(181),
        offset=0,
        length=120,
    )
    if early_exit:
        w.add_event(ca, "Process Exit", tid=p + 9, time=at(ca_end), exit_status=0x80070643 - (1 << 32))
    else:
        w.add_event(
            ca,
            "Process Create",
            helper_path,
            tid=p + 9,
            time=at(1500),
            pid=p + 12,
            command_line=rf'"{helper_path}" --register --pid {p + 8}',
        )
        assert helper is not None
        w.add_event(
            helper,
            "Process Start",
            tid=p + 13,
            time=at(1500.1),
            parent_pid=p + 8,
            command_line=rf'"{helper_path}" --register --pid {p + 8}',
        )
        w.add_event(
            helper,
            "Load Image",
            helper_path,
            tid=p + 13,
            time=at(1501),
            image_base=0x400000,
            image_size=0x10000,
        )
        w.add_event(
            helper,
            "RegSetValue",
            r"HKLM\SOFTWARE\Contoso\Agent\Registered",
            tid=p + 13,
            time=at(1600),
            type="REG_DWORD",
            data=1,
        )
        w.add_event(helper, "Process Exit", tid=p + 13, time=at(4800), exit_status=0)
        if crash_child:
            wer_path = r"C:\Windows\System32\WerFault.exe"
            wer = w.add_process(
                p + 16,
                "WerFault.exe",
                image_path=wer_path,
                command_line=f"{wer_path} -u -p {p + 8}",
                parent_pid=p + 8,
                company=MS,
                start=at(5000),
                end=at(5100),
            )
            w.add_event(
                ca,
                "Process Create",
                wer_path,
                tid=p + 9,
                time=at(5000),
                pid=p + 16,
                command_line=f"{wer_path} -u -p {p + 8}",
            )
            w.add_event(
                wer,
                "Process Start",
                tid=p + 17,
                time=at(5000.1),
                parent_pid=p + 8,
                command_line=f"{wer_path} -u -p {p + 8}",
            )
            w.add_event(wer, "Process Exit", tid=p + 17, time=at(5100), exit_status=0)
        w.add_event(ca, "Process Exit", tid=p + 9, time=at(ca_end), exit_status=ca_status)
    w.add_event(msi, "Process Exit", tid=p + 5, time=at(ca_end + 200), exit_status=1603 if early_exit else 0)
    w.add_event(
        mon,
        "RegQueryValue",
        r"HKLM\SOFTWARE\Fabrikam\Policy\Mode",
        tid=p + 91,
        time=at(ca_end + 300),
        type="REG_DWORD",
        data=1,
    )
    return w.write(path)
