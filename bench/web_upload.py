#!/usr/bin/env python3
"""Upload throughput of the workbench against a plain file copy (goal: within 3x of `cp` + `sha256sum`).

Starts ``culprit serve`` on a free localhost port with a temp data dir, sends one random file of
``--mib`` MiB through an upload link as a raw ``PUT`` and as a multipart form (what the browser
sends), and prints MiB/s of each next to the peer: ``cp`` of the same file followed by
``sha256sum`` (the least work any content-addressed store must do). Also prints the argon2id cost
of one login (the password hash the workbench uses). Usage: python bench/web_upload.py [--mib 256]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "bench password 1"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=256)
    args = ap.parse_args()
    import httpx

    from culprit.web.security import hash_password, verify_password

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = tmp / "evidence.bin"
        with src.open("wb") as f:
            for _ in range(args.mib):
                f.write(os.urandom(1 << 20))
        size = src.stat().st_size
        digest = hashlib.sha256(src.read_bytes()).hexdigest()

        t = time.perf_counter()
        shutil.copyfile(src, tmp / "copy.bin")
        out = subprocess.run(["sha256sum", str(tmp / "copy.bin")], capture_output=True, text=True, check=True)
        peer = time.perf_counter() - t
        assert out.stdout.split()[0] == digest

        env = {**os.environ, "CULPRIT_DATA_DIR": str(tmp / "data")}
        subprocess.run([sys.executable, "-m", "culprit", "serve", "--add-user", "bench", "--password-stdin"],
                       input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True)
        port = _port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([sys.executable, "-m", "culprit", "serve", "--port", str(port), "--log-level", "error"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    httpx.get(base + "/login", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            c = httpx.Client(base_url=base, timeout=600)
            h = {"Authorization": "Bearer " + c.post("/api/v1/auth/token",
                                                     json={"username": "bench", "password": PASSWORD}).json()["token"]}
            number = c.post("/api/v1/cases", json={"title": "bench", "customer": "bench"}, headers=h).json()["number"]
            tok = c.post(f"/api/v1/cases/{number}/links", json={}, headers=h).json()["token"]

            def chunks():  # type: ignore[no-untyped-def]
                with src.open("rb") as f:
                    while b := f.read(1 << 20):
                        yield b

            t = time.perf_counter()
            r = c.put(f"/api/v1/uploads/{tok}", params={"filename": "a.bin"}, content=chunks())
            raw = time.perf_counter() - t
            assert r.json()["files"][0]["sha256"] == digest
            form = c.get(f"/u/{tok}").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            # a different file so the store cannot short-cut by hash
            with src.open("r+b") as f:
                f.write(b"x")
            with src.open("rb") as fh:
                t = time.perf_counter()
                r = c.post(f"/api/v1/uploads/{tok}", data={"csrf_token": form}, files={"files": ("b.bin", fh)})
                multi = time.perf_counter() - t
            assert r.status_code == 200, r.text
        finally:
            proc.terminate()
            proc.wait(20)

    mib = size / (1 << 20)
    print(f"file: {mib:.0f} MiB random")
    print(f"peer  cp + sha256sum      {mib / peer:8.1f} MiB/s")
    print(f"culprit raw PUT           {mib / raw:8.1f} MiB/s   ratio {raw / peer:.2f}x the peer's time")
    print(f"culprit multipart form    {mib / multi:8.1f} MiB/s   ratio {multi / peer:.2f}x the peer's time")
    stored = hash_password(PASSWORD)
    t = time.perf_counter()
    for _ in range(5):
        verify_password(stored, PASSWORD)
    print(f"argon2id verify (default parameters): {(time.perf_counter() - t) / 5 * 1000:.0f} ms per login")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
