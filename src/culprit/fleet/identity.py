"""Who an endpoint is: host name, OS build and locale, from the manifest or else from its logs.

The collector's ``manifest.json`` (``culprit.manifest/1``, see docs/collector.md) states ``host``,
``os_build`` and ``locale``; bundles gathered by hand have none, so each value falls back to what
the failing machine's own evidence shows (never the good machine's):

- host: the computer name in a Process Monitor capture header (PML, offset 0x0C, UTF-16LE), the
  ``ComputerName`` property of a Windows Installer log, the ``Computer`` of an EVTX record;
- OS build: the build in a PML header (offset 0x27C), the build in CBS's
  ``Loaded Servicing Stack v6.1.7601.24384`` line, the build in the Windows 7 update agent's
  ``Logging initialized (build: 7.6.7601.24436, ...)`` banner (both in the file's first bytes);
- locale: the ``SystemLanguageID`` property of a Windows Installer log (an LCID), else the ANSI code
  page culprit detected in the 8-bit logs (CP936 → ``zh-CN``...).

Each value is None when nothing shows it.
"""

from __future__ import annotations

import locale as _locale
import re
from dataclasses import dataclass
from typing import Any

from culprit.pipeline import Workspace

# 2024-09-03 10:15:22, Info                  CBS    Loaded Servicing Stack v6.1.7601.24384 with Core: ...
_SERVICING_STACK = re.compile(r"Loaded Servicing Stack v\d+\.\d+\.(\d{4,5})\.")
# 2024-09-03	08:42:10:412	 3d8	 4d0	Misc	===========  Logging initialized (build: 7.6.7601.24436, tz: +0800)  # noqa: E501
_WU_BANNER = re.compile(r"Logging initialized \(build: \d+\.\d+\.(\d{4,5})\.")

_CODE_PAGE_LOCALES = {
    "cp936": "zh-CN",
    "gbk": "zh-CN",
    "gb18030": "zh-CN",
    "gb2312": "zh-CN",
    "cp950": "zh-TW",
    "big5": "zh-TW",
    "cp932": "ja-JP",
    "shift_jis": "ja-JP",
    "cp949": "ko-KR",
    "euc_kr": "ko-KR",
}
_SCAN_EVENTS = 400  # an EVTX record's Computer is the same in all of them


@dataclass(frozen=True, slots=True)
class Identity:
    """Host, OS build and locale of one endpoint, and where each came from.

    Attributes:
        host: computer name or None.
        os_build: ``17763.2928`` (manifest) or ``7601`` (logs) or None.
        locale: ``zh-CN`` style tag or None.
        source: ``manifest``, ``logs``, ``manifest+logs`` or None when nothing was found.
    """

    host: str | None = None
    os_build: str | None = None
    locale: str | None = None
    source: str | None = None


def identify(ws: Workspace) -> Identity:
    """The endpoint behind the failing-machine evidence of ``ws``."""
    manifest: dict[str, Any] = {}
    for b in ws.bundles:
        if b.manifest:
            manifest = b.manifest
            break
    vals: dict[str, str | None] = {
        "host": _str(manifest.get("host")),
        "os_build": _str(manifest.get("os_build")),
        "locale": _str(manifest.get("locale") or manifest.get("ui_culture")),
    }
    from_manifest = any(vals.values())
    missing = [k for k, v in vals.items() if v is None]
    from_logs = False
    if missing:
        found = _from_logs(ws)
        for k in missing:
            if found.get(k):
                vals[k] = found[k]
                from_logs = True
    source = "+".join(s for s, used in (("manifest", from_manifest), ("logs", from_logs)) if used) or None
    return Identity(vals["host"], vals["os_build"], vals["locale"], source)


def _str(v: Any) -> str | None:
    if v is None or isinstance(v, (dict, list)):
        return None
    s = str(v).strip()
    return s or None


def _from_logs(ws: Workspace) -> dict[str, str]:
    found: dict[str, str] = {}
    bad = [a for a in ws.artifacts if a.role == "bad" and a.parser is not None]
    for a in bad:
        if a.kind == "procmon":
            h = _pml_header(a.source.path)
            if h is not None:
                if h.computer:
                    found.setdefault("host", h.computer)
                if h.os_build:
                    found.setdefault("os_build", str(h.os_build))
    for a in bad:
        if a.kind == "msi":
            for ev in a.events:
                if ev.kind != "msi:property":
                    continue
                name = str(ev.get("fields.name") or "")
                value = str(ev.get("fields.value") or "").strip()
                if name == "ComputerName" and value:
                    found.setdefault("host", value)
                elif name == "SystemLanguageID" and value.isdigit():
                    tag = _locale.windows_locale.get(int(value))
                    if tag:
                        found.setdefault("locale", tag.replace("_", "-"))
        elif a.kind == "evtx":
            for ev in a.events[:_SCAN_EVENTS]:
                comp = ev.get("fields.computer")
                if comp:
                    found.setdefault("host", str(comp).split(".")[0])
                    break
        elif a.kind in ("cbs", "windowsupdate"):
            rx = _SERVICING_STACK if a.kind == "cbs" else _WU_BANNER
            m = rx.search(a.source.text_head or "")
            if m:
                found.setdefault("os_build", m.group(1))
    if "locale" not in found:
        for a in bad:
            if a.source.is_text:
                tag = _CODE_PAGE_LOCALES.get(a.source.encoding.label.lower())
                if tag:
                    found["locale"] = tag
                    break
    return found


def _pml_header(path: Any) -> Any:
    from culprit.parsers.procmon.structs import HEADER_SIZE, PmlError, read_header

    try:
        with open(path, "rb") as f:
            return read_header(f.read(HEADER_SIZE))
    except (OSError, PmlError):
        return None
