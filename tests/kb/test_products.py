"""culprit.kb.products and culprit.kb.microsoft: TMS from the cases, EDRHunt products, Windows' own files."""

from __future__ import annotations

import pytest

from culprit.kb import altitudes, microsoft, products

TMS_VENDOR = "北京瀚海信安科技有限公司"


@pytest.mark.parametrize(
    ("query", "module", "role", "mechanism", "matched"),
    [
        ("krnlmgr.sys", "krnlmgr.sys", "kernel-driver", "registry-callback", "name"),
        ("KRNLMGR", "krnlmgr.sys", "kernel-driver", "registry-callback", "service"),
        (
            r"C:\Windows\system32\drivers\krnlmgr.sys",
            "krnlmgr.sys",
            "kernel-driver",
            "registry-callback",
            "name",
        ),
        ("tmsfsflt", "tmsfsflt.sys", "filesystem-filter", "filesystem-filter", "service"),
        ("schk.dll", "schk.dll", "injected-module", "dll-injection", "name"),
        (r"C:\Program Files (x86)\TMS\x64\schk.dll", "schk.dll", "injected-module", "dll-injection", "name"),
        ("pcit.exe", "pcit.exe", "injector-process", "process-injection", "name"),
        ("pcit_x64.exe", "pcit_x64.exe", "injector-process", "process-injection", "name"),
        ("TMSAgent.exe", "TMSAgent.exe", "service", "agent", "name"),
    ],
)
def test_tms_modules(query: str, module: str, role: str, mechanism: str, matched: str) -> None:
    hit = products.lookup(query)[0]
    assert (hit.module, hit.product, hit.vendor, hit.role, hit.mechanism, hit.matched, hit.source) == (
        module,
        "TMS",
        TMS_VENDOR,
        role,
        mechanism,
        matched,
        "products.yaml",
    )
    assert hit.confidence == 0.95 and hit.product_id == "tms" and not hit.microsoft
    assert hit.how_en and hit.how_zh and hit.exempt_en and hit.exempt_zh


def test_tms_details_match_the_case_bundles() -> None:
    schk = products.lookup("schk.dll")[0]
    assert schk.details["path"] == r"C:\Program Files (x86)\TMS\schk.dll"
    assert schk.details["path_x64"] == r"C:\Program Files (x86)\TMS\x64\schk.dll"
    assert "pcit.exe" in schk.how_en and "注入" in schk.how_zh and "白名单" in schk.exempt_zh
    k = products.lookup("krnlmgr.sys")[0]
    assert (k.details["display_name"], k.details["description"]) == (
        "TMS 内核管理",
        "TMS 终端管理系统内核管理驱动",
    )
    assert "AmdK8" in k.how_en and "注册表" in k.how_zh and "回滚" in k.how_zh
    assert "TrustedInstaller.exe" in k.exempt_en
    assert products.lookup("tmsfsflt.sys")[0].details["altitude"] == "368420"


def test_install_path_and_registry_hits() -> None:
    hit = products.lookup(r"C:\Program Files (x86)\TMS\unknown_helper.dll")[0]
    assert (hit.product, hit.matched, hit.role, hit.confidence) == ("TMS", "install-path", "other", 0.85)
    reg = products.lookup(r"HKLM\SOFTWARE\WOW6432Node\TMS\Agent\Policy")[0]
    assert (reg.product, reg.matched) == ("TMS", "registry")


def test_lookup_by_company_string() -> None:
    hit = products.lookup(TMS_VENDOR)[0]
    assert (hit.product, hit.matched, hit.confidence) == ("TMS", "company", 0.9)


def test_match_company() -> None:
    p = products.match_company(TMS_VENDOR)
    assert p is not None and (p.id, p.name, p.name_zh) == ("tms", "TMS", "TMS 终端管理系统")
    assert products.match_company(f"  {TMS_VENDOR} ") is p
    assert products.match_company("Microsoft Corporation") is None
    assert products.match_company("") is None
    assert products.get("TMS") is p and products.get("tms") is p and products.get("nope") is None


def test_edrhunt_products() -> None:
    hit = products.lookup("csagent.sys")[0]
    assert (hit.product, hit.vendor, hit.role, hit.source, hit.confidence) == (
        "Crowdstrike EDR Solution",
        "CrowdStrike",
        "kernel-driver",
        "edrhunt",
        0.8,
    )
    dll = products.lookup("bdcloud.dll")[0]
    assert (dll.product, dll.vendor, dll.role, dll.mechanism) == (
        "BitDefender",
        "Bitdefender",
        "injected-module",
        "dll-injection",
    )
    path = products.lookup(r"C:\Program Files\FireEye\xagt\xagt.exe")
    assert any(h.product == "FireEye" and h.matched in ("path", "name") for h in path)


