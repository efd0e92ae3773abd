"""Open a log bundle safely: a folder, a .zip, a .cab, a .7z, archives nested in those, or one file.

Archives are customer input and therefore hostile until proven otherwise. Extraction refuses
the whole bundle (``HostileArchiveError``, exit code 3) on path traversal, absolute paths,
too many entries, too many bytes or a compression ratio no log reaches; links are never
followed or created (they are listed as ignored). A bundle is either read whole or refused:
never a partial result that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from culprit.errors import HostileArchiveError, InputError
from culprit.ingest import cab, sevenz
from culprit.model import Warning_
from culprit.parsers.base import Source

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
SEVENZ_MAGIC = b"7z\xbc\xaf\x27\x1c"


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps for archive extraction (per bundle, nested archives included)."""

    max_total_bytes: int = 16 * 1024**3
    max_entries: int = 20_000
    max_ratio: float = 250.0  # uncompressed/compressed per entry; logs stay far below
    ratio_min_bytes: int = 1024**2  # entries smaller than this are not ratio-checked
    max_depth: int = 4


@dataclass
class Bundle:
    """The files of one bundle, ready for sniffing and parsing.

    Attributes:
        name: the bundle's display name (its folder or file name).
        sources: every regular file, archives expanded, in a stable order.
        skipped: ``(display path, reason)`` of files that are not read (links, unsupported).
        warnings: problems met while opening (shown in the report).
        manifest: the collector's ``manifest.json`` if the bundle has one.
    """

    name: str
    path: Path
    sources: list[Source] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    _tmp: list[str] = field(default_factory=list, repr=False)
    _entries: int = 0
    _bytes: int = 0

    def close(self) -> None:
        for d in self._tmp:
            shutil.rmtree(d, ignore_errors=True)
        self._tmp.clear()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def locale(self) -> str | None:
        m = self.manifest or {}
        loc = m.get("locale") or m.get("ui_culture")
        return str(loc) if loc else None

    @property
    def code_page(self) -> int | str | None:
        m = self.manifest or {}
        cp = m.get("ansi_code_page")
        return cp if isinstance(cp, (int, str)) and not isinstance(cp, bool) else None

    @property
    def utc_offset(self) -> int | None:
        m = self.manifest or {}
        v = m.get("timezone_offset_minutes")
        if isinstance(v, (int, float)) and not isinstance(v, bool) and -16 * 60 <= v <= 16 * 60:
            return int(v)
        return None


def open_bundle(path: str | os.PathLike[str], limits: Limits | None = None, name: str | None = None) -> Bundle:
    """Open ``path`` (folder, archive or single file) as a bundle.

    Raises:
        InputError: the path does not exist or cannot be read.
        HostileArchiveError: an archive breaks the safety rules (nothing is returned).
    """
    limits = limits or Limits()
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file or folder")
    bundle = Bundle(name=name or p.resolve().name or str(p), path=p)
    try:
        if p.is_dir():
            _walk_dir(bundle, p, bundle.name, limits, depth=0)
        elif not p.is_file():  # a pipe (bash <(...)) or a device: copy what it carries, capped
            tmp = _new_tmp(bundle) / (p.name or "stdin")
            with p.open("rb") as src, tmp.open("wb") as out:
                copied = 0
                while chunk := src.read(1 << 20):
                    copied += len(chunk)
                    if copied > limits.max_total_bytes:
                        raise HostileArchiveError(f"{path}: more than {limits.max_total_bytes:,} bytes")
                    out.write(chunk)
            _add_file(bundle, tmp, bundle.name, limits, depth=0)
        else:
            _add_file(bundle, p, bundle.name, limits, depth=0)
        bundle.sources.sort(key=lambda s: s.name.lower())
        _load_manifest(bundle)
        if bundle.manifest is None and not p.is_dir():
            _manifest_above(bundle, p)
    except BaseException:
        bundle.close()
        raise
    for s in bundle.sources:
        s.locale = bundle.locale
        s.code_page = bundle.code_page
    return bundle


