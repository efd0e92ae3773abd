"""INF parser: the case's cpu.inf (UTF-16LE) and a constructed ANSI INF with the syntax corners."""

from __future__ import annotations

import codecs
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.ingest import open_bundle
from culprit.parsers import sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.inf import InfParser
from tests.conftest import case_path, data_path

CPU = ("kb4474419-registry-denied", "bad", "Windows", "inf", "cpu.inf")
ANSI = ("parsers", "inf", "ctsnet_ansi.inf")
DRIVERS = "C:\\Windows\\System32\\drivers"
SERVICES = "HKLM\\SYSTEM\\CurrentControlSet\\Services"


def parse(path: Path) -> tuple[list, ParseContext]:
    src = Source(path, path.name)
    ctx = ParseContext(src.name)
    return list(InfParser().parse(src, ctx)), ctx


def kind(events: list, k: str) -> list:
    return [e for e in events if e.kind == k]


def test_cpu_inf_every_service_and_file() -> None:
    evs, ctx = parse(case_path(*CPU))
    assert ctx.warning_count == 0
    services = kind(evs, "inf:service")
    assert [(e.fields["service"], e.fields["service_binary"], e.fields["start_type"]) for e in services] == [
        ("AmdK8", f"{DRIVERS}\\amdk8.sys", 1),
        ("AmdPPM", f"{DRIVERS}\\amdppm.sys", 1),
        ("intelppm", f"{DRIVERS}\\intelppm.sys", 1),
        ("Processor", f"{DRIVERS}\\processr.sys", 3),
        ("ViaC7", f"{DRIVERS}\\viac7.sys", 1),
    ]
    amdk8 = services[0]
    assert amdk8.origin.line == 80
    assert (
        amdk8.origin.text
        == "AddService = AmdK8,%SPSVCINST_ASSOCSERVICE%,AmdK8_Service_Inst,AmdK8_EventLog_Inst"
    )
    assert dict(amdk8.fields) == {
        "inf": "cpu.inf",
        "service": "AmdK8",
        "key": f"{SERVICES}\\AmdK8",
        "service_binary": f"{DRIVERS}\\amdk8.sys",
        "start_type": 1,
        "start_type_name": "system",
        "service_type": 1,
        "error_control": 1,
        "flags": 2,
        "install_section": "AmdK8_Service_Inst",
        "section": "AmdK8_Inst.NT.Services",
        "eventlog_section": "AmdK8_EventLog_Inst",
    }
    files = kind(evs, "inf:file")
    assert sorted(e.fields["destination"] for e in files) == [
        f"{DRIVERS}\\amdk8.sys",
        f"{DRIVERS}\\amdppm.sys",
        f"{DRIVERS}\\intelppm.sys",
        f"{DRIVERS}\\processr.sys",
        f"{DRIVERS}\\viac7.sys",
    ]
    f0 = files[0]
    assert (f0.origin.line, dict(f0.fields)) == (
        77,
        {
            "inf": "cpu.inf",
            "file": "amdk8.sys",
            "destination": f"{DRIVERS}\\amdk8.sys",
            "dirid": 12,
            "source_file": None,
            "copyfiles_section": "AmdK8_CopyFiles",
            "section": "AmdK8_Inst.NT",
        },
    )


def test_cpu_inf_version_models_sections() -> None:
    evs, _ = parse(case_path(*CPU))
    ver = kind(evs, "inf:version")[0]
    assert dict(ver.fields) == {
        "inf": "cpu.inf",
        "class": "Processor",
        "class_guid": "{50127DC3-0F36-415e-A6CC-4CB3BE910B65}",
        "provider": "Microsoft",
        "driver_ver": "06/21/2006,6.1.7601.24499",
        "catalog": None,
    }
    models = kind(evs, "inf:model")
    assert len(models) == 12  # AMD 6, Intel 3, VIA 1, Standard 2
    assert dict(models[0].fields) == {
        "inf": "cpu.inf",
        "manufacturer": "Advanced Micro Devices",
        "models_section": "AMD.NTamd64",
        "description": "AMD K8 Processor",
        "install_section": "AmdK8_Inst",
        "hardware_ids": ["ACPI\\AuthenticAMD_-_AMD64_Family_15"],
    }
    secs = kind(evs, "inf:section")
    assert len(secs) == 44  # every [section] header of the file
    assert (secs[0].origin.line, secs[0].fields["section"], secs[0].fields["entries"]) == (8, "Version", 5)
    assert [e.origin.line for e in evs] == sorted(e.origin.line for e in evs)  # file order


