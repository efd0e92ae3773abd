"""Is this module, driver or process Windows' own? So that third-party ones stand out.

Evidence, strongest first:

1. the knowledge base knows the name or path as a third-party product's (``krnlmgr.sys`` -> TMS);
2. the version resource's company (``Microsoft Corporation``; Windows does not translate it, so a zh-CN
   machine shows the same string — PML module lists and Procmon's Company column carry it);
3. the path: files under ``System32``, ``SysWOW64``, ``WinSxS``, ``servicing`` are serviced by Windows
   (but ``System32\\drivers`` and the driver store also hold third-party drivers, so there the path
   proves nothing);
4. the name: inbox drivers, DLLs and processes listed in ``data/microsoft.yaml``, plus the minifilters
   whose altitude Microsoft allocated to itself (``data/altitudes.tsv``, WDK samples excluded).

A company string is self-declared; the report should still show it as evidence, not as a signature check.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from culprit.kb import _data, altitudes

_ENV = re.compile(r"^(?:%systemroot%|%windir%|\\systemroot)(?=\\)", re.I)
_DEVICE = re.compile(r"^(?:\\\\\?\\|\\\?\?\\|\\\\\.\\)", re.I)  # \\?\ \??\ \\.\
_DRIVE = re.compile(r"^[a-z]:", re.I)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer with its reason.

    Attributes:
        is_microsoft: True when the evidence says Windows' own.
        reason: one line saying which evidence decided (shown in reports).
        confidence: 0..1, how strong that evidence is.
        reason_zh: the reason in Chinese.
    """

    is_microsoft: bool
    reason: str
    confidence: float
    reason_zh: str = ""

    def __bool__(self) -> bool:
        return self.is_microsoft


@functools.cache
def _tables() -> dict[str, frozenset[str]]:
    doc = _data.load_yaml("microsoft.yaml")
    samples = frozenset(n.casefold() for n in doc["wdk_samples"])
    allocated = frozenset(
        r.minifilter.casefold()
        for r in altitudes.rows()
        if r.is_microsoft and r.minifilter.casefold() not in samples
    )
    return {
        "companies": frozenset(c.casefold() for c in doc["companies"]),
        "system": frozenset(normalize_path(p) for p in doc["system_folders"]),
        "tools": frozenset(n.casefold() for n in doc["sysinternals"]),
        "third_party_ok": frozenset(normalize_path(p) for p in doc["third_party_allowed"]),
        "inbox": frozenset(n.casefold() for key in ("drivers", "modules", "processes") for n in doc[key]),
        "allocated": allocated,
    }


def normalize_path(path: str) -> str:
    r"""Casefolded, backslashed, without drive or device prefix: ``\windows\system32\drivers\x.sys``.

    ``C:\Windows``, ``\SystemRoot``, ``%SystemRoot%``, ``%windir%``, ``\??\C:`` and ``\\?\C:`` all become
    ``\windows``.
    """
    p = path.strip().strip('"').replace("/", "\\")
    p = _DEVICE.sub("", p)
    p = _ENV.sub(r"\\Windows", p)
    p = _DRIVE.sub("", p)
    if p and not p.startswith("\\"):
        p = "\\" + p
    return p.casefold()


def _under(path: str, folders: frozenset[str]) -> str | None:
    for f in sorted(folders, key=len, reverse=True):
        if path.startswith(f):
            return f
    return None


def _pretty(folder: str) -> str:
    """``\\windows\\system32\\`` -> ``\\Windows\\System32`` (as written in microsoft.yaml)."""
    doc = _data.load_yaml("microsoft.yaml")
    for f in doc["system_folders"]:
        if normalize_path(f) == folder:
            return f.rstrip("\\")
    return folder.rstrip("\\")


@functools.lru_cache(maxsize=65536)
def recognize(name: str | None = None, path: str | None = None, company: str | None = None) -> Verdict:
    """Decide whether a file is Windows' own, saying why.

    Args:
        name: file name (``schk.dll``, ``WdFilter``, ``msiexec.exe``); taken from ``path`` if omitted.
        path: full path as Windows wrote it (``C:\\Program Files (x86)\\TMS\\schk.dll``,
            ``\\SystemRoot\\...``).
        company: the version resource's company (``Microsoft Corporation``, ``北京瀚海信安科技有限公司``).
    """
    from culprit.kb import products  # late import: products is the larger table

    t = _tables()
    npath = normalize_path(path) if path else None
    base = (name or (npath.rsplit("\\", 1)[-1] if npath else "") or "").strip().casefold()
    if base and "\\" in base:
        base = normalize_path(base).rsplit("\\", 1)[-1]

    for probe in (p for p in (path, name) if p):
        for hit in products.lookup(probe):
            if hit.confidence >= 0.8 and not hit.microsoft:
                vendor = hit.vendor or "vendor unknown"
                return Verdict(
                    False,
                    f"known third-party: {hit.module} belongs to {hit.product} ({vendor})",
                    0.95,
                    f"已知第三方文件：{hit.module} 属于 {hit.product}（{hit.vendor or '厂商未知'}）",
                )
    if company and company.strip():
        c = company.strip().casefold()
        if c in t["companies"]:
            return Verdict(True, f"company {company.strip()!r}", 0.9, f"公司名为 {company.strip()!r}")
        return Verdict(
            False,
            f"company {company.strip()!r} is not Microsoft",
            0.9,
            f"公司名 {company.strip()!r} 不是微软",
        )
    if npath and not _under(npath, t["third_party_ok"]):
        folder = _under(npath, t["system"])
        if folder:
            return Verdict(
                True,
                f"path under C:{_pretty(folder)} (serviced by Windows)",
                0.8,
                f"路径位于 C:{_pretty(folder)} 下（由 Windows 组件服务维护）",
            )
        if base in t["inbox"] and (base.endswith(".dll") or base.endswith(".exe")):
            return Verdict(
                False,
                f"a Windows file name ({base}) loaded from outside the Windows folders",
                0.6,
                f"文件名与 Windows 文件相同（{base}），但不在 Windows 目录中",
            )
    names = {base, base + ".sys"} if base and "." not in base else {base}
    if names & t["inbox"]:
        return Verdict(
            True, f"{base} is a file that ships with Windows", 0.7, f"{base} 是 Windows 自带的文件"
        )
    if names & t["tools"]:
        return Verdict(
            True,
            f"{base} is a Microsoft Sysinternals tool (not part of Windows)",
            0.7,
            f"{base} 是微软 Sysinternals 工具（不属于 Windows 本身）",
        )
    if base in t["allocated"] or (base and base + ".sys" in t["allocated"]):
        return Verdict(
            True,
            f"{base}: minifilter altitude allocated to Microsoft",
            0.6,
            f"{base}：微过滤驱动高度分配给了微软",
        )
    return Verdict(
        False,
        "no sign that it is Windows' own (not a known Windows name, path or company)",
        0.5,
        "没有迹象表明它是 Windows 自带的（名称、路径、公司名均不符）",
    )


def is_microsoft(name: str | None = None, path: str | None = None, company: str | None = None) -> bool:
    """True when ``recognize()`` says the file is Windows' own (see it for the reason)."""
    return recognize(name, path, company).is_microsoft