def _walk_dir(bundle: Bundle, root: Path, prefix: str, limits: Limits, depth: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(root)
        for d in list(dirnames):
            if (Path(dirpath) / d).is_symlink():
                bundle.skipped.append((_join(prefix, rel_dir / d), "link ignored"))
                dirnames.remove(d)
        for fn in sorted(filenames):
            fp = Path(dirpath) / fn
            display = _join(prefix, rel_dir / fn)
            try:
                st = fp.lstat()
            except OSError as e:
                bundle.warnings.append(Warning_(display, f"cannot read: {e.strerror}"))
                continue
            if stat.S_ISLNK(st.st_mode):
                bundle.skipped.append((display, "link ignored"))
                continue
            if not stat.S_ISREG(st.st_mode):
                bundle.skipped.append((display, "not a regular file"))
                continue
            _add_file(bundle, fp, display, limits, depth)


def _join(prefix: str, rel: Path | PurePosixPath) -> str:
    r = rel.as_posix()
    return prefix if r in ("", ".") else f"{prefix}/{r}"


def _add_file(bundle: Bundle, fp: Path, display: str, limits: Limits, depth: int) -> None:
    try:
        with fp.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        bundle.warnings.append(Warning_(display, f"cannot read: {e.strerror}"))
        return
    if head.startswith(ZIP_MAGICS) or cab.is_cab(head) or head.startswith(SEVENZ_MAGIC):
        if depth >= limits.max_depth:
            raise HostileArchiveError(f"{display}: archives nested deeper than {limits.max_depth} levels")
        try:
            if head.startswith(ZIP_MAGICS):
                _extract_zip(bundle, fp, display, limits, depth + 1)
            elif head.startswith(SEVENZ_MAGIC):
                _extract_7z(bundle, fp, display, limits, depth + 1)
            else:
                _extract_cab(bundle, fp, display, limits, depth + 1)
        except HostileArchiveError:
            raise  # never a partial result for an archive that tries something
        except InputError as e:
            if fp == bundle.path:
                raise  # the bundle itself cannot be opened
            # A damaged archive among the bundle's files: the rest of the bundle is still evidence.
            bundle.skipped.append((display, f"damaged archive not read: {e}"))
        return
    bundle.sources.append(Source(path=fp, name=display))


def _new_tmp(bundle: Bundle) -> Path:
    d = tempfile.mkdtemp(prefix="culprit-")
    bundle._tmp.append(d)
    return Path(d)


def _safe_member_path(name: str, archive: str) -> PurePosixPath:
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":") or n.startswith("//"):
        raise HostileArchiveError(f"{archive}: member {name!r} has an absolute path")
    parts = [p for p in n.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise HostileArchiveError(f"{archive}: member {name!r} escapes the archive (path traversal)")
    if not parts:
        raise HostileArchiveError(f"{archive}: member with an empty name")
    return PurePosixPath(*parts)


def _count_entry(bundle: Bundle, archive: str, limits: Limits, size: int) -> None:
    bundle._entries += 1
    if bundle._entries > limits.max_entries:
        raise HostileArchiveError(f"{archive}: more than {limits.max_entries:,} archive entries")
    bundle._bytes += size
    if bundle._bytes > limits.max_total_bytes:
        raise HostileArchiveError(f"{archive}: expands past {limits.max_total_bytes:,} bytes")


def _extract_zip(bundle: Bundle, fp: Path, display: str, limits: Limits, depth: int) -> None:
    try:
        zf = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise InputError(f"{display}: damaged zip archive ({e})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) + bundle._entries > limits.max_entries:
            raise HostileArchiveError(f"{display}: {len(infos):,} entries (limit {limits.max_entries:,})")
        # Check every name and size before writing a single byte.
        plan: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        seen: set[str] = set()
        oem = _zip_oem_code_page(zf)
        for info in infos:
            rel = _safe_member_path(_member_name(info, oem), display)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                bundle.skipped.append((_join(display, rel), "link ignored"))
                continue
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                bundle.skipped.append((_join(display, rel), "encrypted zip entry not read"))
                continue
            key = rel.as_posix().lower()
            if key in seen:
                bundle.warnings.append(Warning_(display, f"duplicate member {rel.as_posix()!r}: first kept"))
                continue
            seen.add(key)
            if info.file_size >= limits.ratio_min_bytes and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise HostileArchiveError(
                    f"{display}: member {info.filename!r} expands {info.file_size / max(info.compress_size, 1):,.0f}:1"
                    f" (limit {limits.max_ratio:.0f}:1) - a compression bomb, not a log"
                )
            _count_entry(bundle, display, limits, info.file_size)
            plan.append((info, rel))
        out_root = _new_tmp(bundle)
        for info, rel in plan:
            dest = out_root.joinpath(*rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            _copy_capped(zf, info, dest, display)
            _add_file(bundle, dest, _join(display, rel), limits, depth)


def _zip_oem_code_page(zf: zipfile.ZipFile) -> str | None:
    """The OEM code page the collector's manifest (inside the zip) names, for member names."""
    try:
        info = zf.getinfo("manifest.json")
        if info.file_size > 4 * 1024**2:
            return None
        data = json.loads(zf.read(info).decode("utf-8-sig"))
    except (KeyError, ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError, RuntimeError):
        return None
    cp = data.get("oem_code_page") if isinstance(data, dict) else None
    return f"cp{cp}" if isinstance(cp, (int, str)) and str(cp).isdigit() else None


def _member_name(info: zipfile.ZipInfo, oem: str | None) -> str:
    """A member's name as Windows wrote it: zips made by Explorer store it in the OEM code page.

    Python reads names without the UTF-8 flag as CP437; re-read them as UTF-8, the manifest's OEM code page,
    or GBK when that gives Chinese text (zh-CN Explorer), else keep CP437.
    """
    name = info.filename
    if name.isascii():
        return name
    try:
        raw = name.encode("cp437")  # only names that are CP437 text can be OEM bytes read the wrong way
    except UnicodeEncodeError:
        return name
    if info.flag_bits & 0x800:  # flagged UTF-8, yet pure CP437 text: a tool that re-encoded OEM bytes
        if oem and oem != "cp437":
            try:
                return raw.decode(oem)
            except (UnicodeDecodeError, LookupError):
                return name
        return name
    for codec in ("utf-8", oem):
        if codec:
            try:
                return raw.decode(codec)
            except (UnicodeDecodeError, LookupError):
                pass
    try:
        zh = raw.decode("gbk")
        if all(c.isascii() or "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
               for c in zh):
            return zh
    except UnicodeDecodeError:
        pass
    return name


def _copy_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, display: str) -> None:
    """Copy one member, trusting the real byte count, not the header."""
    written = 0
    try:
        with zf.open(info) as src, dest.open("wb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > info.file_size:
                    raise HostileArchiveError(f"{display}: member {info.filename!r} is larger than its header says")
                out.write(chunk)
    except (zipfile.BadZipFile, zlib_error(), EOFError, NotImplementedError) as e:
        raise InputError(f"{display}: member {info.filename!r} cannot be read ({e})") from None


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def _extract_cab(bundle: Bundle, fp: Path, display: str, limits: Limits, depth: int) -> None:
    with fp.open("rb") as f:
        try:
            _folders, members, _res = cab.read_directory(f)
        except cab.UnsupportedCab as e:
            bundle.skipped.append((display, str(e)))
            return
        except InputError as e:
            raise InputError(f"{display}: {e}") from None
        if len(members) + bundle._entries > limits.max_entries:
            raise HostileArchiveError(f"{display}: {len(members):,} entries (limit {limits.max_entries:,})")
        plan = []
        for m in members:
            rel = _safe_member_path(m.name, display)
            _count_entry(bundle, display, limits, m.size)
            plan.append((m, rel))
        comp_size = fp.stat().st_size
        total = sum(m.size for m, _ in plan)
        if total >= limits.ratio_min_bytes and total > limits.max_ratio * comp_size:
            raise HostileArchiveError(f"{display}: expands {total / comp_size:,.0f}:1 - a compression bomb, not a log")
        out_root = _new_tmp(bundle)
        for m, rel in plan:
            dest = out_root.joinpath(*rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with dest.open("wb") as out:
                    cab.extract_member(f, m, out, limits.max_total_bytes)
            except cab.UnsupportedCab as e:
                dest.unlink(missing_ok=True)
                bundle.skipped.append((_join(display, rel), str(e)))
                continue
            except HostileArchiveError as e:
                raise HostileArchiveError(f"{display}: {e}") from None
            except InputError as e:
                dest.unlink(missing_ok=True)
                bundle.warnings.append(Warning_(display, f"member {m.name!r} not read: {e}"))
                continue
            _add_file(bundle, dest, _join(display, rel), limits, depth)


def _extract_7z(bundle: Bundle, fp: Path, display: str, limits: Limits, depth: int) -> None:
    try:
        members = sevenz.read_directory(fp)
    except sevenz.UnsupportedSevenZ as e:
        bundle.skipped.append((display, str(e)))
        return
    except InputError as e:
        raise InputError(f"{display}: {e}") from None
    if len(members) + bundle._entries > limits.max_entries:
        raise HostileArchiveError(f"{display}: {len(members):,} entries (limit {limits.max_entries:,})")
    # Check every name and size before writing a single byte.
    plan: list[tuple[sevenz.Member, PurePosixPath]] = []
    seen: set[str] = set()
    for m in members:
        rel = _safe_member_path(m.name, display)
        if m.is_link:
            bundle.skipped.append((_join(display, rel), "link ignored"))
            continue
        if m.is_dir:
            continue
        key = rel.as_posix().lower()
        if key in seen:
            bundle.warnings.append(Warning_(display, f"duplicate member {rel.as_posix()!r}: first kept"))
            continue
        seen.add(key)
        _count_entry(bundle, display, limits, m.size)
        plan.append((m, rel))
    total = sum(m.size for m, _ in plan)
    comp_size = max(fp.stat().st_size, 1)
    if total >= limits.ratio_min_bytes and total > limits.max_ratio * comp_size:
        raise HostileArchiveError(
            f"{display}: expands {total / comp_size:,.0f}:1 (limit {limits.max_ratio:.0f}:1) - a compression bomb, "
            "not a log"
        )
    out_root = _new_tmp(bundle)
    dests: dict[str, tuple[Path, int]] = {}
    for m, rel in plan:
        dest = out_root.joinpath(*rel.parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dests[m.name] = (dest, m.size)
    try:
        sevenz.extract(fp, dests)
    except sevenz.UnsupportedSevenZ as e:
        bundle.skipped.append((display, str(e)))
        return
    except HostileArchiveError as e:
        raise HostileArchiveError(f"{display}: {e}") from None
    except InputError as e:
        raise InputError(f"{display}: {e}") from None
    for m, rel in plan:
        _add_file(bundle, dests[m.name][0], _join(display, rel), limits, depth)


def _manifest_above(bundle: Bundle, p: Path) -> None:
    """A single file taken out of a collected bundle still belongs to it: use the bundle's manifest."""
    try:
        here = p.resolve().parent
    except OSError:
        return
    for d in [here, *list(here.parents)[:6]]:
        m = d / "manifest.json"
        if m.is_file():
            try:
                data = json.loads(m.read_bytes()[: 16 * 1024**2].decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError, OSError):
                return
            if isinstance(data, dict):
                bundle.manifest = data
            return


def _load_manifest(bundle: Bundle) -> None:
    """Read the collector's manifest.json (the shallowest one) if present."""
    cands = [s for s in bundle.sources if s.filename.lower() == "manifest.json"]
    if not cands:
        return
    src = min(cands, key=lambda s: s.name.count("/"))
    try:
        if src.size > 16 * 1024**2:
            raise ValueError("larger than 16 MiB")
        data = json.loads(src.path.read_bytes().decode("utf-8-sig"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        bundle.manifest = data
    except (ValueError, UnicodeDecodeError) as e:
        bundle.warnings.append(Warning_(src.name, f"manifest.json not used: {e}"))


def iter_sources(bundles: list[Bundle]) -> Iterator[Source]:
    for b in bundles:
        yield from b.sources
