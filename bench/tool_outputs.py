"""Throughput of the tool-output parsers, next to ``grep -c .`` on the same file in the same run.

Tool outputs are small in practice (kilobytes); this bench only guards against accidental
quadratic behaviour. For each parser a file of about ``--mb`` MB is built in a temporary folder:
the header lines of a real case file (or our fixture) once, then its body lines repeated, in the
file's own encoding. Each parser runs in a fresh process that only counts the events; the line
shows MB/s, events, warnings, peak RSS and the ratio to ``grep -c .`` (the named peer).

Usage::

    .venv/bin/python bench/tool_outputs.py             # ~20 MB per parser
    .venv/bin/python bench/tool_outputs.py --mb 5 tasklist getacl
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EDGE = SHARED / "cases" / "edge-injected-dll" / "bad" / "system"
KB = SHARED / "cases" / "kb4474419-registry-denied" / "bad" / "system"
DATA = ROOT / "tests" / "data" / "parsers"

# parser -> (source file, encoding, number of header lines kept once)
INPUTS: dict[str, tuple[Path, str, int]] = {
    "fltmc": (EDGE / "fltmc.txt", "gbk", 3),
    "driverquery": (EDGE / "driverquery.csv", "gbk", 1),
    "tasklist": (EDGE / "tasklist_m.txt", "gbk", 3),
    "scqc": (DATA / "scqc" / "qc_en.txt", "utf-8", 0),
    "regquery": (KB / "reg_AmdK8.txt", "gbk", 0),
    "regfile": (DATA / "regfile" / "export_v5.reg", "utf-16", 1),
    "icacls": (DATA / "icacls" / "display_en.txt", "utf-8", 0),
    "getacl": (KB / "AmdK8_acl.txt", "utf-16", 0),
}

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from culprit.parsers import get
from culprit.parsers.base import ParseContext, Source
name, path = sys.argv[1], Path(sys.argv[2])
src = Source(path, path.name)
ctx = ParseContext(path.name)
t = time.perf_counter()
n = sum(1 for _ in get(name)().parse(src, ctx))
dt = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": dt, "events": n, "warnings": ctx.warning_count, "rss_mb": rss}))
"""


def build(src: Path, encoding: str, header: int, mb: float, out: Path) -> int:
    """Write ``out``: ``header`` lines once, then the other lines repeated to about ``mb`` MB."""
    text = src.read_bytes().decode(encoding).replace("\r\n", "\n")
    lines = text.split("\n")
    head, body = "\r\n".join(lines[:header]), "\r\n".join(lines[header:]).rstrip("\r\n") + "\r\n"
    enc = "utf-16-le" if encoding == "utf-16" else encoding
    body_b = body.encode(enc)
    reps = max(1, int(mb * 1024 * 1024 / max(1, len(body_b))))
    with out.open("wb") as fp:
        if encoding == "utf-16":
            fp.write(b"\xff\xfe")
        if header:
            fp.write((head + "\r\n").encode(enc))
        for _ in range(reps):
            fp.write(body_b)
    return out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20.0)
    ap.add_argument("parsers", nargs="*", default=list(INPUTS))
    args = ap.parse_args(argv)
    grep = shutil.which("grep")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.parsers:
            src, enc, header = INPUTS[name]
            if not src.exists():
                print(f"{name:12} skipped: {src} not available")
                continue
            path = Path(tmp) / f"{name}.txt"
            size = build(src, enc, header, args.mb, path)
            res = subprocess.run(
                [sys.executable, "-c", _CHILD, name, str(path)], capture_output=True, text=True, check=True
            )
            r = json.loads(res.stdout)
            mbs = size / 1024 / 1024 / r["seconds"]
            ratio = ""
            if grep:
                t = time.perf_counter()
                subprocess.run([grep, "-c", ".", str(path)], capture_output=True, check=False)
                g = time.perf_counter() - t
                grep_mbs = size / 1024 / 1024 / g
                ratio = f"  grep -c . {grep_mbs:8.1f} MB/s  parser/grep {g / r['seconds']:.3f}"
            print(
                f"{name:12} {size / 1024 / 1024:6.1f} MB {mbs:7.1f} MB/s  events {r['events']:>9,}  "
                f"warnings {r['warnings']:>6,}  rss {r['rss_mb']:6.1f} MB{ratio}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
