"""Run-specific noise in paths and command lines: what becomes ``*`` and what must stay."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from culprit.diff.normalize import image_key, normalize_command_line, normalize_path, similarity


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (
            r"C:\Program Files (x86)\Microsoft\Temp\EU5A1C.tmp\msedgeupdate.dll",
            r"*:\program files (x86)\microsoft\temp\eu*.tmp\msedgeupdate.dll",
        ),
        (r"C:\Windows\Installer\MSI8F3A.tmp", r"*:\windows\installer\msi*.tmp"),
        (
            r"C:\Program Files (x86)\Microsoft\EdgeUpdate\Install\{3372D205-E08C-4B32-08A8-8F554F38C599}"
            r"\EDGEMITMP_C41A2.tmp\setup.exe",
            r"*:\program files (x86)\microsoft\edgeupdate\install\*\edgemitmp_*.tmp\setup.exe",
        ),
        (r"D:\Users\alice\AppData\Local\Temp\MSI5e2c1.LOG", r"*:\users\*\appdata\local\temp\msi*.log"),
        (r"C:\Users\ALICE~1\AppData\Local\Temp\~DF12AB.tmp", r"*:\users\*\appdata\local\temp\~d*.tmp"),
        (r"\Device\HarddiskVolume3\Windows\System32\ntdll.dll", r"*:\windows\system32\ntdll.dll"),
        (r"\??\C:\Windows\system32\conhost.exe", r"*:\windows\system32\conhost.exe"),
        (
            r"HKU\S-1-5-21-1004341250-1153620981-3302113574-1001_Classes\CLSID",
            r"hku\s-1-5-21-*_classes\clsid",
        ),
        (
            r"C:\Program Files (x86)\Microsoft\EdgeUpdate\1.3.163.19\MicrosoftEdgeUpdateComRegisterShell.exe",
            r"*:\program files (x86)\microsoft\edgeupdate\*\microsoftedgeupdatecomregistershell.exe",
        ),
        (r"C:/Windows/Temp/_MEI123452/python.dll", r"*:\windows\temp\_mei*\python.dll"),
    ],
)
def test_run_specific_parts_become_stars(raw: str, key: str) -> None:
    assert normalize_path(raw) == key


@pytest.mark.parametrize(
    "path",
    [
        r"C:\Windows\System32\api-ms-win-core-synch-l1-2-0.dll",  # short digit runs are part of the name
        r"HKLM\SYSTEM\CurrentControlSet\Services\AmdK8\Start",
        r"HKU\S-1-5-18\Software\Microsoft",  # a well-known SID is not a user
        r"C:\Program Files (x86)\TMS\x64\schk.dll",
        r"C:\Windows\SoftwareDistribution\Download\KB4474419\update.mum",
    ],
)
def test_stable_names_stay(path: str) -> None:
    assert "*" not in normalize_path(path).replace("*:", "")


def test_same_install_from_two_machines_has_one_key() -> None:
    a = r"C:\Program Files (x86)\Microsoft\Temp\EU7C31.tmp\MicrosoftEdgeUpdate.exe"
    b = r"c:\program files (x86)\microsoft\temp\EU5A1C.TMP\MICROSOFTEDGEUPDATE.EXE"
    assert image_key(a) == image_key(b)
    assert image_key(a) != image_key(r"C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe")


def test_command_line_shape_drops_pids_quotes_and_users() -> None:
    a = r'"C:\Windows\Installer\MSI4C2E.tmp" /install /log C:\Users\alice\AppData\Local\Temp\c.log --pid 1008'
    b = r'"C:\Windows\Installer\MSI8F3A.tmp" /install /log C:\Users\bob\AppData\Local\Temp\c.log --pid 5008'
    assert (
        normalize_command_line(a)
        == r"*:\windows\installer\msi*.tmp /install /log *:\users\*\appdata\local\temp\c.log --pid #"
    )
    assert normalize_command_line(a) == normalize_command_line(b)
    assert normalize_command_line(r"conhost.exe 0xffffffff -ForceV1") == "conhost.exe # -forcev1"


def test_similarity_of_command_line_shapes() -> None:
    assert similarity("", "") == 1.0
    assert similarity("a /x", "a /x") == 1.0
    assert similarity("a /install", "a /handoff") == pytest.approx(1 / 3)


def test_hostile_lengths_stay_linear() -> None:
    # a 1 MB path of hex digits and separators: no catastrophic backtracking, a bounded answer
    path = "C:\\" + "\\".join(["ab12cd34ef"] * 100_000)
    assert normalize_path(path) == "*:\\" + "\\".join(["ab*"] * 100_000)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_normalizes_without_error(text: str) -> None:
    key = normalize_path(text)
    assert isinstance(key, str) and key == key.casefold()
    assert isinstance(normalize_command_line(text), str)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0x1000, max_value=0xFFFFF),
    st.integers(min_value=0x1000, max_value=0xFFFFF),
    st.sampled_from(["alice", "bob", "张伟", "ADMINI~1"]),
    st.sampled_from(["C", "D", "E"]),
)
def test_temp_names_users_and_drives_never_split_a_key(a: int, b: int, user: str, drive: str) -> None:
    one = rf"C:\Users\alice\AppData\Local\Temp\MSI{a:X}.tmp\EU{a:x}.tmp\setup.exe"
    two = rf"{drive}:\Users\{user}\AppData\Local\Temp\MSI{b:X}.tmp\EU{b:x}.tmp\setup.exe"
    assert normalize_path(one) == normalize_path(two)
