"""The artifact catalog: its content, validation, bundle-path matching and evidence requests."""

from __future__ import annotations

import contextlib
import copy
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from culprit import catalog
from culprit.catalog import CatalogError
from tests.conftest import case_path

CATALOG_FILE = Path(catalog.__file__).with_name("artifacts.yaml")
CJK = re.compile(r"[\u4e00-\u9fff]")


_RAW = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))


def raw() -> dict[str, Any]:
    return copy.deepcopy(_RAW)


# --- content ----------------------------------------------------------------------------


def test_every_entry_has_both_languages_and_a_real_translation():
    for a in (*catalog.all(), catalog.get("good-machine")):
        for field in (a.title, a.proves, a.how, *a.how_if.values()):
            assert field["en"].strip() and field["zh"].strip(), a.id
            assert CJK.search(field["zh"]), f"{a.id}: zh text is not Chinese: {field['zh']!r}"
            assert not CJK.search(field["en"]), f"{a.id}: en text has Chinese: {field['en']!r}"


def test_cbs_entry_full_values():
    a = catalog.get("cbs")
    assert a.id == "cbs"
    assert a.title == {"en": "CBS log and its CbsPersist archives", "zh": "CBS 日志及 CbsPersist 归档"}
    assert a.reads == ("cbs",)
    assert a.collect is not None
    assert a.collect.method == "copy"
    assert a.collect.paths == (
        "%WINDIR%\\Logs\\CBS\\CBS.log",
        "%WINDIR%\\Logs\\CBS\\CbsPersist_*.log",
        "%WINDIR%\\Logs\\CBS\\CbsPersist_*.cab",
    )
    assert a.collect.per is None and a.collect.newest is None and a.collect.output is None


def test_command_and_eventlog_entries_full_values():
    dq = catalog.get("driverquery").collect
    assert (dq.method, dq.exe, dq.args, dq.output) == (
        "command",
        "driverquery.exe",
        ("/v", "/fo", "csv"),
        "system\\driverquery.csv",
    )
    sc = catalog.get("sc-qc").collect
    assert (sc.per, sc.exe, sc.args, sc.output) == (
        "service",
        "sc.exe",
        ("qc", "{service}"),
        "system\\sc_qc_{service}.txt",
    )
    ev = catalog.get("evtx-setup").collect
    assert (ev.method, ev.channel, ev.output) == (
        "eventlog",
        "Setup",
        "Windows\\System32\\winevt\\Logs\\Setup.evtx",
    )
    inj = catalog.get("reg-injection").collect
    assert inj.keys[0] == ("appinit", "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Windows")
    pm = catalog.get("procmon").collect
    assert (pm.method, pm.output, pm.boot_output) == ("procmon", "procmon\\capture.pml", "procmon\\boot.pml")


def test_catalog_covers_every_input_of_the_design():
    """design.md "Inputs": each first-class input is collected by some catalog entry."""
    wanted = {
        "cbs": "cbs",
        "setupapi": "setupapi",
        "dism": "dism",
        "msi": "msi",
        "edgeupdate": "edgeupdate",
        "windowsupdate-log": "windowsupdate",
        "reporting-events": "reportingevents",
        "evtx-setup": "evtx",
        "evtx-system": "evtx",
        "evtx-application": "evtx",
        "fltmc-filters": "fltmc",
        "fltmc-instances": "fltmc",
        "driverquery": "driverquery",
        "tasklist-modules": "tasklist",
        "sc-qc": "scqc",
        "reg-services": "regquery",
        "acl": "getacl",
        "inf": "inf",
        "procmon": "procmon",
        "reg-export": "regfile",
        "icacls": "icacls",
    }
    for aid, kind in wanted.items():
        assert kind in catalog.get(aid).reads, aid
    methods = {a.collect.method for a in catalog.all() if a.collect}
    assert methods == set(catalog.METHODS)


# Parser kinds that read no file the collector gathers (the fallback for unknown text logs).
NOT_COLLECTED = {"text"}


def test_every_parser_kind_is_collected_by_some_catalog_entry():
    """A new format without a catalog entry would be read but never asked for: add it to artifacts.yaml."""
    from culprit import parsers

    kinds = set(parsers.load_all()) - NOT_COLLECTED
    read = {k for a in catalog.all() for k in a.reads}
    assert kinds - read == set(), "parser kinds with no catalog entry (add them to catalog/artifacts.yaml)"


def test_per_file_and_self_written_outputs():
    ic = catalog.get("icacls").collect
    assert (ic.per, ic.exe, ic.args, ic.output) == (
        "file",
        "icacls.exe",
        ("{file}",),
        "system\\{name}_icacls.txt",
    )
    ex = catalog.get("reg-export").collect
    assert ex.args == ("export", "HKLM\\SYSTEM\\CurrentControlSet\\Services\\{service}", "{output}", "/y")
    assert ex.output == "system\\{service}.reg"