def test_altitude_attribution_for_unknown_product() -> None:
    hit = products.lookup("shdlpSf.sys")[0]
    assert (hit.module, hit.product, hit.vendor, hit.role, hit.source) == (
        "shdlpSf.sys",
        None,
        "Comtrue Technology",
        "filesystem-filter",
        "allocated-altitudes",
    )
    assert hit.details == {"altitude": "385970", "load_order_group": "FSFilter Activity Monitor"}
    wd = products.lookup("WdFilter")[0]
    assert wd.microsoft and wd.vendor == "Microsoft"


def test_keyword_only_hit_is_weak_and_unknown_is_empty() -> None:
    hits = products.lookup("sentinelhelper.exe")
    assert hits and max(h.confidence for h in hits) <= 0.4
    assert products.lookup("notepad.exe") == []
    assert products.lookup("") == []


def test_to_dict_lang() -> None:
    d = products.lookup("schk.dll")[0].to_dict("zh")
    assert d["role"] == "injected-module" and "注入" in d["how"] and "白名单" in d["exempt"]


# --- microsoft ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected", "reason_part"),
    [
        ({"name": "schk.dll"}, False, "belongs to TMS"),
        (
            {"name": "krnlmgr.sys", "path": r"C:\Windows\system32\drivers\krnlmgr.sys"},
            False,
            "belongs to TMS",
        ),
        ({"company": "Microsoft Corporation"}, True, "company 'Microsoft Corporation'"),
        ({"company": TMS_VENDOR, "name": "foo.dll"}, False, "is not Microsoft"),
        ({"path": r"C:\Windows\System32\ntdll.dll"}, True, r"C:\Windows\System32"),
        ({"path": r"\SystemRoot\System32\kernel32.dll"}, True, r"C:\Windows\System32"),
        ({"path": r"%windir%\WinSxS\amd64_foo\bar.dll"}, True, r"C:\Windows\WinSxS"),
        ({"path": r"C:\Windows\servicing\TrustedInstaller.exe"}, True, r"C:\Windows\servicing"),
        ({"path": r"C:\Windows\System32\drivers\mystery.sys"}, False, "no sign"),
        ({"path": r"C:\Windows\System32\drivers\fltmgr.sys"}, True, "ships with Windows"),
        ({"name": "WdFilter"}, True, "ships with Windows"),
        ({"name": "AppvVfs.sys"}, True, "altitude allocated to Microsoft"),
        ({"name": "minispy.sys"}, False, "no sign"),
        ({"name": "PROCMON24"}, True, "Sysinternals"),
        (
            {"name": "version.dll", "path": r"C:\Users\a\Downloads\version.dll"},
            False,
            "outside the Windows folders",
        ),
        ({"name": "amdk8.sys"}, True, "ships with Windows"),
        ({}, False, "no sign"),
    ],
)
def test_recognize(kwargs: dict, expected: bool, reason_part: str) -> None:
    v = microsoft.recognize(**kwargs)
    assert v.is_microsoft is expected and bool(v) is expected
    assert reason_part in v.reason
    assert microsoft.is_microsoft(**kwargs) is expected


def test_normalize_path() -> None:
    for p in (
        r"C:\Windows\System32\x.dll",
        r"\??\C:\WINDOWS\system32\X.DLL",
        r"\SystemRoot\System32\x.dll",
        "%SystemRoot%/System32/x.dll",
        r"\\?\c:\windows\system32\x.dll",
    ):
        assert microsoft.normalize_path(p) == r"\windows\system32\x.dll"


# --- altitudes ----------------------------------------------------------------------------------


def test_altitude_lookup_and_by_altitude() -> None:
    r = altitudes.lookup(r"\SystemRoot\System32\drivers\ShDlpSf.SYS")
    assert r is not None and (
        r.minifilter,
        r.altitude,
        r.company,
        r.load_order_group,
        r.group_low,
        r.group_high,
    ) == ("shdlpSf.sys", "385970", "Comtrue Technology", "FSFilter Activity Monitor", 360000, 389999)
    assert [x.minifilter for x in altitudes.by_altitude(368420)] == ["nrcomgrdki.sys", "nrcomgrdka.sys"]
    assert [x.minifilter for x in altitudes.by_altitude("385250.5")] == ["UCPD.sys"]
    assert altitudes.by_altitude("not a number") == [] and altitudes.lookup("tmsfsflt") is None


def test_altitude_prefers_current_allocation() -> None:
    rows = altitudes.lookup_all("SentinelMonitor.sys")
    assert {r.note for r in rows} == {"", "retired - new altitude allocated"}
    assert altitudes.lookup("SentinelMonitor.sys").note == ""  # type: ignore[union-attr]


def test_band() -> None:
    assert altitudes.band(328010) == "FSFilter Anti-Virus"
    assert altitudes.band("385200") == "FSFilter Activity Monitor"
    assert altitudes.band("141100") == "FSFilter Encryption"
    assert altitudes.band(5) is None and altitudes.band("x") is None
