"""Run-specific noise out of Procmon paths and command lines, so two runs of one install compare equal.

Format: the Path, Image Path and Command Line columns of Process Monitor captures (PML or CSV export,
``culprit.parsers.procmon``), as Windows writes them: file paths (``C:\\...``,
``\\Device\\HarddiskVolume3\\...``, ``\\??\\C:\\...``), registry paths (``HKLM\\...``,
``HKU\\S-1-5-21-...``), pipe names.

What changes between two runs of the same install and is replaced by ``*`` here (the names are keys for
comparing, never shown instead of the real path):

* temp names: ``MSI4C46.tmp``, ``EU1A2B.tmp``, ``EDGEMITMP_C41A2.tmp``, ``~DF12AB.tmp``, ``_MEI123452``
  (done by :func:`culprit.analysis.proctree.generalize`, which also handles GUIDs, versions and user names);
* GUID-named folders and values, ``{3372D205-E08C-4B32-08A8-8F554F38C599}``;
* user profiles: ``C:\\Users\\alice``, ``C:\\Documents and Settings\\alice``, 8.3 names (``ALICE~1``);
* user SIDs: ``HKU\\S-1-5-21-1004341250-...-1001`` (the well-known ``S-1-5-18``/``-19``/``-20`` stay);
* drive letters and volume devices: ``D:\\``, ``\\Device\\HarddiskVolume3\\``, ``\\??\\C:\\`` → ``*:\\``;
* long hex or decimal runs (PIDs, TIDs, session ids, random suffixes) in names and command lines.

Everything is case-folded (Windows paths are case-insensitive).

References: ``shared/docs/formats.md`` §7 (Procmon columns); Windows naming conventions for files
(learn.microsoft.com, "Naming Files, Paths, and Namespaces") and for SIDs ("Well-known SIDs").
"""

from __future__ import annotations

import functools
import re

from culprit.analysis.proctree import generalize

# \Device\HarddiskVolume3\Windows\Temp    \??\C:\Windows    \\?\C:\x    D:\Setup
_VOLUME = re.compile(
    r"(?i)(?:\\device\\harddiskvolume\d+|\\\?\?\\[a-z]:|\\\\\?\\[a-z]:|(?<![\w\\])[a-z]:)(?=\\|$)"
)
# C:\Users\alice\AppData\Local    C:\Documents and Settings\ALICE~1\Local Settings
_PROFILE = re.compile(r"(?i)(\*:\\(?:users|documents and settings)\\)(?!\*\\)[^\\\"]+")
# HKU\S-1-5-21-1004341250-1153620981-3302113574-1001_Classes   (S-1-5-18/19/20 are well known: kept)
_SID = re.compile(r"(?i)\bS-1-5-21(?:-\d+){1,5}")
# MSI5e2c1.LOG  GLC2A1F.tmp  tmp8a9b.tmp : a name that is letters then a random hex run, before .tmp/.log
_RANDOM_FILE = re.compile(r"(?i)(?<=\\)([a-z_~]{1,12}+)(?=[0-9a-f]*\d)[0-9a-f]{4,8}(?=\.(?:tmp|log)\b)")
# _MEI123452\  EU7C31\  (a folder: the hex run needs a digit and a letter, so KB4474419 stays)
_RANDOM_DIR = re.compile(
    r"(?i)(?<=\\)(_mei|[a-z_~]{1,12}+(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f]))[0-9a-f]{4,8}(?=\\|$)"
)
# {3372D205-E08C-4B32-08A8-8F554F38C599} without braces
_BARE_GUID = re.compile(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# /pid 7140  -ForceV1 0xffffffff  --type=renderer --field-trial-handle=1234,5678
_NUMBER = re.compile(r"(?i)(?<![\w.])(?:0x[0-9a-f]+|\d{2,})(?![\w.])")
# 12AB34CD or 1a2b3c4d5e6f: a long hex run with at least one digit, as a whole word
_HEXRUN = re.compile(r"(?i)(?<![0-9a-z])(?=[0-9a-f]*\d)[0-9a-f]{8,}(?![0-9a-z])")
_SPACES = re.compile(r"\s+")
_STARS = re.compile(r"\*(?:\*)+")


@functools.lru_cache(maxsize=65536)
def normalize_path(path: str | None) -> str:
    """A file or registry path with run-specific parts replaced by ``*``, case-folded.

    Args:
        path: as Procmon shows it (``C:\\Program Files (x86)\\Microsoft\\Temp\\EU5A1C.tmp\\x.dll``).

    Returns:
        The comparison key (``*:\\program files (x86)\\microsoft\\temp\\eu*.tmp\\msedgeupdate.dll``).
    """
    if not path:
        return ""
    return _normalize(path.replace("/", "\\")).rstrip("\\")


def _normalize(text: str) -> str:
    p = _VOLUME.sub("*:", text)
    p = generalize(p)
    p = _BARE_GUID.sub("*", p)
    p = _SID.sub("S-1-5-21-*", p)
    p = _PROFILE.sub(r"\1*", p)
    p = _RANDOM_FILE.sub(r"\1*", p)
    p = _RANDOM_DIR.sub(r"\1*", p)
    p = _HEXRUN.sub("*", p)
    p = _STARS.sub("*", p)
    return p.casefold()


@functools.lru_cache(maxsize=16384)
def normalize_command_line(cmd: str | None) -> str:
    """The shape of a command line: paths normalized, numbers and quotes dropped, spaces collapsed.

    Args:
        cmd: the Command Line column (``"C:\\Windows\\Installer\\MSI8F3A.tmp" /silent /install ...``).

    Returns:
        The comparison key (``*:\\windows\\installer\\msi*.tmp /silent /install ...``).
    """
    if not cmd:
        return ""
    c = cmd.replace('"', " ")
    c = _normalize(c.strip())
    c = _NUMBER.sub("#", c)
    return _SPACES.sub(" ", c).strip()


def image_key(image_path: str | None, name: str | None = None) -> str:
    """The comparison key of a process image (its path normalized; the name when the path is unknown)."""
    return normalize_path(image_path or name or "")


def base_name(path: str | None) -> str:
    """The last component of a Windows path (``schk.dll``)."""
    return (path or "").replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1]


@functools.lru_cache(maxsize=16384)
def tokens(cmd_key: str) -> frozenset[str]:
    """The words of a normalized command line, for a similarity between two shapes."""
    return frozenset(t for t in cmd_key.split(" ") if t)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two normalized command lines (1.0 when both are empty)."""
    if a == b:
        return 1.0
    ta, tb = tokens(a), tokens(b)
    if not ta and not tb:
        return 1.0
    return len(ta & tb) / len(ta | tb)
