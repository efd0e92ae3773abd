"""culprit.kb.codes: pinned readings in both languages, every accepted input form, unknown codes."""

from __future__ import annotations

import pytest

from culprit.kb import codes

# --- every accepted input form ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "0x80070005",
        "80070005",
        "-2147024891",
        "0X80070005",
        "E_ACCESSDENIED",
        "e_accessdenied",
        "HRESULT=80070005",
        "hr:0x80070005",
        "(hr:0x80070005)",
        "HRESULT = 0x80070005 - E_ACCESSDENIED",
        "0x80070005 - E_ACCESSDENIED",
    ],
)
def test_forms_of_access_denied_hresult(text: str) -> None:
    first = codes.explain(text)[0]
    assert (first.kind, first.value, first.symbol) == ("hresult", 0x80070005, "E_ACCESSDENIED")


def test_int_inputs_signed_and_unsigned() -> None:
    assert codes.explain(-2147024891)[0].value == 0x80070005
    assert codes.explain(0x80070005)[0].symbol == "E_ACCESSDENIED"
    assert codes.explain(5)[0].symbol == "ERROR_ACCESS_DENIED"


@pytest.mark.parametrize(
    ("text", "kind", "value", "symbol"),
    [
        ("5", "win32", 5, "ERROR_ACCESS_DENIED"),
        ("ERROR_ACCESS_DENIED", "win32", 5, "ERROR_ACCESS_DENIED"),
        ("error 5", "win32", 5, "ERROR_ACCESS_DENIED"),
        ("0xC0000022", "ntstatus", 0xC0000022, "STATUS_ACCESS_DENIED"),
        ("C0000022", "ntstatus", 0xC0000022, "STATUS_ACCESS_DENIED"),
        ("STATUS_ACCESS_DENIED", "ntstatus", 0xC0000022, "STATUS_ACCESS_DENIED"),
        ("-1073741790", "ntstatus", 0xC0000022, "STATUS_ACCESS_DENIED"),
        ("1603", "msi", 1603, "ERROR_INSTALL_FAILURE"),
        ("ERROR_INSTALL_FAILURE", "msi", 1603, "ERROR_INSTALL_FAILURE"),
        ("0x800F0922", "cbs", 0x800F0922, "CBS_E_INSTALLERS_FAILED"),
        ("HRESULT=800F0922", "cbs", 0x800F0922, "CBS_E_INSTALLERS_FAILED"),
        ("cbs_e_installers_failed", "cbs", 0x800F0922, "CBS_E_INSTALLERS_FAILED"),
        ("0x80073712", "hresult", 0x80073712, "ERROR_SXS_COMPONENT_STORE_CORRUPT"),
        ("0x80040902", "omaha", 0x80040902, "GOOPDATEINSTALL_E_INSTALLER_FAILED"),
        ("-2147219198", "omaha", 0x80040902, "GOOPDATEINSTALL_E_INSTALLER_FAILED"),
        ("GOOPDATEINSTALL_E_INSTALLER_FAILED", "omaha", 0x80040902, "GOOPDATEINSTALL_E_INSTALLER_FAILED"),
        ("0x80040C01", "omaha", 0x80040C01, "GOOGLEUPDATE_COMMANDLINE_E_NO_SCENARIO_HANDLER_MATCHED"),
        ("-2147218431", "omaha", 0x80040C01, "GOOGLEUPDATE_COMMANDLINE_E_NO_SCENARIO_HANDLER_MATCHED"),
        ("0x80240017", "wu", 0x80240017, "WU_E_NOT_APPLICABLE"),
        ("0xE0000219", "setupapi", 0xE0000219, "ERROR_NO_ASSOCIATED_SERVICE"),
        ("ERROR_NO_ASSOCIATED_SERVICE", "setupapi", 0xE0000219, "ERROR_NO_ASSOCIATED_SERVICE"),
        ("0x800F0219", "setupapi", 0x800F0219, "SPAPI_E_NO_ASSOCIATED_SERVICE"),
        ("0x80070643", "hresult", 0x80070643, "ERROR_INSTALL_FAILURE"),
        ("3010", "msi", 3010, "ERROR_SUCCESS_REBOOT_REQUIRED"),
    ],
)
def test_first_reading(text: str, kind: str, value: int, symbol: str) -> None:
    first = codes.explain(text)[0]
    assert (first.kind, first.value, first.symbol) == (kind, value, symbol)


