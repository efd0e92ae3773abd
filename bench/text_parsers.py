"""Throughput of the text-log parsers, next to ``grep -c .`` on the same file in the same run.

For each parser a file of about ``--mb`` MB is built in a temporary folder by repeating real lines
(the corpus and the case bundles; the DISM input is our own fixture, as the corpus has no DISM.log).
Each parser then runs in a fresh process that only counts the events (so the numbers are the
parser's, not a consumer's), reporting MB/s and the process's peak RSS. Running once at a quarter
of the size and once at full size shows whether memory stays flat (streaming).

Usage::

    .venv/bin/python bench/text_parsers.py                 # ~200 MB per parser (issue 3)
    .venv/bin/python bench/text_parsers.py --mb 20 cbs setupapi
    .venv/bin/python bench/text_parsers.py --mb 200 --repeat 3 cbs setupapi   # best of 3 on a busy machine

Goal (issue 3): CBS and setupapi >= 50 MB/s on one core, memory flat.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CASE = SHARED / "cases" / "kb4474419-registry-denied" / "bad" / "Windows"

# parser name -> (encoding the sources are read in, source files); all inputs are written as UTF-8
# except the UTF-16 ones, which are repeated as they are.
INPUTS: dict[str, tuple[str, list[Path]]] = {
    "cbs": (
        "utf-8",
        [CASE / "Logs" / "CBS" / "CBS.log", CASE / "Logs" / "CBS" / "CbsPersist_20240903101522.cab"],
    ),
    "setupapi": (
        "utf-8",
        [*sorted((SHARED / "corpus" / "setupapi").glob("*.log")), CASE / "inf" / "setupapi.dev.log"],
    ),
    "dism": ("utf-8", [ROOT / "tests" / "data" / "parsers" / "dism" / "dism_failed_add_package.log"]),
    "windowsupdate": ("utf-8", [CASE / "WindowsUpdate.log"]),
    "reportingevents": ("utf-8", [CASE / "SoftwareDistribution" / "ReportingEvents.log"]),
    "msi": ("utf-16-le", sorted((SHARED / "corpus" / "msi").glob("*utf16*.log"))),
    "edgeupdate": ("utf-8", sorted(SHARED.glob("cases/*/*/ProgramData/Microsoft/EdgeUpdate/Log/*.log"))),
    "cmtrace": ("utf-8", [SHARED / "corpus" / "other" / "plaso_sccm_various.log"]),
    "exchangesetup": ("utf-8", sorted((SHARED / "corpus" / "other" / "exchange_setup").glob("*.log"))),
    "burn": ("utf-8", [SHARED / "corpus" / "msi" / "redball_burn_related_bundle_uninstall.log"]),
}

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from culprit.parsers import get
from culprit.parsers.base import ParseContext, Source
name, path = sys.argv[1], Path(sys.argv[2])
src = Source(path, path.name)
ctx = ParseContext(path.name, utc_offset=480)
t, c = time.perf_counter(), time.process_time()
n = 0
for _ in get(name)().parse(src, ctx):
    n += 1
dt, dc = time.perf_counter() - t, time.process_time() - c
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": dt, "cpu": dc, "events": n, "warnings": ctx.warning_count, "rss_mb": rss}))
"""


def _text_of(path: Path) -> str:
    """Decoded text of one source file (a CbsPersist cab is opened through culprit's ingest)."""
    from culprit import textio
    from culprit.ingest import open_bundle

    if path.suffix.lower() == ".cab":
        with open_bundle(path) as b:
            return "".join(_text_of(s.path) for s in b.sources)
    head = path.read_bytes()
    enc = textio.sniff_encoding(head[: textio.HEAD_BYTES])
    return textio.decode(head, enc).replace("\r\n", "\n")


def build(name: str, mb: float, folder: Path) -> Path | None:
    """Write ``folder/<name>.log`` of about ``mb`` MB by repeating the parser's real inputs."""
    enc, paths = INPUTS[name]
    paths = [p for p in paths if p.exists()]
    if not paths:
        return None
    unit = "".join(_text_of(p).rstrip("\n") + "\n" for p in paths).replace("\n", "\r\n")
    if name == "setupapi":  # one header, then sections only (as a long-lived log)
        body = unit.split("[BeginLog]", 1)[-1]
        unit = body.replace("[Device Install Log]", "")
    data = unit.encode(enc)
    reps = max(1, int(mb * 1e6 // len(data)))
    out = folder / f"{name}.log"
    with out.open("wb") as fp:
        if enc == "utf-16-le":
            fp.write(b"\xff\xfe")
        if name == "setupapi":
            fp.write(b"[Device Install Log]\r\n     OS Version = 10.0.19043\r\n[BeginLog]\r\n")
        for _ in range(reps):
            fp.write(data)
    return out


def run_parser(name: str, path: Path) -> dict[str, float]:
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, name, str(path)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_grep(path: Path) -> float:
    """CPU seconds ``grep -c .`` spends on the file (user + system, as for the parser)."""
    grep = shutil.which("grep")
    if not grep:
        return float("nan")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([grep, "-c", ".", str(path)], capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("parsers", nargs="*", default=list(INPUTS), help="parsers to measure (default: all)")
    ap.add_argument("--mb", type=float, default=200.0, help="size of each input file in MB (default 200)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement, best kept (busy machines)")
    args = ap.parse_args(argv)
    print("MB/s = file size / CPU seconds (one core, unaffected by other load); wall = elapsed time")
    print(
        f"{'parser':16} {'MB':>7} {'MB/s':>7} {'wall':>7} {'grep MB/s':>10} {'ratio':>7} {'events':>10} {'warn':>6}"  # noqa: E501
        f" {'RSS@1/4':>8} {'RSS@1/1':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="culprit-bench-") as tmp:
        for name in args.parsers:
            if name not in INPUTS:
                print(f"{name}: unknown parser", file=sys.stderr)
                continue
            small = build(name, args.mb / 4, Path(tmp))
            if small is None:
                print(f"{name:16} no input files found")
                continue
            r_small = run_parser(name, small)
            small.unlink()
            path = build(name, args.mb, Path(tmp))
            assert path is not None
            size = path.stat().st_size / 1e6
            r = min((run_parser(name, path) for _ in range(args.repeat)), key=lambda x: x["cpu"])
            g = min(run_grep(path) for _ in range(args.repeat))
            mbs = size / r["cpu"]
            gmbs = size / g if g == g and g > 0 else float("nan")
            print(
                f"{name:16} {size:7.1f} {mbs:7.1f} {size / r['seconds']:7.1f} {gmbs:10.1f} {mbs / gmbs:7.3f}"
                f" {int(r['events']):10,d}"
                f" {int(r['warnings']):6d} {r_small['rss_mb']:7.0f}M {r['rss_mb']:7.0f}M"
            )
            path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
