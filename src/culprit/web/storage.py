"""Content-addressed evidence store and streaming upload reception.

Files live at ``<data>/evidence/sha256/<aa>/<full sha256>``. An upload is streamed (1 MiB chunks,
never held in memory) into a temp file under ``<data>/evidence/tmp`` while its sha256 is computed,
flushed to disk, checked, and only then renamed into place (``os.replace``: atomic on one file
system). A broken or refused upload leaves no blob and no database row; an existing blob is never
touched, so earlier evidence cannot be lost.

``MultipartReceiver`` reads ``multipart/form-data`` bodies incrementally with python-multipart's
streaming parser, writing each file part straight into its temp file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

CHUNK = 1 << 20
MAX_FIELD_BYTES = 8192
MAX_FILES = 64
_SAFE = re.compile(r"[^\w.\-+()\[\] ]+", re.UNICODE)


class UploadError(Exception):
    """The upload cannot be accepted; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def safe_filename(name: str) -> str:
    """The last path component of a client-given name, reduced to harmless characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".")
    base = _SAFE.sub("_", base)[:180]
    return base or "upload.bin"


@dataclass
class Stored:
    sha256: str
    size: int
    path: Path


class TempBlob:
    """A file being received: hashed as written, aborted or committed exactly once."""

    def __init__(self, store: Store, filename: str, max_bytes: int) -> None:
        self.store = store
        self.filename = safe_filename(filename)
        self.max_bytes = max_bytes
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="up-")
        self.path = Path(name)
        self._f = os.fdopen(fd, "wb")
        self._h = hashlib.sha256()
        self.size = 0
        self.done = False

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise UploadError(f"{self.filename}: larger than the {self.max_bytes:,}-byte upload limit", 413)
        self._h.update(data)
        self._f.write(data)

    def finish(self) -> None:
        """Flush to disk (the file stays a temp file until :meth:`commit`)."""
        if not self._f.closed:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()

    @property
    def sha256(self) -> str:
        return self._h.hexdigest()

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        with contextlib.suppress(OSError):
            self._f.close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def commit(self) -> Stored:
        """Move the finished file to its content address (or drop it if that blob exists)."""
        self.finish()
        digest = self.sha256
        dest = self.store.blob_path(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() and dest.stat().st_size == self.size:
            self.path.unlink()
        else:
            os.replace(self.path, dest)
        self.done = True
        return Stored(digest, self.size, dest)


class Store:
    """The evidence store under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.blob_dir = self.root / "sha256"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.blob_dir.mkdir(parents=True, exist_ok=True)

    def blob_path(self, sha256: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.blob_dir / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.blob_path(sha256).is_file()

    def temp(self, filename: str, max_bytes: int) -> TempBlob:
        return TempBlob(self, filename, max_bytes)

    def sweep_temp(self) -> int:
        """Remove temp files left by a crash (call at startup, before accepting uploads)."""
        n = 0
        for p in self.tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
        return n


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)
    blob: TempBlob | None = None


class MultipartReceiver:
    """Incremental ``multipart/form-data`` reader: small fields in memory, files to temp blobs."""

    def __init__(self, content_type: str, store: Store, max_bytes: int) -> None:
        ctype, params = parse_options_header(content_type)
        if ctype != b"multipart/form-data" or b"boundary" not in params:
            raise UploadError("expected a multipart/form-data upload", 415)
        self.store = store
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.files: list[TempBlob] = []
        self._part: _Part | None = None
        self._hname = bytearray()
        self._hvalue = bytearray()
        self._error: UploadError | None = None
        self._ended = False
        self._parser = MultipartParser(
            params[b"boundary"],
            {
                "on_part_begin": self._begin,
                "on_header_field": lambda d, s, e: self._hname.extend(d[s:e]),
                "on_header_value": lambda d, s, e: self._hvalue.extend(d[s:e]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_done,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
            max_size=max_bytes * MAX_FILES + 1024**2,
        )

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except UploadError:
            raise
        except Exception as e:  # the parser's own errors: a malformed body
            raise UploadError(f"malformed multipart body: {e}", 400) from None
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """The body ended: it must have ended as multipart does."""
        if not self._ended:
            raise UploadError("the upload was cut off before its end", 400)

    def abort(self) -> None:
        for b in self.files:
            b.abort()
        if self._part and self._part.blob:
            self._part.blob.abort()

    # parser callbacks ------------------------------------------------------------------------

    def _begin(self) -> None:
        self._part = _Part()

    def _header_end(self) -> None:
        assert self._part is not None
        self._part.headers[self._hname.decode("latin-1").lower()] = self._hvalue.decode("utf-8", "replace")
        self._hname.clear()
        self._hvalue.clear()

    def _headers_done(self) -> None:
        p = self._part
        assert p is not None
        _, opts = parse_options_header(p.headers.get("content-disposition", ""))
        p.name = opts.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in opts:
            p.filename = opts[b"filename"].decode("utf-8", "replace")
            if len(self.files) >= MAX_FILES:
                self._error = UploadError(f"more than {MAX_FILES} files in one upload", 413)
                return
            p.blob = self.store.temp(p.filename, self.max_bytes)

    def _data(self, data: bytes, start: int, end: int) -> None:
        p = self._part
        if p is None or self._error is not None:
            return
        if p.blob is not None:
            try:
                p.blob.write(data[start:end])
            except UploadError as e:
                self._error = e
        else:
            p.data.extend(data[start:end])
            if len(p.data) > MAX_FIELD_BYTES:
                self._error = UploadError(f"form field {p.name!r} is too long", 413)

    def _part_end(self) -> None:
        p = self._part
        if p is None:
            return
        if p.blob is not None:
            if p.filename:  # an empty file input sends a part with filename=""
                self.files.append(p.blob)
            else:
                p.blob.abort()
        else:
            self.fields[p.name] = p.data.decode("utf-8", "replace")
        self._part = None

    def _end(self) -> None:
        self._ended = True