# --- pinned values, both languages -------------------------------------------------------------

PINNED = {
    "0x80070005": (
        "Access denied (Win32 error 5 as an HRESULT).",
        "拒绝访问（Win32 错误 5 的 HRESULT 形式）。",
        "security or endpoint software",
        "安全软件或终端管理软件",
    ),
    "0xC0000022": (
        "Access denied (kernel status; Procmon shows it as ACCESS DENIED).",
        "拒绝访问（内核状态码；Procmon 中显示为 ACCESS DENIED）。",
        "registry-callback driver",
        "注册表回调驱动",
    ),
    "0x800F0922": (
        "An advanced installer or generic command run during servicing failed.",
        "组件服务期间运行的高级安装程序或通用命令失败。",
        "System Reserved/EFI partition",
        "系统保留分区",
    ),
    "0x80073712": (
        "The component store is corrupt or is missing manifests.",
        "组件存储（WinSxS）已损坏或缺少清单文件。",
        "RestoreHealth",
        "RestoreHealth",
    ),
    "1603": (
        "Fatal error during installation; Windows Installer rolled the product back.",
        "安装过程中发生致命错误，Windows Installer 已回滚该产品。",
        "first 'Return value 3'",
        "返回值 3",
    ),
    "0x80040902": (
        "The app's installer ran and failed (the updater reports the install as failed).",
        "应用的安装程序运行后失败（更新程序报告安装失败）。",
        "third-party DLL",
        "注入",
    ),
}


@pytest.mark.parametrize("code", sorted(PINNED))
def test_pinned_meaning_and_hint_both_languages(code: str) -> None:
    en, zh, hint_en, hint_zh = PINNED[code]
    r = codes.explain(code)[0]
    assert r.written
    assert r.meaning("en") == en
    assert r.meaning("zh") == zh
    assert hint_en in (r.hint("en") or "")
    assert hint_zh in (r.hint("zh") or "")
    assert codes.meaning(code, "en") == en
    assert codes.meaning(code, "zh") == zh


def test_1722_has_both_readings_in_both_languages() -> None:
    rs = codes.explain("1722")
    assert [(r.kind, r.symbol) for r in rs] == [("win32", "RPC_S_SERVER_UNAVAILABLE"), ("msi", None)]
    win32, msi = rs
    assert win32.meaning_en == "The RPC server is unavailable."
    assert win32.meaning_zh == "RPC 服务器不可用。"
    assert msi.context.startswith("Windows Installer message")
    assert msi.meaning_en.startswith("A program run as part of the setup did not finish as expected")
    assert msi.meaning_zh.startswith("安装过程中运行的程序未按预期完成")
    assert "DoInstall" in (msi.hint_en or "") and "DoInstall" in (msi.hint_zh or "")
    # the MSI log context puts the installer message first
    assert codes.explain("Note: 1: 1722 2: DoInstall 3: C:\\WINDOWS\\Installer\\MSI4C46.tmp")[0] is not None
    assert codes.explain("Note: 1: 1722 2: DoInstall")[0].context == msi.context
    assert codes.explain(1722, prefer="msi-message")[0].context == msi.context


# --- decomposition -----------------------------------------------------------------------------


def test_decomposition_of_win32_hresult() -> None:
    d = codes.explain("0x80070005")[0].decomposition
    assert (d.severity, d.facility, d.facility_name, d.code) == ("failure", 7, "WIN32", 5)
    assert (d.win32, d.win32_symbol, d.nt_mapped, d.customer) == (5, "ERROR_ACCESS_DENIED", False, False)


