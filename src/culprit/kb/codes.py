"""Status codes: every plausible reading of a number or symbol an install log prints.

Windows writes the same failure in many shapes: ``0x80070005``, ``80070005``, ``-2147024891``,
``E_ACCESSDENIED``, Win32 ``5``, NTSTATUS ``0xC0000022``; SetupAPI ``0xE0000219`` is HRESULT
``0x800F0219``; an MSI ``1722`` is a Windows Installer message in ``Note: 1: 1722`` and an RPC error
as a Win32 code. :func:`explain` returns each reading with its symbol, a one-line meaning in
English and Chinese, an install-specific hint where one exists, and the bit-level decomposition.

Sources:
    * ``data/codes.tsv`` — 9,300 Win32/HRESULT/NTSTATUS names and values from golang/sys
      ``zerrors_windows.go`` (itself generated from winerror.h/ntstatus.h), BSD-3-Clause.
    * ``data/meanings.yaml`` — culprit's own one-line meanings and hints (en, zh), plus the symbols that
      are not in winerror.h: CBS_E_* (servicing stack), WU_E_* (wuerror.h), Omaha/Edge Update
      ``0x8004xxxx`` (google/omaha ``base/error.h``), Windows Installer internal message numbers.
    * Bit layout: [MS-ERREF] 2.1 (HRESULT) and 2.3 (NTSTATUS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from culprit.kb import _codetables
from culprit.kb._codetables import NT_BIT, SETUPAPI_MASK, CodeTables

KINDS = ("hresult", "win32", "ntstatus", "msi", "setupapi", "cbs", "wu", "omaha")

# What each kind is, for people (en, zh).
CONTEXT = {
    "hresult": ("HRESULT", "HRESULT"),
    "win32": ("Win32 error", "Win32 错误码"),
    "ntstatus": ("NTSTATUS (kernel status)", "NTSTATUS（内核状态码）"),
    "msi": ("Windows Installer return code", "Windows Installer 返回码"),
    "msi-message": (
        "Windows Installer message (Note: 1: N / Error N.)",
        "Windows Installer 内部消息号（Note: 1: N / Error N.）",
    ),
    "setupapi": ("SetupAPI / driver install error", "SetupAPI / 驱动安装错误"),
    "cbs": ("CBS servicing stack error", "CBS 组件服务堆栈错误"),
    "wu": ("Windows Update agent error", "Windows Update 代理错误"),
    "omaha": ("Edge Update / Omaha error", "Edge Update / Omaha 错误"),
}

FACILITIES = {
    0: "NULL",
    1: "RPC",
    2: "DISPATCH",
    3: "STORAGE",
    4: "ITF",
    7: "WIN32",
    8: "WINDOWS",
    9: "SECURITY",
    10: "CONTROL",
    11: "CERT",
    12: "INTERNET",
    13: "MEDIASERVER",
    14: "MSMQ",
    15: "SETUPAPI",
    16: "SCARD",
    17: "COMPLUS",
    19: "URT",
    23: "SXS",
    25: "HTTP",
    31: "USERMODE_FILTER_MANAGER",
    32: "BACKGROUNDCOPY",
    33: "CONFIGURATION",
    36: "WINDOWSUPDATE",
    37: "DIRECTORYSERVICE",
    38: "GRAPHICS",
    39: "SHELL",
    40: "TPM_SERVICES",
    41: "TPM_SOFTWARE",
    49: "FVE",
    50: "FWP",
    51: "WINRM",
    52: "NDIS",
    57: "BCD",
    80: "WINDOWS_DEFENDER",
}

# Windows Installer return codes (msiexec exit codes; values shared with winerror.h).
MSI_RETURN = frozenset([*range(1601, 1651), 1259, 1641, 3010, 3011, 3012])


_NUM_PREFIX = re.compile(
    r"^(?:hresult|hr|error\s*code|error|err|status|code|exit\s*code|gle|result|returned)\s*[:=#]?\s*", re.I
)
# Note: 1: 1722 2: DoInstall 3: C:\WINDOWS\Installer\MSI4C46.tmp
_MSI_NOTE = re.compile(r"^Note:\s*1:\s*(\d+)", re.I)
_DEC = re.compile(r"^[0-9]+$")
# the first code-looking token of a longer text: 0x80070005, C0000022, E_ACCESSDENIED
_EMBEDDED = re.compile(
    r"(?<![\w-])(?:0x[0-9A-Fa-f]{1,8}|-?[0-9]{9,10}|[0-9A-Fa-f]{8}|[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])(?![\w])"
)
# Procmon Result column: ACCESS DENIED, NAME NOT FOUND, BUFFER OVERFLOW
_PROCMON_RESULT = re.compile(r"^[A-Z][A-Z0-9]*(?: [A-Z0-9]+)*$")
_SYMBOL = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_HEX = re.compile(r"^(?:0x)?([0-9A-Fa-f]{1,8})$", re.I)


@dataclass(frozen=True, slots=True)
class Decomposition:
    """The bit fields of a status value and the codes it maps to.

    Attributes:
        severity: HRESULT ``success``/``failure``; NTSTATUS ``success``/``information``/``warning``/
            ``error``; None for plain Win32/MSI numbers.
        facility: the facility number (HRESULT bits 26–16, NTSTATUS bits 27–16).
        facility_name: ``WIN32``, ``SETUPAPI``, ``WINDOWSUPDATE``, ``ITF`` ... when known.
        code: the low 16 bits.
        customer: the C bit (customer/third-party defined; SetupAPI sets it).
        nt_mapped: HRESULT with the N bit (``HRESULT_FROM_NT``).
        win32: the Win32 error this value carries or maps to (``0x8007xxxx`` -> low word).
        win32_symbol: its name.
        ntstatus: the NTSTATUS it carries (N bit) or the value itself for NTSTATUS.
        ntstatus_symbol: its name.
        hresult: the HRESULT form (``HRESULT_FROM_WIN32``, SetupAPI ``0xE000xxxx`` -> ``0x800Fxxxx``).
        setupapi: the SetupAPI ``0xE000xxxx`` form of a ``0x800F0xxx`` HRESULT.
    """

    severity: str | None
    facility: int | None
    facility_name: str | None
    code: int
    customer: bool = False
    nt_mapped: bool = False
    win32: int | None = None
    win32_symbol: str | None = None
    ntstatus: int | None = None
    ntstatus_symbol: str | None = None
    hresult: int | None = None
    setupapi: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "severity": self.severity,
            "facility": self.facility,
            "facility_name": self.facility_name,
            "code": self.code,
        }
        if self.customer:
            d["customer"] = True
        if self.nt_mapped:
            d["nt_mapped"] = True
        for k in ("win32", "win32_symbol"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        if self.ntstatus is not None:
            d["ntstatus"] = _hex(self.ntstatus)
            d["ntstatus_symbol"] = self.ntstatus_symbol
        if self.hresult is not None:
            d["hresult"] = _hex(self.hresult)
        if self.setupapi is not None:
            d["setupapi"] = _hex(self.setupapi)
        return d


@dataclass(frozen=True, slots=True)
class Reading:
    """One interpretation of a code.

    Attributes:
        kind: ``hresult``, ``win32``, ``ntstatus``, ``msi``, ``setupapi``, ``cbs``, ``wu`` or ``omaha``.
        value: the value in this reading (unsigned 32-bit for HRESULT/NTSTATUS/SetupAPI forms).
        symbol: the name from the headers (``E_ACCESSDENIED``), or None when unknown.
        meaning_en: one line in English (culprit's own words; a de-mangled symbol when not written yet).
        meaning_zh: one line in Chinese.
        hint_en: what to look at next in an install failure, if the KB has a hint.
        hint_zh: the same in Chinese.
        decomposition: the bit fields and mapped codes.
        context: what kind of number this is, e.g. ``Windows Installer message (Note: 1: N / Error N.)``.
        written: True when the meaning is hand-written in ``meanings.yaml`` (False: derived from
            the symbol, or unknown).
    """

    kind: str
    value: int
    symbol: str | None
    meaning_en: str
    meaning_zh: str
    hint_en: str | None
    hint_zh: str | None
    decomposition: Decomposition
    context: str
    written: bool

    @property
    def display(self) -> str:
        """The value as people write it: hex for 32-bit forms, decimal for Win32/MSI numbers."""
        if self.kind in ("win32", "msi"):
            return str(self.value)
        return _hex(self.value)

    def meaning(self, lang: str = "en") -> str:
        """The one-line meaning in ``en`` or ``zh``."""
        return self.meaning_zh if lang == "zh" else self.meaning_en

    def hint(self, lang: str = "en") -> str | None:
        """The install-specific hint in ``en`` or ``zh`` (None if the KB has none)."""
        return self.hint_zh if lang == "zh" else self.hint_en

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """JSON-ready dict; with ``lang`` only that language's meaning and hint."""
        d: dict[str, Any] = {
            "kind": self.kind,
            "value": self.display,
            "symbol": self.symbol,
            "context": self.context,
        }
        if lang in ("en", "zh"):
            d["meaning"] = self.meaning(lang)
            if self.hint(lang):
                d["hint"] = self.hint(lang)
        else:
            d.update(meaning_en=self.meaning_en, meaning_zh=self.meaning_zh)
            if self.hint_en:
                d.update(hint_en=self.hint_en, hint_zh=self.hint_zh)
        d["written"] = self.written
        d["decomposition"] = self.decomposition.to_dict()
        return d


# --- tables (loaded once, in culprit.kb._codetables) -----------------------------------------

_tables = _codetables.tables


# --- public API ----------------------------------------------------------------------------


def explain(code: int | str, prefer: str | None = None, _embedded: bool = True) -> list[Reading]:
    """Every plausible reading of ``code``, most likely first.

    Accepts ints (negative = signed 32-bit HRESULT) and text: ``0x80070005``, ``80070005``,
    ``-2147024891``, ``5``, ``1603``, ``0xC0000022``, ``0xE0000219``, ``HRESULT=800F0922``,
    ``hr:0x800f0922``, and symbols (``E_ACCESSDENIED``, ``STATUS_ACCESS_DENIED``, ``ERROR_ACCESS_DENIED``,
    ``CBS_E_INSTALLERS_FAILED``, ``GOOPDATEINSTALL_E_INSTALLER_FAILED``; case-insensitive).

    A bare small number is a Win32 error (or a Windows Installer return code for 1601–1650, 1641,
    3010), plus a Windows Installer message reading where MSI uses that number (``Note: 1: 1722``).
    A code the KB has never heard of is still decomposed; this never raises for a number.

    Args:
        code: the number or symbol.
        prefer: a kind (``msi``, ``ntstatus``, ...) to move to the front, when the caller knows the
            log it came from; ``msi-message`` puts the Windows Installer message reading first (as
            does text starting ``Note: 1:``).

    Text that is none of these (a pasted log line) is searched for its first token that is.

    Returns:
        The readings; empty only when ``code`` is neither a 32-bit number nor a known symbol.
    """
    t = _tables()
    out: list[Reading] = []
    if isinstance(code, str) and (m := _MSI_NOTE.match(code.strip())):  # `Note: 1: 1722 2: DoInstall`
        code = m.group(1)
        prefer = prefer or "msi-message"
    for i, (value, how) in enumerate(_candidates(code)):
        if how == "symbol":
            continue
        rs = _readings_for_value(t, value)
        if how == "signed":  # a negative decimal is the same 32-bit value: the same readings, HRESULT first
            rs.sort(key=lambda r: (r.symbol is None, r.kind == "ntstatus"))
        # a second way of reading the same digits (80070005 as decimal) only counts if it names something
        out.extend(rs if i == 0 else [r for r in rs if r.symbol])
    if isinstance(code, str) and not out:
        out.extend(_readings_for_symbol(t, _clean(code)))
    if isinstance(code, str) and not out and _embedded and len(code) <= 4096:
        # a pasted log line: `... failed to install ... with error 0x80070005: Access is denied.`
        for m in _EMBEDDED.finditer(code):
            if m.group(0) != code.strip():
                found = explain(m.group(0), prefer, _embedded=False)
                if found:
                    return found
    seen: set[tuple[str, int, str]] = set()
    uniq = []
    for r in out:
        key = (r.kind, r.value, r.context)
        if key not in seen:
            seen.add(key)
            uniq.append(r)
    if prefer == "msi-message":
        uniq.sort(key=lambda r: r.context != CONTEXT["msi-message"][0])
    elif prefer:
        uniq.sort(key=lambda r: r.kind != prefer)
    return uniq


def symbol(code: int | str) -> str | None:
    """The symbol of the most likely reading (``0x80070005`` -> ``E_ACCESSDENIED``), or None."""
    for r in explain(code):
        if r.symbol:
            return r.symbol
    return None


def meaning(code: int | str, lang: str = "en") -> str | None:
    """The one-line meaning of the most likely reading in ``en`` or ``zh`` (None if not a code)."""
    rs = explain(code)
    written = [r for r in rs if r.written]
    pick = written[0] if written else (rs[0] if rs else None)
    return pick.meaning(lang) if pick else None


def to_unsigned(value: int) -> int:
    """A signed or unsigned 32-bit value as unsigned (``-2147024891`` -> ``0x80070005``)."""
    if not -(1 << 31) <= value <= 0xFFFFFFFF:
        raise ValueError(f"{value} is not a 32-bit value")
    return value & 0xFFFFFFFF


def hresult_from_win32(err: int) -> int:
    """``HRESULT_FROM_WIN32``: ``5`` -> ``0x80070005`` (0 stays 0; values above 0xFFFF pass through)."""
    if err <= 0 or err > 0xFFFF:
        return err & 0xFFFFFFFF
    return 0x80070000 | err


def hresult_from_nt(status: int) -> int:
    """``HRESULT_FROM_NT``: ``0xC0000022`` -> ``0xD0000022``."""
    return (status | NT_BIT) & 0xFFFFFFFF


# --- parsing -------------------------------------------------------------------------------


def _clean(text: str) -> str:
    s = text.strip().strip("()[]{}<>.,;'\"` ")
    s = s.split(" - ", 1)[0]  # CBS: `0x80070005 - E_ACCESSDENIED`
    rest = _NUM_PREFIX.sub("", s).strip().strip("()[]{}<>.,;'\"` ")
    # `hr=0x...`, `error 5`; not `ERROR_ACCESS_DENIED`
    if rest != s and rest[:1] and rest[:1] in "0123456789-":
        return rest
    return s


def _candidates(code: int | str) -> list[tuple[int, str]]:
    """Values ``code`` may stand for, most likely first, each with how it was read."""
    if isinstance(code, bool):
        return []
    if isinstance(code, int):
        try:
            return [(to_unsigned(code), "signed" if code < 0 else "int")]
        except ValueError:
            return []
    # no code or symbol is this long; do not feed huge digit runs to int()
    if not isinstance(code, str) or len(code) > 200:
        return []
    s = _clean(code)
    if not s or len(s) > 120:
        return []
    if s.startswith("-") and _DEC.match(s[1:]):
        try:
            return [(to_unsigned(int(s)), "signed")]
        except ValueError:
            return []
    if s.lower().startswith("0x"):
        m = _HEX.match(s)
        return [(int(m.group(1), 16), "hex")] if m else []
    if _DEC.match(s):
        n = int(s)
        out = []
        if len(s) == 8 and s[0] in "89":  # 80070005: hex written without 0x (CBS, WER, ReportingEvents)
            out.append((int(s, 16), "hex"))
        if n <= 0xFFFFFFFF:
            out.append((n, "decimal"))
        return out
    m = _HEX.match(s)
    if m and any(c in "0123456789" for c in s):  # C0000022, 800f0922, E0000219
        return [(int(s, 16), "hex")]
    if _SYMBOL.match(s):
        return [(0, "symbol")]
    return []


# --- readings ------------------------------------------------------------------------------


def _readings_for_symbol(t: CodeTables, text: str) -> list[Reading]:
    """Readings of a symbol; Procmon's result names (``ACCESS DENIED``, ``NAME NOT FOUND``) are
    NTSTATUS names without ``STATUS_`` (and without ``OBJECT_`` for names and paths)."""
    sym = " ".join(text.upper().split())
    if sym in t.procmon:
        return [_ntstatus(t, t.procmon[sym])]
    tries = [sym]
    if _PROCMON_RESULT.match(sym):
        words = sym.replace(" ", "_")
        tries += [f"STATUS_{words}", f"STATUS_OBJECT_{words}"]
    for name in tries:
        locs = t.by_symbol.get(name)
        if locs:
            return [_reading_of_kind(t, kind, value) for kind, value in locs]
    return []


def _reading_of_kind(t: CodeTables, kind: str, v: int) -> Reading:
    if kind == "ntstatus":
        return _ntstatus(t, v)
    if kind == "msi-message":
        return _msi_message(t, v)
    if kind in ("win32", "msi"):
        return _small(t, "msi" if v in MSI_RETURN else "win32", v)
    if kind == "setupapi" and v & 0xFFFF0000 == SETUPAPI_MASK:
        return _setupapi(t, v)
    return _hresult(t, v)


def _readings_for_value(t: CodeTables, v: int) -> list[Reading]:
    out: list[Reading] = []
    top = v >> 30
    if v <= 0xFFFF:
        if v in MSI_RETURN:
            out.append(_small(t, "msi", v))
        else:
            out.append(_small(t, "win32", v))
        if ("msi-message", v) in t.entries:
            out.append(_msi_message(t, v))
        if v == 0 or ("hresult", v) in t.names:
            out.append(_hresult(t, v))
        if v and ("ntstatus", v) in t.entries:  # STATUS_REPARSE (0x104) and other small written statuses
            out.append(_ntstatus(t, v))
        return out
    if v & 0xFFFF0000 == SETUPAPI_MASK:
        out.append(_setupapi(t, v))
        return out
    if top == 3:  # 0xC.. 0xD.. 0xE.. 0xF..: NTSTATUS error, or an HRESULT with the N/C bits
        if v & NT_BIT and not v & 0x20000000:
            out.append(_hresult(t, v))
            if ("ntstatus", v) in t.names:
                out.append(_ntstatus(t, v))
        else:
            out.append(_ntstatus(t, v))
            if ("hresult", v) in t.names:
                out.append(_hresult(t, v))
        return out
    if top == 2:  # 0x8.. 0x9.. 0xA.. 0xB..: failure HRESULT (or an NTSTATUS warning)
        out.append(_hresult(t, v))
        if ("ntstatus", v) in t.names:
            out.append(_ntstatus(t, v))
        return out
    # success / informational range
    if ("ntstatus", v) in t.names or top == 1:
        out.append(_ntstatus(t, v))
    if ("hresult", v) in t.names or ("cbs", v) in t.entries or top == 0:
        if top == 0:
            out.insert(0, _hresult(t, v))
        else:
            out.append(_hresult(t, v))
    return out


def _humanize(sym: str) -> str:
    s = sym
    for marker in ("_E_", "_S_", "_W_", "_I_"):
        i = s.find(marker)
        if 0 <= i <= 12:
            s = s[i + len(marker) :]
            break
    else:
        for prefix in ("ERROR_", "STATUS_", "E_", "S_"):
            if s.startswith(prefix):
                s = s[len(prefix) :]
                break
    return s.replace("_", " ").lower()


def _make(
    t: CodeTables,
    kind: str,
    value: int,
    sym: str | None,
    dec: Decomposition,
    keys: list[tuple[str, int]],
    ctx: str | None = None,
) -> Reading:
    entry = next((t.entries[k] for k in keys if k in t.entries), None)
    context = CONTEXT[ctx or kind][0]
    if entry and entry.en:
        en, zh = entry.en, entry.zh or entry.en
        written = True
        if entry.kind == "win32" and kind == "hresult":
            en, zh = (
                f"{en.rstrip('.')} (Win32 error {value & 0xFFFF} as an HRESULT).",
                f"{zh.rstrip('。')}（Win32 错误 {value & 0xFFFF} 的 HRESULT 形式）。",
            )
        return Reading(kind, value, sym, en, zh, entry.hint_en, entry.hint_zh, dec, context, written)
    if sym:
        human = _humanize(sym)
        return Reading(
            kind, value, sym, human, f"{human}（{sym}；知识库暂无中文释义）", None, None, dec, context, False
        )
    en = f"not in the knowledge base ({_describe(kind, dec)})"
    zh = f"知识库中没有此代码（{_describe_zh(kind, dec)}）"
    return Reading(kind, value, None, en, zh, None, None, dec, context, False)


def _describe(kind: str, d: Decomposition) -> str:
    if kind in ("win32", "msi"):
        return "Win32-sized number"
    fac = d.facility_name or f"facility {d.facility}"
    return f"{d.severity}, {fac}, code {d.code:#06x}"


def _describe_zh(kind: str, d: Decomposition) -> str:
    if kind in ("win32", "msi"):
        return "Win32 范围内的数值"
    sev = {"failure": "失败", "success": "成功", "error": "错误", "warning": "警告", "information": "信息"}
    fac = d.facility_name or f"facility {d.facility}"
    return f"{sev.get(d.severity or '', d.severity)}，{fac}，代码 {d.code:#06x}"


def _small(t: CodeTables, kind: str, v: int) -> Reading:
    dec = Decomposition(
        None,
        None,
        None,
        v,
        win32=v,
        win32_symbol=t.symbol("win32", v),
        hresult=hresult_from_win32(v) if v else 0,
    )
    sym = t.symbol("win32", v)
    return _make(t, kind, v, sym, dec, [(kind, v), ("win32", v), ("hresult", hresult_from_win32(v))])


def _msi_message(t: CodeTables, v: int) -> Reading:
    dec = Decomposition(None, None, None, v)
    e = t.entries[("msi-message", v)]
    return _make(t, "msi", v, e.symbol, dec, [("msi-message", v)], ctx="msi-message")


def _hresult_dec(t: CodeTables, v: int) -> Decomposition:
    fac = (v >> 16) & 0x7FF
    code = v & 0xFFFF
    nt = bool(v & NT_BIT)
    win32 = code if fac == 7 and not nt else None
    nts = (v & ~NT_BIT) if nt else None
    spapi = SETUPAPI_MASK | code if fac == 15 and v >> 16 == 0x800F and code < 0x0800 else None
    return Decomposition(
        severity="failure" if v & 0x80000000 else "success",
        facility=fac,
        facility_name=FACILITIES.get(fac),
        code=code,
        customer=bool(v & 0x20000000),
        nt_mapped=nt,
        win32=win32,
        win32_symbol=t.symbol("win32", win32) if win32 is not None else None,
        ntstatus=nts,
        ntstatus_symbol=t.symbol("ntstatus", nts) if nts is not None else None,
        setupapi=spapi,
    )


def _hresult(t: CodeTables, v: int) -> Reading:
    dec = _hresult_dec(t, v)
    fac = dec.facility
    kind = "hresult"
    if fac == 15 and v >> 16 == 0x800F:
        kind = "cbs" if 0x0800 <= dec.code < 0x0A00 else "setupapi"
    elif fac == 36:
        kind = "wu"
    elif fac == 4 and ("omaha", v) in t.entries:
        kind = "omaha"
    sym = t.symbol(kind, v) or t.symbol("hresult", v)
    keys = [(kind, v), ("hresult", v)]
    if dec.win32 is not None:
        sym = sym or dec.win32_symbol
        keys.append(("msi", dec.win32) if dec.win32 in MSI_RETURN else ("win32", dec.win32))
        keys.append(("win32", dec.win32))
    if dec.ntstatus is not None:
        sym = sym or dec.ntstatus_symbol
        keys.append(("ntstatus", dec.ntstatus))
    if kind == "setupapi":
        sym = sym or t.symbol("setupapi", SETUPAPI_MASK | dec.code)
    return _make(t, kind, v, sym, dec, keys)


def _setupapi(t: CodeTables, v: int) -> Reading:
    code = v & 0xFFFF
    hr = 0x800F0000 | code
    dec = Decomposition("error", 15, "SETUPAPI", code, customer=True, hresult=hr)
    sym = t.symbol("setupapi", v)
    return _make(t, "setupapi", v, sym, dec, [("setupapi", hr), ("hresult", hr)])


def _ntstatus(t: CodeTables, v: int) -> Reading:
    sev = ("success", "information", "warning", "error")[v >> 30]
    fac = (v >> 16) & 0xFFF
    e = t.entries.get(("ntstatus", v))
    w = e.win32 if e else None
    dec = Decomposition(
        sev,
        fac,
        None,
        v & 0xFFFF,
        customer=bool(v & 0x20000000),
        ntstatus=v,
        ntstatus_symbol=t.symbol("ntstatus", v),
        win32=w,
        win32_symbol=t.symbol("win32", w) if w is not None else None,
        hresult=hresult_from_win32(w) if w else hresult_from_nt(v),
    )
    return _make(t, "ntstatus", v, t.symbol("ntstatus", v), dec, [("ntstatus", v)])


def _hex(v: int) -> str:
    return f"0x{v & 0xFFFFFFFF:08X}"
