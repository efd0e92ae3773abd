"""A stable root-cause signature per bundle, so a fleet's endpoints cluster by *problem*.

Input: one analysis in culprit's JSON contract (``Analysis.to_dict()``, schema ``culprit.analysis/1``,
see ``shared/docs/design.md``). Two endpoints get the same signature when the same update fails with
the same code, for the same kind of reason, blocked by the same module, on the same keys/files/processes
once run-specific bits are removed (temp names, GUIDs, versions, user names, ``ControlSet00n``).
Service names, driver and file names are kept: ``...\\Services\\AmdK8`` and ``...\\Services\\intelppm``
are different problems to the agent vendor.

The signature text is ``target|code|kind|culprit|pattern`` in lower case; its id is the first 12 hex
digits of its SHA-256 (``s-3f2a9c...``). Outcomes without a failure have fixed signatures
(``no-failure``), and so do bundles that could not be read (``unreadable``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Bumped whenever the text below would change for the same analysis (resume reuses rows only
#: written under the same version).
SIGNATURE_VERSION = 1

NO_FAILURE = "no-failure"
UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True)
class Signature:
    """One bundle's root-cause signature.

    Attributes:
        id: ``s-`` + 12 hex digits of the SHA-256 of ``text``.
        text: ``target|code|kind|culprit|pattern``, lower case, or ``no-failure`` / ``unreadable``.
        outcome: ``explained`` (a finding), ``unexplained`` (a failure, no finding with a culprit
            or rule), ``no-failure``, or ``unreadable``.
        target: the failed update or product as the analysis names it (``KB4474419``).
        code: its code as the JSON contract writes it (``0x80070005``, ``1603``).
        kind: the finding kind (``registry-write-denied``), the unresolved chain's kind, or "".
        culprit: the culprit module (``krnlmgr.sys``) or "".
        pattern: the normalized allow-list objects, ``;``-joined, sorted.
    """

    id: str
    text: str
    outcome: str
    target: str = ""
    code: str = ""
    kind: str = ""
    culprit: str = ""
    pattern: str = ""


def make_id(text: str) -> str:
    """``s-`` + the first 12 hex digits of the SHA-256 of ``text`` (48 bits: no collision in any fleet)."""
    return "s-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


UNREADABLE_SIGNATURE = Signature(make_id(UNREADABLE), UNREADABLE, UNREADABLE)


def signature_of(analysis: Any) -> Signature:
    """The signature of one analysis.

    Args:
        analysis: a :class:`culprit.model.Analysis` or its ``to_dict()``.

    Returns:
        The signature; ``no-failure`` when the analysis found neither a failure nor a finding.
    """
    d: Mapping[str, Any] = analysis.to_dict() if hasattr(analysis, "to_dict") else analysis
    failures = list(d.get("failures") or [])
    findings = list(d.get("findings") or [])
    unresolved = list(d.get("unresolved") or [])
    if not failures and not findings:
        return Signature(make_id(NO_FAILURE), NO_FAILURE, NO_FAILURE)
    target = code = ""
    if failures:
        target = str(failures[0].get("target") or "")
        code = str(failures[0].get("code") or "")
    culprit = ""
    allow: list[Mapping[str, Any]] = []
    if findings:
        f = findings[0]
        kind = str(f.get("kind") or "")
        c = f.get("culprit") or {}
        culprit = str(c.get("module") or "")
        allow = list((f.get("remediation") or {}).get("allow") or [])
        outcome = "explained"
    elif unresolved:
        u = unresolved[0]
        kind = str(u.get("kind") or "")
        allow = list((u.get("remediation") or {}).get("allow") or [])
        outcome = "unexplained"
    else:
        kind = ""
        outcome = "unexplained"
    pattern = ";".join(allow_pattern(allow))
    text = "|".join(p.lower() for p in (target, code, kind, culprit, pattern))
    return Signature(make_id(text), text, outcome, target, code, kind, culprit, pattern)


def allow_pattern(allow: Iterable[Mapping[str, Any]]) -> list[str]:
    """The sorted, de-duplicated normalized objects of allow rules.

    Registry keys become ``key:<normalized>``, files ``file:<normalized>`` and the processes (their
    ``pattern`` when the analysis gave one, else their path) ``proc:<normalized>``; a process that must
    not be injected is ``noinject:<normalized>``.
    """
    out: set[str] = set()
    for rule in allow:
        proc = str(rule.get("pattern") or rule.get("process") or "")
        if proc:
            out.add(("noinject:" if rule.get("no_injection") else "proc:") + normalize(proc))
        for k in rule.get("registry_keys") or ():
            out.add("key:" + normalize(str(k)))
        for f in rule.get("files") or ():
            out.add("file:" + normalize(str(f)))
    return sorted(out)


# Run-specific parts of Windows paths and keys, each shown on a sample it rewrites.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # HKEY_LOCAL_MACHINE\SYSTEM\...  /  \REGISTRY\MACHINE\SYSTEM\...  ->  hklm\system\...
    (re.compile(r"^(?:hkey_local_machine|\\registry\\machine)(?=\\|$)"), "hklm"),
    # \REGISTRY\USER\S-1-5-21-...  /  HKEY_USERS  ->  hku
    (re.compile(r"^(?:hkey_users|\\registry\\user)(?=\\|$)"), "hku"),
    (re.compile(r"^hkey_current_user(?=\\|$)"), "hkcu"),
    # hklm\system\controlset001\services\amdk8  ->  hklm\system\currentcontrolset\services\amdk8
    (re.compile(r"\\controlset\d{3}(?=\\|$)"), r"\\currentcontrolset"),
    # S-1-5-21-1004336348-1177238915-682003330-1001  ->  s-1-5-21-*
    (re.compile(r"s-1-5-21(?:-\d+){1,5}"), "s-1-5-21-*"),
    # {3372D205-E08C-4B32-08A8-8F554F38C599}  ->  {*}
    (re.compile(r"\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}"), "{*}"),
    # c:\users\zhangwei\appdata\local\temp  ->  c:\users\*\appdata\local\temp
    (re.compile(r"(\\(?:users|documents and settings))\\[^\\*]+(?=\\)"), r"\1\\*"),
    # \eu5a1c.tmp\  \msi8f3a.tmp  \edgemitmp_c41a2.tmp  ->  \eu*.tmp  \msi*.tmp  \edgemitmp_*.tmp
    (re.compile(r"\\([a-z]*_?)(?=[0-9a-f]*[0-9])[0-9a-f]+\.tmp(?=\\|$)"), r"\\\1*.tmp"),
    # \1.3.163.19\   microsoftedge_x64_102.0.1245.39.exe  ->  \*\   microsoftedge_x64_*.exe
    (re.compile(r"(?<![0-9.])\d+(?:\.\d+){2,3}(?![0-9.]*\d)"), "*"),
    # a run of wildcards left by the rules above  ->  one
    (re.compile(r"\*+"), "*"),
)


def normalize(path: str) -> str:
    """A Windows path or registry key with the run-specific parts replaced by ``*``.

    Lower case (Windows compares these case-insensitively), forward slashes read as backslashes,
    no trailing backslash. Names that identify the problem (service keys, driver and program file
    names) are kept.

    >>> normalize(r"C:\\Program Files (x86)\\Microsoft\\Temp\\EU5A1C.tmp\\MicrosoftEdgeUpdate.exe")
    'c:\\\\program files (x86)\\\\microsoft\\\\temp\\\\eu*.tmp\\\\microsoftedgeupdate.exe'
    """
    s = path.strip().replace("/", "\\").lower().rstrip("\\")
    for rx, repl in _RULES:
        s = rx.sub(repl, s)
    return s
