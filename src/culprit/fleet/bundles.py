"""Which bundles a fleet run covers, and the content hash that lets a rerun skip finished ones.

``culprit fleet PATHS...`` takes, per PATH:

- a **folder of bundles**: every sub-folder, ``.zip`` and ``.cab`` directly inside is one endpoint,
  except sub-folders that hold only archives (``branch-A/host1.zip``...): their archives are bundles;
- a **bundle folder**: a folder that is itself one endpoint's evidence (it holds ``manifest.json``,
  or a top-level ``Windows``/``system``/``procmon``/``ProgramData``/``Users``/``bad``/``repro``/``good``
  folder, the collector's layout);
- a **glob** (``/data/2024-09/*.zip``): every match is one bundle;
- a **list file**: a UTF-8 text file (BOM allowed; ``#`` comments and blank lines ignored) with one
  bundle path per line, relative paths taken from the list file's folder;
- anything else (an archive, a single log) is one bundle.

The bundle hash is the SHA-256 of the file for archives and single files; for folders it is the
SHA-256 of the sorted ``<relative path>\\0<sha256 of the file>\\n`` lines of every regular file
(links are skipped, as ingest skips them), so the same evidence hashes the same wherever it lies.
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

_BUNDLE_MARKERS = {
    "manifest.json",
    "windows",
    "system",
    "procmon",
    "programdata",
    "users",
    "bad",
    "repro",
    "good",
}
_ARCHIVE_SUFFIXES = (".zip", ".cab")
_LIST_MAX_BYTES = 64 * 1024**2
_CHUNK = 1 << 20
_MAX_DEPTH = 4


@dataclass
class Expansion:
    """The bundles a set of PATHS names, in order, each once.

    Attributes:
        bundles: absolute bundle paths (strings, as workers receive them).
        notes: PATHS that named nothing (an empty folder, a glob without matches).
        missing: paths named explicitly (or by a list file) that do not exist; they become error rows.
    """

    bundles: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def expand(paths: list[str]) -> Expansion:
    """Turn command-line PATHS into bundle paths (see the module docstring)."""
    out = Expansion()
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.abspath(p)
        if key not in seen:
            seen.add(key)
            out.bundles.append(key)

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            if is_bundle_folder(p):
                add(p)
                continue
            found = _bundles_in(p)
            if not found:
                out.notes.append(f"{raw}: no bundles in this folder")
            for b in found:
                add(b)
        elif p.is_file():
            listed = _read_list(p)
            if listed is None:
                add(p)
                continue
            for entry in listed:
                q = Path(entry) if Path(entry).is_absolute() else p.parent / entry
                if q.exists():
                    add(q)
                elif os.path.abspath(q) not in seen:
                    seen.add(os.path.abspath(q))
                    out.missing.append(os.path.abspath(q))
        elif glob.has_magic(raw):
            matches = sorted(glob.glob(raw))
            if not matches:
                out.notes.append(f"{raw}: no match")
            for m in matches:
                add(Path(m))
        else:
            key = os.path.abspath(p)
            if key not in seen:
                seen.add(key)
                out.missing.append(key)
    return out


def is_bundle_folder(p: Path) -> bool:
    """True when the folder itself is one endpoint's evidence (collector or case layout)."""
    try:
        with os.scandir(p) as it:
            return any(e.name.lower() in _BUNDLE_MARKERS for e in it)
    except OSError:
        return False


def _bundles_in(folder: Path, depth: int = 0) -> list[Path]:
    out: list[Path] = []
    for e in _entries(folder):
        if e.is_dir(follow_symlinks=False):
            sub = Path(e.path)
            if _grouping(sub, depth):
                out.extend(_bundles_in(sub, depth + 1))  # a grouping folder (branch-A/host1.zip ...)
            else:
                out.append(sub)
        elif e.name.lower().endswith(_ARCHIVE_SUFFIXES) and e.is_file(follow_symlinks=False):
            out.append(Path(e.path))
    return out


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return sorted(
                (e for e in it if not e.is_symlink() and not e.name.startswith(".")), key=lambda e: e.name
            )
    except OSError:
        return []


def _grouping(folder: Path, depth: int) -> bool:
    """A folder of bundles inside a folder of bundles: no marker, no loose evidence, archives below."""
    if depth >= _MAX_DEPTH or is_bundle_folder(folder):
        return False
    entries = _entries(folder)
    files = [e for e in entries if not e.is_dir(follow_symlinks=False)]
    if any(not e.name.lower().endswith(_ARCHIVE_SUFFIXES) for e in files):
        return False
    return bool(files) or any(
        _grouping(Path(e.path), depth + 1) for e in entries if e.is_dir(follow_symlinks=False)
    )


def _read_list(p: Path) -> list[str] | None:
    """The entries of a list file, or None when ``p`` is not one (an archive, a log, binary data)."""
    try:
        if p.stat().st_size > _LIST_MAX_BYTES:
            return None
        with p.open("rb") as f:
            head = f.read(8)
            if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"MSCF", b"7z\xbc\xaf")):
                return None
            data = head + f.read()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    if "\x00" in text:
        return None
    entries = [ln.strip() for ln in text.splitlines()]
    entries = [e for e in entries if e and not e.startswith("#")]
    if not entries:
        return None
    # A list file names bundles; a log does not. Most of the first entries must exist.
    sample = entries[:50]
    exist = sum(
        1 for e in sample if len(e) < 4096 and (Path(e) if Path(e).is_absolute() else p.parent / e).exists()
    )
    return entries if exist * 2 > len(sample) else None


def bundle_sha256(path: str | os.PathLike[str]) -> str:
    """The content hash of a bundle (file: its bytes; folder: relative paths + file hashes).

    Raises:
        OSError: the path cannot be read.
    """
    p = Path(path)
    if not p.is_dir():
        return _file_sha256(p)
    lines: list[bytes] = []
    for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
        for fn in filenames:
            fp = os.path.join(dirpath, fn)
            st = os.lstat(fp)
            if not stat.S_ISREG(st.st_mode):
                continue
            rel = Path(fp).relative_to(p).as_posix()
            lines.append(
                rel.encode("utf-8", "surrogateescape") + b"\0" + _file_sha256(Path(fp)).encode() + b"\n"
            )
    h = hashlib.sha256()
    for line in sorted(lines):
        h.update(line)
    return h.hexdigest()


def _file_sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