def test_ids_are_unique_and_all_excludes_requests():
    ids = catalog.ids()
    assert len(ids) == len(set(ids))
    assert "good-machine" in ids
    assert "good-machine" not in {a.id for a in catalog.all()}
    assert catalog.get("good-machine").collect is None


def test_unknown_id_names_the_known_ones():
    with pytest.raises(CatalogError, match=r"unknown artifact 'cbs-log'.*cbs, setupapi"):
        catalog.get("cbs-log")


def test_copy_paths_are_windows_paths_rooted_in_an_environment_variable():
    for a in catalog.all():
        for p in a.collect.paths:
            assert "/" not in p, (a.id, p)
            assert re.match(r"^%(WINDIR|ProgramData|SystemDrive)%\\", p), (a.id, p)


def test_for_kind():
    assert [a.id for a in catalog.load().for_kind("evtx")] == [
        "evtx-setup",
        "evtx-system",
        "evtx-application",
        "evtx-wu-operational",
    ]


# --- matching bundle paths --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("bad/Windows/Logs/CBS/CBS.log", "cbs"),
        ("bad/Windows/Logs/CBS/CbsPersist_20240903101522.cab", "cbs"),
        ("culprit-PC-20240903-101522.zip/Windows/INF/setupapi.dev.20240101_101010.log", "setupapi"),
        ("bad/Windows/inf/cpu.inf", "inf"),
        ("x/Windows/System32/DriverStore/FileRepository/cpu.inf_amd64_abc/cpu.inf", "inf"),
        ("x/Users/alice/AppData/Local/Temp/MSI5e2c1.LOG", "msi"),
        ("x/system/reg_appinit.txt", "reg-injection"),
        ("x/system/reg_AmdK8.txt", "reg-services"),
        ("x/system/sc_qc_AmdK8.txt", "sc-qc"),
        ("x/system/AmdK8_acl.txt", "acl"),
        ("x/system/AmdK8.reg", "reg-export"),
        ("x/system/C_Windows_System32_drivers_amdk8.sys_icacls.txt", "icacls"),
        ("export/System.evtx", "evtx-system"),
        ("repro/procmon/reg_repro.CSV", "procmon"),
        ("anything/trace.PML", "procmon"),
        ("x/notes.txt", None),
        ("", None),
    ],
)
def test_match(path, expected):
    a = catalog.match(path)
    assert (a.id if a else None) == expected


def test_every_file_of_the_case_bundles_is_a_catalog_artifact():
    root = case_path()
    seen: set[str] = set()
    for dirpath, _dirs, files in os.walk(root):
        for fn in files:
            rel = Path(dirpath, fn).relative_to(root).as_posix()
            if fn in ("README.md", "expected.json"):
                continue
            a = catalog.match(rel)
            assert a is not None, f"{rel} is not in the catalog"
            seen.add(a.id)
    assert {"cbs", "setupapi", "inf", "msi", "edgeupdate", "procmon", "acl", "driverquery"} <= seen


def test_present():
    got = catalog.load().present(["b/Windows/Logs/CBS/CBS.log", "b/system/fltmc.txt", "b/readme.md"])
    assert got == {"cbs", "fltmc-filters"}


# --- requests -----------------------------------------------------------------------------


def test_request_acl_en_names_the_keys_and_the_collector_switches():
    why, how = catalog.request("acl", "en", services=["AmdK8", "AmdPPM"])
    assert why == (
        "whether the ACL of HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8, "
        "HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdPPM allows the installer to write; if it does and "
        "the write is still denied, a driver (not the ACL) blocks it"
    )
    assert how.startswith(
        "in an elevated PowerShell run (Get-Acl -Path <key or file>).Sddl for each of: "
        "HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8, "
    )
    assert how.endswith(
        "powershell -ExecutionPolicy Bypass -File Collect-CulpritBundle.ps1 -ServiceKeys AmdK8,AmdPPM"
    )


def test_request_zh_is_chinese_with_the_same_command():
    why, how = catalog.request("acl", "zh", services="AmdK8, AmdPPM")
    assert why.startswith("HKLM\\SYSTEM\\CurrentControlSet\\Services\\AmdK8, HKLM\\SYSTEM")
    assert "的 ACL 是否允许安装程序写入" in why
    assert how.endswith("Collect-CulpritBundle.ps1 -ServiceKeys AmdK8,AmdPPM")
    assert "或者以管理员身份运行 culprit 收集脚本" in how


def test_request_extra_keys_become_acl_paths():
    _why, how = catalog.request(
        "acl", keys=["HKLM\\SOFTWARE\\Vendor", "C:\\Windows\\System32\\drivers\\x.sys"]
    )
    assert how.endswith("-AclPaths 'HKLM\\SOFTWARE\\Vendor','C:\\Windows\\System32\\drivers\\x.sys'")