def test_ntstatus_maps_to_win32_and_hresult() -> None:
    d = codes.explain("0xC0000022")[0].decomposition
    assert (d.severity, d.win32, d.win32_symbol, d.hresult) == ("error", 5, "ERROR_ACCESS_DENIED", 0x80070005)


def test_hresult_from_nt() -> None:
    r = codes.explain("0xD0000022")[0]
    assert r.kind == "hresult" and r.decomposition.nt_mapped
    assert (r.decomposition.ntstatus, r.decomposition.ntstatus_symbol) == (0xC0000022, "STATUS_ACCESS_DENIED")
    assert codes.hresult_from_nt(0xC0000022) == 0xD0000022


def test_setupapi_both_directions() -> None:
    e = codes.explain("0xE0000247")[0]
    assert (e.symbol, e.decomposition.hresult) == ("ERROR_DRIVER_STORE_ADD_FAILED", 0x800F0247)
    h = codes.explain("0x800F0247")[0]
    assert (h.kind, h.symbol, h.decomposition.setupapi) == (
        "setupapi",
        "SPAPI_E_DRIVER_STORE_ADD_FAILED",
        0xE0000247,
    )
    assert e.meaning_en == h.meaning_en == "The driver package could not be added to the driver store."


def test_win32_reading_carries_its_hresult() -> None:
    r = codes.explain("5")[0]
    assert r.decomposition.hresult == 0x80070005
    assert codes.hresult_from_win32(1603) == 0x80070643
    assert codes.hresult_from_win32(0) == 0


# --- unknown codes: decomposed, never an exception ------------------------------------------------


@pytest.mark.parametrize(
    "code", ["0x87654321", "0x8007FFFE", "65000", "0xC0FE1234", "0x4000ABCD", "0xFFFFFFFF", "-1", 0]
)
def test_unknown_codes_are_decomposed(code: object) -> None:
    rs = codes.explain(code)  # type: ignore[arg-type]
    assert rs
    for r in rs:
        assert r.meaning_en and r.meaning_zh
        assert r.to_dict()["decomposition"]["code"] == r.value & 0xFFFF


def test_unknown_hresult_text() -> None:
    r = codes.explain("0x87654321")[0]
    assert (r.kind, r.symbol, r.written) == ("hresult", None, False)
    assert r.meaning_en == "not in the knowledge base (failure, facility 1893, code 0x4321)"
    assert r.meaning_zh == "知识库中没有此代码（失败，facility 1893，代码 0x4321）"


def test_symbol_without_written_meaning_is_humanised() -> None:
    r = codes.explain("0x80070026")[0]
    assert (r.symbol, r.meaning_en, r.written) == ("ERROR_HANDLE_EOF", "handle eof", False)
    assert r.meaning_zh == "handle eof（ERROR_HANDLE_EOF；知识库暂无中文释义）"


@pytest.mark.parametrize(
    "junk", ["hello", "", "   ", "0x123456789", "99999999999", "-99999999999", "0xZZ", "NOT_A_SYMBOL_X"]
)
def test_not_a_code_gives_no_reading(junk: str) -> None:
    assert codes.explain(junk) == []
    assert codes.symbol(junk) is None
    assert codes.meaning(junk) is None


def test_eight_digit_decimal_looking_hex_is_read_as_hex_only() -> None:
    assert [(r.kind, r.value) for r in codes.explain("80070005")] == [("hresult", 0x80070005)]


def test_to_dict_languages() -> None:
    d = codes.explain("0x80070005")[0].to_dict("zh")
    assert d["value"] == "0x80070005" and d["meaning"].startswith("拒绝访问") and "hint" in d
    full = codes.explain("1603")[0].to_dict()
    assert (
        full["value"] == "1603"
        and full["meaning_en"].startswith("Fatal")
        and full["meaning_zh"].startswith("安装")
    )


