"""Benchmark: ``culprit.diff.compare`` on two generated ~1M-event captures of the same install.

Run (from the repository root)::

    .venv/bin/python bench/diff.py                    # 2 x ~1M events (goal: < 30 s, < 2 GB peak RSS)
    .venv/bin/python bench/diff.py --events 200000    # smaller
    .venv/bin/python bench/diff.py --keep DIR         # keep (and reuse) the generated captures in DIR

The captures are written with culprit's PML writer (:mod:`culprit.parsers.procmon.writer`): a template run of
an invented install (``msiexec`` → custom-action EXE ``MSI*.tmp`` → ``helper.exe``, plus a background
``svchost.exe`` doing registry and file noise), repeated until the capture holds ``--events`` events. The bad
run differs from the good one in PIDs, TIDs, times, temp names and user name (noise the diff must see through)
and in what the diff must find: a third-party DLL loaded into the custom action on a thread another process
creates, ACCESS DENIED on 1 in 50 of its registry writes, and ``helper.exe`` never started.

The diff runs in a child process so its peak RSS is its own. Peers, on the same captures:

* ``open both``: opening the two captures with culprit's reader (columns only): the floor for any diff;
* ``naive decode-all``: decoding the Path of every event of both captures with culprit's reader, the least a
  path-by-path diff must do (measured on the first ``--sample`` events of each, extrapolated);
* ``procmon-parser``: the same naive read with eronnen/procmon-parser (sampled and extrapolated likewise).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

GOAL_SECONDS = 30.0
GOAL_RSS_MB = 2048.0
MS = "Microsoft Corporation"
HOOK = r"C:\Program Files\Fabrikam\fbhook.dll"


def template(bad: bool, t0: datetime):
    """One run of the install, about 10,000 events."""
    from culprit.parsers.procmon.structs import Module
    from culprit.parsers.procmon.writer import PmlWriter

    w = PmlWriter(computer="WS-BAD" if bad else "WS-GOOD")
    p = 5000 if bad else 1000
    temp, eu, user = ("MSI8F3A", "EU5A1C", "bob") if bad else ("MSI4C2E", "EU7C31", "alice")
    ca_path = rf"C:\Windows\Installer\{temp}.tmp"
    helper_path = rf"C:\Program Files\Contoso\{eu}.tmp\helper.exe"

    def at(ms: float) -> datetime:
        return t0 + timedelta(milliseconds=ms)

    def mod(path: str, company: str = MS) -> Module:
        return Module(0x7FF800000000, 0x10000, path, "10.0.19041.1", company, "")

    dlls = [
        rf"C:\Windows\System32\{n}.dll"
        for n in (
            "kernel32",
            "advapi32",
            "rpcrt4",
            "ole32",
            "crypt32",
            "wintrust",
            "msi",
            "shell32",
            "user32",
            "winhttp",
        )
    ]
    svc = w.add_process(
        p + 200,
        "svchost.exe",
        image_path=r"C:\Windows\System32\svchost.exe",
        command_line=r"C:\Windows\system32\svchost.exe -k netsvcs -p",
        parent_pid=p - 300,
        company=MS,
        start=t0 - timedelta(hours=3),
        modules=[mod(d) for d in dlls],
    )
    mon = w.add_process(
        p + 90,
        "agentmon.exe",
        image_path=r"C:\Program Files\Fabrikam\agentmon.exe",
        command_line='"C:\\Program Files\\Fabrikam\\agentmon.exe"',
        parent_pid=p - 300,
        company="Fabrikam Security Ltd",
        start=t0 - timedelta(hours=2),
    )
    msi = w.add_process(
        p + 4,
        "msiexec.exe",
        image_path=r"C:\Windows\System32\msiexec.exe",
        command_line=rf"msiexec /i C:\Users\{user}\Downloads\agent.msi /qn",
        parent_pid=p,
        company=MS,
        start=at(0),
        end=at(60_000),
        modules=[mod(d) for d in dlls[:7]],
    )
    ca_mods = [mod(ca_path)] + [mod(d) for d in dlls] + ([mod(HOOK, "Fabrikam Security Ltd")] if bad else [])
    ca = w.add_process(
        p + 8,
        f"{temp}.tmp",
        image_path=ca_path,
        command_line=f'"{ca_path}" /install',
        parent_pid=p + 4,
        company=MS,
        start=at(100),
        end=at(59_000),
        modules=ca_mods,
    )
    # the failing run never starts helper.exe: its process table has no such process
    helper = (
        -1
        if bad
        else w.add_process(
            p + 12,
            "helper.exe",
            image_path=helper_path,
            command_line=f'"{helper_path}" --register',
            parent_pid=p + 8,
            company="Contoso Ltd",
            start=at(1500),
            end=at(50_000),
        )
    )
    t = 0.0

    def ev(proc: int, op: str, path: str = "", tid: int = 0, **kw: object) -> None:
        nonlocal t
        t += 5.0
        w.add_event(proc, op, path, tid=tid, time=at(t), **kw)

    ev(
        msi,
        "Process Start",
        tid=p + 5,
        parent_pid=p,
        command_line=rf"msiexec /i C:\Users\{user}\Downloads\agent.msi",
    )
    ev(msi, "Process Create", ca_path, tid=p + 5, pid=p + 8, command_line=f'"{ca_path}" /install')
    ev(ca, "Process Start", tid=p + 9, parent_pid=p + 4, command_line=f'"{ca_path}" /install')
    ev(ca, "Load Image", ca_path, tid=p + 9, image_base=0x400000, image_size=0x30000)
    for d in dlls:
        ev(ca, "Load Image", d, tid=p + 9, image_base=0x7FF800000000, image_size=0x10000)
    if bad:
        ev(ca, "Thread Create", tid=p + 91, thread_id=p + 10)
        ev(ca, "Load Image", HOOK, tid=p + 10, image_base=0x6F370000, image_size=0x5B000)
    n_writes = 0
    for k in range(2400):
        # background noise, same in both runs
        ev(
            svc,
            "RegQueryValue",
            rf"HKLM\SOFTWARE\Policies\Microsoft\Windows\Setting{k % 97}",
            tid=p + 201,
            result="NAME NOT FOUND",
        )
        ev(svc, "CreateFile", rf"C:\Windows\System32\config\systemprofile\AppData\f{k % 31}.dat", tid=p + 202)
        # the custom action's work
        key = rf"HKLM\SOFTWARE\Contoso\Agent\Component{k % 400}\Value{k % 7}"
        if k % 3 == 0:
            n_writes += 1
            denied = bad and n_writes % 50 == 0
            ev(
                ca,
                "RegSetValue",
                key,
                tid=p + 9,
                result="ACCESS DENIED" if denied else "SUCCESS",
                type="REG_SZ",
                data="1",
            )
        else:
            ev(ca, "RegQueryValue", key, tid=p + 9, type="REG_SZ", data="1")
        owner = helper if (not bad and k % 4 == 0) else ca
        ev(
            owner,
            "CreateFile",
            rf"C:\Program Files\Contoso\bin\file{k % 600}.dll",
            tid=p + (13 if owner == helper else 9),
        )
        if k % 10 == 0:
            ev(
                msi,
                "ReadFile",
                rf"C:\Users\{user}\Downloads\agent.msi",
                tid=p + 5,
                offset=k * 4096,
                length=4096,
            )
    if not bad:
        ev(
            ca,
            "Process Create",
            helper_path,
            tid=p + 9,
            pid=p + 12,
            command_line=f'"{helper_path}" --register',
        )
        ev(helper, "Process Start", tid=p + 13, parent_pid=p + 8, command_line=f'"{helper_path}" --register')
        ev(helper, "Process Exit", tid=p + 13, exit_status=0)
    ev(ca, "Process Exit", tid=p + 9, exit_status=(0x80070643 - (1 << 32)) if bad else 0)
    ev(msi, "Process Exit", tid=p + 5, exit_status=1603 if bad else 0)
    ev(mon, "RegQueryValue", r"HKLM\SOFTWARE\Fabrikam\Policy", tid=p + 91, type="REG_DWORD", data=1)
    return w


def generate(folder: Path, events: int) -> tuple[Path, Path]:
    out = []
    for bad in (False, True):
        path = folder / ("bad.pml" if bad else "good.pml")
        t0 = datetime(2024, 3, 5, 13, 0, tzinfo=UTC) if bad else datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
        w = template(bad, t0)
        repeat = max(1, round(events / len(w.events)))
        if not path.exists() or path.stat().st_size == 0:
            w.write(path, repeat=repeat)
        out.append(path)
    return out[0], out[1]


def child(good: str, bad: str) -> None:
    """Run one diff and print its time, peak RSS and top differences as JSON (in the child process)."""
    from culprit.diff import compare
    from culprit.parsers.procmon import open_capture

    t = time.perf_counter()
    g, b = open_capture(good), open_capture(bad)
    t_open = time.perf_counter() - t
    r = compare(g, b)
    total = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": total,
                "open_seconds": t_open,
                "rss_mb": rss,
                "events": [len(g), len(b)],
                "stats": dict(r.stats),
                "warnings": list(r.warnings),
                "top": [(d.kind, d.process, d.subject, round(d.score, 3)) for d in r.differences[:5]],
                "kinds": sorted({d.kind for d in r.differences}),
            }
        )
    )


def naive_culprit(path: Path, sample: int) -> tuple[float, int]:
    from culprit.diff.normalize import normalize_path
    from culprit.parsers.procmon import open_capture

    t = time.perf_counter()
    with open_capture(path) as cap:
        n = min(sample, len(cap))
        ops = cap.operation
        keys = {
            (cap.process_index[i], ops[i], normalize_path(cap.path_of(i)), cap.result[i]) for i in range(n)
        }
        total = len(cap)
    return (time.perf_counter() - t) * total / max(1, n), len(keys)


def naive_procmon_parser(path: Path, sample: int) -> tuple[float, int] | None:
    try:
        from procmon_parser import ProcmonLogsReader
    except ImportError:
        return None
    t = time.perf_counter()
    with path.open("rb") as fp:
        reader = ProcmonLogsReader(fp)
        total = len(reader)
        keys = set()
        for n, e in enumerate(reader):
            if n >= sample:
                break
            keys.add((e.process.process_name, e.operation, e.path, e.result))
    return (time.perf_counter() - t) * total / max(1, min(sample, total)), len(keys)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="events per capture (default 1,000,000)")
    ap.add_argument(
        "--sample", type=int, default=100_000, help="events read by the naive peers (extrapolated)"
    )
    ap.add_argument(
        "--keep", metavar="DIR", help="write (and reuse) the captures here instead of a temp folder"
    )
    ap.add_argument("--child", nargs=2, metavar=("GOOD", "BAD"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return 0
    tmp = None
    if a.keep:
        folder = Path(a.keep)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="culprit-bench-diff-")
        folder = Path(tmp.name)
    try:
        t = time.perf_counter()
        good, bad = generate(folder, a.events)
        print(
            f"captures: {good} ({good.stat().st_size / 2**20:.0f} MB), "
            f"{bad} ({bad.stat().st_size / 2**20:.0f} MB); written in {time.perf_counter() - t:.1f} s"
        )
        r = subprocess.run(
            [sys.executable, __file__, "--child", str(good), str(bad)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            check=False,
        )
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
        res = json.loads(r.stdout)
        secs, rss = res["seconds"], res["rss_mb"]
        print(
            f"diff: {res['events'][0]:,} vs {res['events'][1]:,} events in {secs:.1f} s "
            f"(open {res['open_seconds']:.1f} s, process trees {res['stats']['seconds_trees']:.1f} s); "
            f"peak RSS {rss:.0f} MB"
        )
        print(
            f"  goal < {GOAL_SECONDS:.0f} s: {'met' if secs < GOAL_SECONDS else 'MISSED'} "
            f"({secs / GOAL_SECONDS:.2f} of it); goal < {GOAL_RSS_MB:.0f} MB: "
            f"{'met' if rss < GOAL_RSS_MB else 'MISSED'} ({rss / GOAL_RSS_MB:.2f} of it)"
        )
        print("  top: " + "; ".join(f"{k} {p} {s.rsplit(chr(92), 1)[-1]} {sc}" for k, p, s, sc in res["top"]))
        for wmsg in res["warnings"]:
            print(f"  warning: {wmsg}")
        print("peers (same captures):")
        print(
            f"  open both (columns only): {res['open_seconds']:.1f} s  -> diff / open = "
            f"{secs / max(res['open_seconds'], 1e-9):.1f}x"
        )
        naive = sum(naive_culprit(p, a.sample)[0] for p in (good, bad))
        print(
            f"  naive decode-all with culprit's reader (extrapolated from {a.sample:,} events each): "
            f"{naive:.1f} s  -> diff is {naive / secs:.1f}x faster"
        )
        pp = [naive_procmon_parser(p, a.sample) for p in (good, bad)]
        if all(x is not None for x in pp):
            pps = sum(x[0] for x in pp if x is not None)
            print(
                f"  naive read with procmon-parser (extrapolated): {pps:.1f} s  "
                f"-> diff is {pps / secs:.1f}x faster"
            )
        else:
            print("  procmon-parser not installed: peer skipped")
        return 0 if secs < GOAL_SECONDS and rss < GOAL_RSS_MB else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
