"""The evidence store and the streaming multipart reader, without HTTP."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.web import conftest as _web

if _web.WEB_MISSING:
    pytest.skip(_web.WEB_MISSING, allow_module_level=True)

from hypothesis import given, settings
from hypothesis import strategies as st

from culprit.web.storage import MAX_FILES, MultipartReceiver, Store, UploadError, safe_filename

BOUNDARY = "xYzZY-boundary"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _body(fields: dict[str, str], files: list[tuple[str, bytes]], end: bool = True) -> bytes:
    out = b""
    for k, v in fields.items():
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for name, data in files:
        out += (
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    if end:
        out += f"--{BOUNDARY}--\r\n".encode()
    return out


def _feed(rx: MultipartReceiver, body: bytes, step: int) -> None:
    for i in range(0, len(body), step):
        rx.feed(body[i : i + step])


def test_temp_blob_commit_and_dedupe(tmp_path: Path) -> None:
    store = Store(tmp_path)
    data = b"2024-09-03 10:30:41, Info CBS hello\r\n" * 1000
    t = store.temp("..\\..\\Windows\\CBS.log", 10**6)
    assert t.filename == "CBS.log"
    t.write(data[:100])
    t.write(data[100:])
    s = t.commit()
    assert s.sha256 == hashlib.sha256(data).hexdigest() and s.size == len(data)
    assert s.path == tmp_path / "sha256" / s.sha256[:2] / s.sha256
    assert s.path.read_bytes() == data
    mtime = s.path.stat().st_mtime_ns
    t2 = store.temp("again.log", 10**6)
    t2.write(data)
    assert t2.commit().path == s.path
    assert s.path.stat().st_mtime_ns == mtime  # an existing blob is never rewritten
    assert list(store.tmp_dir.iterdir()) == []
    assert store.has(s.sha256) and not store.has("0" * 64)
    with pytest.raises(ValueError):
        store.blob_path("../../etc/passwd")


def test_temp_blob_limit_and_abort(tmp_path: Path) -> None:
    store = Store(tmp_path)
    t = store.temp("big.bin", 10)
    t.write(b"0123456789")
    with pytest.raises(UploadError) as e:
        t.write(b"x")
    assert e.value.status == 413
    t.abort()
    t.abort()  # twice is fine
    assert list(store.tmp_dir.iterdir()) == []
    (store.tmp_dir / "up-left-by-a-crash").write_bytes(b"x")
    assert store.sweep_temp() == 1


@pytest.mark.parametrize("step", [1, 7, 4096, 10**6])
def test_multipart_in_any_chunking(tmp_path: Path, step: int) -> None:
    store = Store(tmp_path)
    a, b = os.urandom(5000), b"line one\r\n--not-a-boundary\r\nline two"
    rx = MultipartReceiver(CTYPE, store, 10**6)
    _feed(rx, _body({"csrf_token": "tok"}, [("a.zip", a), ("b.log", b)]), step)
    rx.close()
    assert rx.fields == {"csrf_token": "tok"}
    assert [f.filename for f in rx.files] == ["a.zip", "b.log"]
    stored = [f.commit() for f in rx.files]
    assert [s.path.read_bytes() for s in stored] == [a, b]
    assert [s.sha256 for s in stored] == [hashlib.sha256(a).hexdigest(), hashlib.sha256(b).hexdigest()]


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=3000), step=st.integers(1, 600))
def test_multipart_roundtrip_property(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, step: int
) -> None:
    store = Store(tmp_path_factory.mktemp("s"))
    rx = MultipartReceiver(CTYPE, store, 10**6)
    _feed(rx, _body({}, [("f.bin", data)]), step)
    rx.close()
    (f,) = rx.files
    f.finish()
    assert f.path.read_bytes() == data and f.sha256 == hashlib.sha256(data).hexdigest()
    rx.abort()
    assert list(store.tmp_dir.iterdir()) == []


def test_multipart_damage(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with pytest.raises(UploadError) as e:
        MultipartReceiver("application/json", store, 100)
    assert e.value.status == 415
    rx = MultipartReceiver(CTYPE, store, 100)
    rx.feed(_body({}, [("cut.bin", b"abc" * 10)], end=False))
    with pytest.raises(UploadError, match="cut off"):
        rx.close()
    rx.abort()
    rx = MultipartReceiver(CTYPE, store, 100)
    with pytest.raises(UploadError) as e:
        rx.feed(_body({}, [("big.bin", b"x" * 101)]))
    assert e.value.status == 413
    rx.abort()
    rx = MultipartReceiver(CTYPE, store, 100)
    with pytest.raises(UploadError, match="too long"):
        rx.feed(_body({"note": "n" * 9000}, []))
    rx = MultipartReceiver(CTYPE, store, 100)
    with pytest.raises(UploadError, match=f"more than {MAX_FILES} files"):
        rx.feed(_body({}, [(f"{i}.log", b"x") for i in range(MAX_FILES + 1)]))
    rx.abort()
    rx = MultipartReceiver(CTYPE, store, 100)
    with pytest.raises(UploadError, match="malformed"):
        rx.feed(
            b"--"
            + BOUNDARY.encode()
            + b"\r\n\x00\x01 garbage without headers end"
            + b"\r\n" * 3
            + b"\xff" * 5000
        )
    rx.abort()
    rx = MultipartReceiver(CTYPE, store, 100)  # an empty file input: no file, no temp left
    rx.feed(_body({}, [("", b"")]))
    rx.close()
    assert rx.files == []
    assert list(store.tmp_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("given_name", "safe"),
    [
        ("C:\\Users\\pat\\Desktop\\logs.zip", "logs.zip"),
        ("../../etc/passwd", "passwd"),
        ("bad<script>.zip", "bad_script_.zip"),
        ("...", "upload.bin"),
        ("日志 2024.zip", "日志 2024.zip"),
        ("a" * 400 + ".zip", "a" * 180),
    ],
)
def test_safe_filename(given_name: str, safe: str) -> None:
    assert safe_filename(given_name) == safe