def test_every_written_entry_has_both_languages() -> None:
    t = codes._tables()
    assert len(t.entries) > 150
    for (kind, value), e in t.entries.items():
        assert kind in (*codes.KINDS, "msi-message"), (kind, value)
        assert e.en and e.zh, (kind, value)
        assert (e.hint_en is None) == (e.hint_zh is None), (kind, value)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in e.zh), (kind, value)


def test_symbol_table_size() -> None:
    t = codes._tables()
    assert sum(len(v) for v in t.names.values()) > 9300


# --- robustness: anything in, readings or [] out, never an exception --------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(1 << 31), max_value=(1 << 32) - 1))
def test_any_32bit_number_is_read(n: int) -> None:
    rs = codes.explain(n)
    assert rs, n
    assert rs[0].value == n & 0xFFFFFFFF or rs[0].value == n
    for r in rs:
        assert r.meaning_en and r.meaning_zh and r.kind in codes.KINDS
        r.to_dict()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text_never_raises(text: str) -> None:
    for r in codes.explain(text):
        assert r.meaning_en and r.meaning_zh


@pytest.mark.parametrize("huge", ["9" * 100_000, "-" + "9" * 5000, "0x" + "F" * 10_000, "A_" * 50_000])
def test_huge_input_is_not_a_code(huge: str) -> None:
    assert codes.explain(huge) == []


@pytest.mark.parametrize("bad", [None, 1.5, b"0x5", True])
def test_non_code_types(bad: object) -> None:
    assert codes.explain(bad) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("result", "value", "symbol"),
    [
        ("ACCESS DENIED", 0xC0000022, "STATUS_ACCESS_DENIED"),
        ("NAME NOT FOUND", 0xC0000034, "STATUS_OBJECT_NAME_NOT_FOUND"),
        ("PATH NOT FOUND", 0xC000003A, "STATUS_OBJECT_PATH_NOT_FOUND"),
        ("NAME COLLISION", 0xC0000035, "STATUS_OBJECT_NAME_COLLISION"),
        ("BUFFER OVERFLOW", 0x80000005, "STATUS_BUFFER_OVERFLOW"),
        ("REPARSE", 0x00000104, "STATUS_REPARSE"),
        ("FAST IO DISALLOWED", 0xC01C0004, "STATUS_FLT_DISALLOW_FAST_IO"),
        ("IS DIRECTORY", 0xC00000BA, "STATUS_FILE_IS_A_DIRECTORY"),
        ("SUCCESS", 0, "STATUS_SUCCESS"),
        ("sharing violation", 0xC0000043, "STATUS_SHARING_VIOLATION"),
    ],
)
def test_procmon_result_names(result: str, value: int, symbol: str) -> None:
    r = codes.explain(result)[0]
    assert (r.kind, r.value, r.symbol, r.written) == ("ntstatus", value, symbol, True)
    assert r.meaning_zh


@pytest.mark.parametrize(
    ("line", "value"),
    [
        (
            "Installation Failure: Windows failed to install the following update with error 0x80070005: "
            "Security Update for Windows (KB4474419).",
            0x80070005,
        ),
        (
            "CustomAction DoInstall returned actual error code -2147219198 (note this may not be accurate)",
            0x80040902,
        ),
        ("Failed to internally open package. [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]", 0x800F0805),
        ("*FAILED* [8024000C] Method failed", 0x8024000C),
        ("the TMS_AGENT service returned 0x80070005", 0x80070005),
    ],
)
def test_pasted_log_line_uses_its_first_code(line: str, value: int) -> None:
    assert codes.explain(line)[0].value == value


def test_unknown_symbol_like_text_is_not_a_code() -> None:
    assert codes.explain("TMS_AGENT") == []
    assert codes.explain("TMS_AGENT is running") == []
