"""7-Zip archives (``.7z``), read with py7zr: the member list first, then only the planned members, each
written to the path the caller chose and cut off if it grows past the size the archive declared.

Format: 7z (signature ``7z\\xBC\\xAF\\x27\\x1C``), what 7-Zip and WinRAR write when a user on a zh-CN
machine "compresses to .7z"; LZMA/LZMA2 (usually solid), PPMd, BCJ/BCJ2, Deflate, Zstandard. Names are
UTF-16 in the archive. Encrypted archives (AES-256) are not read: the caller says so and goes on.

The caller (:mod:`culprit.ingest`) checks every name and the declared sizes before anything is written
(traversal, absolute paths, entry count, total size, compression ratio of the whole archive: solid
archives have no per-member compressed size).

References: py7zr documentation (``SevenZipFile.list``, ``extract(factory=...)``, ``WriterFactory``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from culprit.errors import HostileArchiveError, InputError


class UnsupportedSevenZ(Exception):
    """An archive that is well formed but cannot be read here (encrypted, unknown method)."""


@dataclass(frozen=True, slots=True)
class Member:
    """One entry of the archive as its header declares it."""

    name: str
    size: int
    is_dir: bool
    is_link: bool


def read_directory(path: Path) -> list[Member]:
    """The archive's entries.

    Raises:
        UnsupportedSevenZ: encrypted names or contents.
        InputError: not a readable 7z archive.
    """
    py7zr = _py7zr()
    try:
        with py7zr.SevenZipFile(path, mode="r") as z:
            if z.needs_password():
                raise UnsupportedSevenZ("encrypted 7z archive not read (ask for it without a password)")
            return [
                Member(f.filename, int(f.uncompressed or 0), bool(f.is_directory), bool(f.is_symlink))
                for f in z.list()
            ]
    except UnsupportedSevenZ:
        raise
    except py7zr.exceptions.PasswordRequired:
        raise UnsupportedSevenZ("encrypted 7z archive not read (ask for it without a password)") from None
    except (py7zr.exceptions.UnsupportedCompressionMethodError, NotImplementedError) as e:
        raise UnsupportedSevenZ(f"7z compression method not supported: {e}") from None
    except Exception as e:  # py7zr raises many types for damaged headers (Bad7zFile, struct, EOF, value)
        raise InputError(f"damaged 7z archive ({type(e).__name__}: {e})") from None


def extract(path: Path, dests: dict[str, tuple[Path, int]]) -> None:
    """Write the members named in ``dests`` (archive name -> (file, declared size)).

    Raises:
        HostileArchiveError: a member is larger than its header says.
        UnsupportedSevenZ: encrypted or an unknown compression method.
        InputError: the data is damaged (CRC error, truncated stream).
    """
    py7zr = _py7zr()
    factory = _Factory(dests)
    try:
        with py7zr.SevenZipFile(path, mode="r") as z:
            z.extract(targets=list(dests), factory=factory)
    except HostileArchiveError:
        raise
    except py7zr.exceptions.PasswordRequired:
        raise UnsupportedSevenZ("encrypted 7z archive not read (ask for it without a password)") from None
    except (py7zr.exceptions.UnsupportedCompressionMethodError, NotImplementedError) as e:
        raise UnsupportedSevenZ(f"7z compression method not supported: {e}") from None
    except Exception as e:
        raise InputError(f"damaged 7z archive ({type(e).__name__}: {e})") from None
    finally:
        factory.close_all()
    if factory.overflow:
        raise HostileArchiveError(factory.overflow)
    missing = [n for n in dests if n not in factory.opened]
    if missing:
        raise InputError(f"damaged 7z archive: {len(missing):,} member(s) not found in the data ({missing[0]!r})")


def _py7zr():  # type: ignore[no-untyped-def]
    import py7zr
    import py7zr.exceptions  # noqa: F401 - the exception types used above

    return py7zr


class _Capped:
    """A py7zr writer that writes one member to its file and stops it at its declared size."""

    def __init__(self, factory: _Factory, name: str, dest: Path, limit: int) -> None:
        self.factory = factory
        self.name = name
        self.limit = limit
        self.written = 0
        self.fp: BinaryIO | None = dest.open("wb")

    def write(self, s: bytes | bytearray) -> int:
        self.written += len(s)
        if self.written > self.limit:
            self.factory.overflow = f"member {self.name!r} is larger than its header says ({self.limit:,} bytes)"
            raise HostileArchiveError(self.factory.overflow)
        assert self.fp is not None
        return self.fp.write(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.written

    def flush(self) -> None:
        if self.fp is not None:
            self.fp.flush()

    def size(self) -> int:
        return self.written

    def close(self) -> None:
        if self.fp is not None:
            self.fp.close()
            self.fp = None


class _Factory:
    """Hands py7zr a capped writer per planned member, and a sink for anything else."""

    def __init__(self, dests: dict[str, tuple[Path, int]]) -> None:
        self.dests = dests
        self.opened: dict[str, _Capped] = {}
        self.overflow = ""

    def create(self, filename: str) -> _Capped | _Sink:
        target = self.dests.get(filename)
        if target is None or filename in self.opened:
            return _Sink()
        w = _Capped(self, filename, target[0], target[1])
        self.opened[filename] = w
        return w

    def close_all(self) -> None:
        for w in self.opened.values():
            w.close()


class _Sink:
    """Where data of members we did not plan for goes (directories, links, duplicates)."""

    def write(self, s: bytes | bytearray) -> int:
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return 0

    def close(self) -> None:
        return None