def test_ansi_inf_syntax_corners() -> None:
    evs, ctx = parse(data_path(*ANSI))
    assert ctx.warning_count == 0
    ver = kind(evs, "inf:version")[0]
    assert ver.fields["provider"] == "Contoso; Ltd."  # ';' inside quotes is no comment
    model = kind(evs, "inf:model")[0]
    assert model.fields["description"] == 'Contoso "Fast" Ethernet'  # "" inside quotes
    assert model.fields["hardware_ids"] == [
        "PCI\\VEN_1234&DEV_5678",
        "PCI\\VEN_1234&DEV_5679",
    ]  # continued line
    files = {e.fields["file"]: e.fields["destination"] for e in kind(evs, "inf:file")}
    assert files == {
        "ctsnet.sys": f"{DRIVERS}\\ctsnet.sys",  # CopyFiles=@file → DefaultDestDir 12
        "ctstool.exe": "C:\\Windows\\System32\\Contoso\\Tools\\ctstool.exe",  # dirid 11 + subdir
        "cts,cfg.dll": "C:\\Windows\\System32\\Contoso\\Tools\\cts,cfg.dll",
        "ctsnet.inf": "C:\\Windows\\INF\\ctsnet.inf",
    }
    tool = next(e for e in kind(evs, "inf:file") if e.fields["file"] == "ctstool.exe")
    assert tool.fields["source_file"] == "ctstool_x64.exe"
    svc = {e.fields["service"]: e for e in kind(evs, "inf:service")}
    assert svc["CtsNet"].fields["service_binary"] == f"{DRIVERS}\\ctsnet.sys"
    assert svc["CtsNet"].fields["start_type_name"] == "demand"
    helper = svc["CtsHelper"]
    assert helper.fields["service_binary"] == "C:\\Windows\\System32\\Contoso\\Tools\\ctstool.exe"
    assert (helper.fields["flags"], helper.fields["service_type"], helper.fields["start_type"]) == (
        None,
        0x10,
        2,
    )


def test_utf16_and_ansi_give_the_same_events(tmp_path: Path) -> None:
    text = data_path(*ANSI).read_text("cp1252")
    p = tmp_path / "ctsnet_ansi.inf"
    p.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    a, _ = parse(data_path(*ANSI))
    b, _ = parse(p)
    assert [(e.kind, e.origin.line, dict(e.fields)) for e in a] == [
        (e.kind, e.origin.line, dict(e.fields)) for e in b
    ]


def test_damaged_inf_warns(tmp_path: Path) -> None:
    good = data_path(*ANSI).read_bytes()
    p = tmp_path / "x.inf"
    # truncated in the middle of a section, plus a missing referenced section
    p.write_bytes(good[: good.index(b"[CtsHelper.Service]")] + b"CopyFiles = Missing.Section\r\n")
    evs, ctx = parse(p)
    assert any("[CtsHelper.Service] not found" in w.message for w in ctx.warnings)
    assert any("[Missing.Section] not found" in w.message for w in ctx.warnings)
    assert {e.fields["service"] for e in kind(evs, "inf:service")} == {"CtsNet", "CtsHelper"}
    # binary garbage and a 10 MB line
    rnd = random.Random(5)
    p.write_bytes(
        good + bytes(rnd.randrange(256) for _ in range(2000)) + b"\r\nx=" + b"y" * (10 << 20) + b"\r\n"
    )
    evs, ctx = parse(p)
    assert ctx.warning_count >= 1
    assert len(kind(evs, "inf:service")) == 2


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(tmp_path: Path, blob: bytes) -> None:
    p = tmp_path / "x.inf"
    for data in (blob, b"[Version]\r\nSignature=$Windows NT$\r\n[S]\r\nAddService=" + blob):
        p.write_bytes(data)
        list(InfParser().parse(Source(p, "x.inf"), ParseContext("x")))


