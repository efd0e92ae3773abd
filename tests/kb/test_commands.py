"""`culprit explain` and `culprit whois`: output in both languages and formats, exit codes, bundles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from culprit.cli import main
from culprit.kb.whois import whois
from tests.conftest import case_path

TMS_VENDOR = "北京瀚海信安科技有限公司"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


# --- explain -----------------------------------------------------------------------------------


def test_explain_text_en(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "explain", "0x80070005")
    assert rc == 0
    assert out.splitlines()[:2] == [
        "0x80070005  E_ACCESSDENIED  (HRESULT)",
        "   Access denied (Win32 error 5 as an HRESULT).",
    ]
    assert "bits: failure, facility 7 (WIN32), code 0x0005 (5), Win32 5 ERROR_ACCESS_DENIED" in out


def test_explain_text_zh_two_readings(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "explain", "1722", "--lang", "zh")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "1722: 2 种可能的解读"
    assert lines[1] == "1. 1722  RPC_S_SERVER_UNAVAILABLE（Win32 错误码）"
    assert "   安装过程中运行的程序未按预期完成：EXE 类自定义操作失败（MSI 消息）。" in lines


def test_explain_negative_decimal_positional(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "explain", "-2147219198", "--format", "json")
    assert rc == 0
    doc = json.loads(out)
    assert doc[0]["input"] == "-2147219198"
    r = doc[0]["readings"][0]
    assert (r["kind"], r["value"], r["symbol"]) == (
        "omaha",
        "0x80040902",
        "GOOPDATEINSTALL_E_INSTALLER_FAILED",
    )
    assert r["meaning_en"] and r["meaning_zh"] and r["hint_en"] and r["hint_zh"]


def test_explain_json_one_language_and_many_codes(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "explain", "0xC0000022", "STATUS_ACCESS_DENIED", "-f", "json", "--lang", "zh")
    doc = json.loads(out)
    assert rc == 0 and len(doc) == 2
    for item in doc:
        r = item["readings"][0]
        assert r["symbol"] == "STATUS_ACCESS_DENIED" and r["meaning"].startswith("拒绝访问")
        assert r["decomposition"]["win32"] == 5 and r["decomposition"]["hresult"] == "0x80070005"


def test_explain_not_a_code_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "explain", "hello")
    assert rc == 2 and out == ""
    assert "not a 32-bit status code or a known symbol" in err


def test_explain_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "e.json"
    rc, out, _ = run(capsys, "explain", "0x800F0922", "-f", "json", "-o", str(target))
    assert rc == 0 and out == ""
    assert (
        json.loads(target.read_text(encoding="utf-8"))[0]["readings"][0]["symbol"]
        == "CBS_E_INSTALLERS_FAILED"
    )


def test_explain_as_a_process_no_traceback() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "culprit", "explain", "0xZZ"], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr


# --- whois, knowledge base only ----------------------------------------------------------------------


def test_whois_kb_only_text(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "whois", "krnlmgr.sys")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "krnlmgr.sys"
    assert (
        lines[1] == f"  product: TMS / {TMS_VENDOR} — kernel-driver, registry-callback  [products.yaml, 0.95]"
    )
    assert "    display_name: TMS 内核管理" in lines
    assert lines[-1] == f"  Windows own: no — known third-party: krnlmgr.sys belongs to TMS ({TMS_VENDOR})"


def test_whois_altitude_only_name(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "whois", "shdlpSf.sys", "--lang", "zh")
    assert rc == 0
    assert "  已分配高度: 385970 FSFilter Activity Monitor — Comtrue Technology" in out.splitlines()
    assert "文件系统过滤驱动" in out


def test_whois_unknown_name_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "whois", "nothing-here.dll", "-f", "json")
    doc = json.loads(out)
    assert rc == 0 and doc["knowledge_base"] == [] and doc["microsoft"]["is_microsoft"] is False


def test_whois_missing_bundle_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "whois", "schk.dll", "--bundle", "/nonexistent/bundle")
    assert rc == 3 and "no such file or folder" in err


# --- whois with a bundle ------------------------------------------------------------------------


def _tiny_bundle(root: Path) -> Path:
    sysdir = root / "system"
    sysdir.mkdir(parents=True)
    (sysdir / "fltmc.txt").write_text(
        "\r\nFilter Name                     Num Instances    Altitude    Frame\r\n"
        "------------------------------  -------------  ------------  -----\r\n"
        "shdlpSf                                 3       385970         0\r\n"
        "tmsfsflt                                5       368420         0\r\n"
        "WdFilter                                5       328010         0\r\n",
        encoding="ascii",
    )
    (sysdir / "driverquery.csv").write_text(
        '"Module Name","Display Name","Description","Driver Type","Start Mode","State","Status",'
        '"Accept Stop",'
        '"Accept Pause","Paged Pool(bytes)","Code(bytes)","BSS(bytes)","Link Date","Path","Init(bytes)"\r\n'
        '"shdlpSf","DLP File Filter","DLP File Filter","File System ","Boot","Running","OK","TRUE","FALSE",'
        '"4,096","65,536","0","3/1/2021 10:00:00 AM",'
        '"C:\\Windows\\system32\\drivers\\shdlpSf.sys","4,096"\r\n',
        encoding="ascii",
    )
    return root


def test_whois_bundle_fltmc_and_driverquery(tmp_path: Path) -> None:
    rep = whois("shdlpSf.sys", [_tiny_bundle(tmp_path / "b")])
    by = {s.source: s for s in rep.sightings}
    assert by["fltmc"].facts == {
        "filter": "shdlpSf",
        "altitude": "385970",
        "band": "FSFilter Activity Monitor",
        "allocated_to": ["shdlpSf.sys (Comtrue Technology)"],
        "instances": 3,
    }
    assert by["fltmc"].artifact.endswith("system/fltmc.txt") and by["fltmc"].line == 4
    assert by["driverquery"].facts["display_name"] == "DLP File Filter"
    assert by["driverquery"].facts["path"] == r"C:\Windows\system32\drivers\shdlpSf.sys"
    assert not any("allocated to" in en for en, _ in rep.notes)  # its own altitude: no mismatch note
    # what the bundle lacks is said, not failed on
    assert (
        "the bundle has no tasklist, procmon output to check",
        "证据包中没有可供核对的 tasklist, procmon 输出",
    ) in rep.notes


def test_whois_bundle_altitude_mismatch_note(tmp_path: Path) -> None:
    rep = whois("tmsfsflt", [_tiny_bundle(tmp_path / "b")])
    assert (
        "altitude 368420 is allocated to NURILAB (nrcomgrdki.sys, nrcomgrdka.sys), not to tmsfsflt",
        "高度 368420 分配给了 NURILAB（nrcomgrdki.sys, nrcomgrdka.sys），并非 tmsfsflt",
    ) in rep.notes


def test_whois_bundle_without_any_list(tmp_path: Path) -> None:
    b = tmp_path / "b" / "Windows" / "Logs" / "CBS"
    b.mkdir(parents=True)
    (b / "CBS.log").write_text(
        "2024-09-03 10:15:22, Info                  CBS    Starting TrustedInstaller initialization.\r\n",
        encoding="ascii",
    )
    rep = whois("schk.dll", [tmp_path / "b"])
    assert rep.sightings == ()
    assert (
        "schk.dll does not appear in the bundle's driver, filter, process or module lists",
        "schk.dll 未出现在证据包的驱动、过滤驱动、进程或模块列表中",
    ) in rep.notes
    assert rep.hits[0].product == "TMS"


def test_whois_bundle_with_nothing_readable_is_input_error(tmp_path: Path) -> None:
    from culprit.errors import InputError

    b = tmp_path / "b"
    b.mkdir()
    (b / "note.txt").write_text("nothing useful here\n", encoding="ascii")
    with pytest.raises(InputError):
        whois("schk.dll", [b])


def test_whois_edge_case_bundle_schk() -> None:
    bundle = case_path("edge-injected-dll", "bad")
    rep = whois("schk.dll", [bundle])
    tl = [s for s in rep.sightings if s.source == "tasklist"]
    assert tl and all(s.facts["as"] == "module" for s in tl) and tl[0].facts["of"] == 23
    assert (tl[0].artifact, tl[0].line, tl[0].facts["process"], tl[0].facts["pid"]) == (
        "bad/system/tasklist_m.txt",
        93,
        "svchost.exe",
        1852,
    )
    mods = [s for s in rep.sightings if s.source == "procmon-module"]
    paths = {s.facts["path"] for s in mods}
    assert paths == {r"C:\Program Files (x86)\TMS\schk.dll", r"C:\Program Files (x86)\TMS\x64\schk.dll"}
    x86 = next(s for s in mods if s.facts["path"] == r"C:\Program Files (x86)\TMS\schk.dll")
    assert (x86.facts["company"], x86.facts["version"], x86.facts["description"]) == (
        TMS_VENDOR,
        "3.2.0.118",
        "TMS 安全检查模块",
    )
    assert "MicrosoftEdgeUpdate.exe (7140)" in x86.facts["loaded_in"]
    assert rep.verdict.is_microsoft is False


def test_whois_edge_case_bundle_krnlmgr_cli(capsys: pytest.CaptureFixture[str]) -> None:
    bundle = case_path("edge-injected-dll", "bad")
    rc, out, _ = run(capsys, "whois", "krnlmgr.sys", "--bundle", str(bundle), "-f", "json", "--lang", "zh")
    doc = json.loads(out)
    assert rc == 0
    dq = next(s for s in doc["bundle"]["sightings"] if s["source"] == "driverquery")
    assert (dq["artifact"], dq["line"], dq["display_name"], dq["start_mode"]) == (
        "bad/system/driverquery.csv",
        107,
        "TMS 内核管理",
        "Boot",
    )
    assert doc["microsoft"]["reason"] == f"已知第三方文件：krnlmgr.sys 属于 TMS（{TMS_VENDOR}）"