def test_request_procmon_live_and_boot():
    why, how = catalog.request("procmon", "en", process="MicrosoftEdgeUpdate.exe")
    assert "the module loaded into MicrosoftEdgeUpdate.exe right before it exited" in why
    assert "/BackingFile" in how and "/Terminate" in how and "/EnableBootLogging" not in how
    assert "filter on MicrosoftEdgeUpdate.exe only when reading" in how
    assert how.endswith("Collect-CulpritBundle.ps1 -Procmon <procmon.exe>")
    _why, how = catalog.request("procmon", "zh", process="services.exe", boot=True, services=["AmdK8"])
    assert "/EnableBootLogging" in how and "/ConvertBootLog" in how
    assert how.endswith("-ServiceKeys AmdK8 -Procmon <procmon.exe 路径> -ProcmonBoot")


def test_request_without_params_shows_placeholders():
    why, how = catalog.request("sc-qc")
    assert "<service>" in why and "sc qc <service>" in how
    why, _how = catalog.request("sc-qc", "zh")
    assert "<服务名>" in why


def test_request_inf_and_good_machine():
    why, how = catalog.request("inf", inf="cpu.inf")
    assert why.startswith("every service key and driver file cpu.inf installs")
    assert "FileRepository\\cpu.inf_*\\" in how and how.endswith("-Inf cpu.inf")
    why, how = catalog.request("good-machine", "zh")
    assert "安装成功" in how


def test_request_bad_language():
    with pytest.raises(CatalogError, match="unknown language"):
        catalog.request("cbs", "fr")


# --- validation -----------------------------------------------------------------------------


def _with(mutate) -> dict[str, Any]:
    d = raw()
    mutate(d)
    return d


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema="x"), "not an artifact catalog"),
        (
            lambda d: d["artifacts"][0]["collect"].update(paths=["%WINDIR%\\Logs\\CBS\\日志.log"]),
            "must be ASCII",
        ),
        (lambda d: d["artifacts"][0]["title"].pop("zh"), "title needs a text for each of en, zh"),
        (lambda d: d["artifacts"][0]["collect"].update(method="ftp"), "collect.method 'ftp' is not one of"),
        (lambda d: d["artifacts"][1].update(id="cbs"), "'cbs' appears twice"),
        (lambda d: d["artifacts"][7]["collect"].update(output="C:\\x.log"), "must be a relative bundle path"),
        (lambda d: d["artifacts"][7]["collect"].update(output="..\\x.log"), "must be a relative bundle path"),
        (lambda d: d["artifacts"][0]["proves"].update(en="x {services}"), "text uses {services} but params"),
        (lambda d: d["artifacts"][0]["collect"].pop("paths"), "collect.paths is required for method copy"),
        (lambda d: d["artifacts"][0]["collect"].update(newest=0), "newest must be a positive integer"),
        (lambda d: d["artifacts"][0]["collect"].update(per="user"), "collect.per must be one of"),
        (lambda d: d["artifacts"][0]["collect"].update(colour="red"), "unknown collect field"),
        (lambda d: d["artifacts"][0].update(id="CBS Log"), "without a valid id"),
        (lambda d: d["artifacts"][0].update(params=["nope"]), "parameter 'nope' is not declared"),
        (lambda d: d.update(artifacts=[]), "lists no artifacts"),
    ],
)
def test_validation_errors_name_the_problem(mutate, message):
    with pytest.raises(CatalogError, match=re.escape(message) if "'" not in message else message):
        catalog.parse(_with(mutate))


def test_load_reports_yaml_and_io_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        catalog.load(bad)
    with pytest.raises(CatalogError, match="cannot read catalog"):
        catalog.load(tmp_path / "missing.yaml")
    good = tmp_path / "good.yaml"
    good.write_text(CATALOG_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    assert [a.id for a in catalog.load(good).artifacts] == [a.id for a in catalog.all()]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(0, 23),
    field=st.sampled_from(
        ["id", "title", "reads", "proves", "how", "how_if", "params", "collect", "matches"]
    ),
    value=_json,
)
def test_any_malformed_field_is_a_catalog_error_not_a_crash(index, field, value):
    d = raw()
    d["artifacts"][index % len(d["artifacts"])][field] = value
    with contextlib.suppress(CatalogError):  # anything else (KeyError, TypeError...) fails the test
        catalog.parse(d)


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(0, 23),
    field=st.sampled_from(
        ["method", "paths", "per", "newest", "channel", "exe", "args", "keys", "output", "boot_output"]
    ),
    value=_json,
)
def test_any_malformed_collect_field_is_a_catalog_error_not_a_crash(index, field, value):
    d = raw()
    d["artifacts"][index % len(d["artifacts"])]["collect"][field] = value
    with contextlib.suppress(CatalogError):  # anything else (KeyError, TypeError...) fails the test
        catalog.parse(d)