def test_every_case_inf() -> None:
    with open_bundle(case_path()) as b:
        srcs = [s for s in b.sources if s.filename.lower().endswith(".inf")]
        assert srcs
        for s in srcs:
            assert sniff(s)[0] is InfParser
            ctx = ParseContext(s.name)
            evs = list(InfParser().parse(s, ctx))
            assert len(evs) > 0
            assert ctx.warning_count == 0


def test_wrong_encoding_is_warned(tmp_path: Path) -> None:
    good = data_path(*ANSI).read_bytes()
    filler = b"".join(b'Filler%d = "x"\r\n' % i for i in range(5000))  # > 64 KiB of valid UTF-8 first
    bad = '\r\n[Extra.Service]\r\nDisplayName = "Zürich"\r\n'.encode("cp1252")
    p = tmp_path / "x.inf"
    p.write_bytes(good + filler + bad)
    evs, ctx = parse(p)
    assert [w.message for w in ctx.warnings] == ["bytes not valid utf-8 replaced"]
    assert ctx.warnings[0].line == good.count(b"\n") + 5000 + 3
    assert len(kind(evs, "inf:service")) == 2


def test_dirid_13_is_the_driver_store_folder(tmp_path: Path) -> None:
    text = (
        '[Version]\r\nSignature="$WINDOWS NT$"\r\n[DestinationDirs]\r\nDefaultDestDir = 13\r\n'
        "[Inst.NT]\r\nCopyFiles = Drv\r\n[Drv]\r\nfbaud.sys\r\n[Inst.NT.Services]\r\n"
        "AddService = fbaud,0x2,Svc\r\n[Svc]\r\nServiceType = 1\r\nStartType = 3\r\n"
        "ServiceBinary = %13%\\fbaud.sys\r\n"
    )
    store = "C:\\Windows\\System32\\DriverStore\\FileRepository"
    for name, folder in (("fbaud.inf", "fbaud.inf_*"), ("oem42.inf", "*")):
        p = tmp_path / name
        p.write_text(text, "ascii")
        evs, ctx = parse(p)
        assert ctx.warning_count == 0
        f = kind(evs, "inf:file")[0]
        assert (f.fields["dirid"], f.fields["destination"]) == (13, f"{store}\\{folder}\\fbaud.sys")
        assert kind(evs, "inf:service")[0].fields["service_binary"] == f"{store}\\{folder}\\fbaud.sys"


def test_addreg_keys(tmp_path) -> None:
    from culprit import pipeline

    inf = tmp_path / "fbx.inf"
    inf.write_text(
        "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\n[DefaultInstall]\r\nAddReg=Fbx_AddReg, Fbx_Dev_AddReg\r\n"
        "[Fbx_AddReg]\r\nHKLM,\"%Base%\\Widget\",Mode,0x00010001,1\r\nHKLM,\"%Base%\\Widget\",Dir,,%11%\r\n"
        "[Fbx_Dev_AddReg]\r\nHKR,,UpperFilters,0x00010000,fbxflt\r\n[Strings]\r\nBase=\"SOFTWARE\\Fabrikam\"\r\n",
        encoding="ascii", newline="")
    with pipeline.load([inf]) as ws:
        evs = [e for e in ws.artifacts[0].events if e.kind == "inf:addreg"]
    assert [(e.get("fields.root"), e.get("fields.key"), e.get("fields.value_name")) for e in evs] == [
        ("HKLM", "HKLM\\SOFTWARE\\Fabrikam\\Widget", "Mode"),
        ("HKLM", "HKLM\\SOFTWARE\\Fabrikam\\Widget", "Dir"),
        ("HKR", None, "UpperFilters"),
    ]
