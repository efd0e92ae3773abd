"""Process alignment: by image, command-line shape and parentage, never by PID or start order alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from culprit.analysis.facts import CaptureRef
from culprit.analysis.proctree import ProcessTree
from culprit.diff.align import align
from culprit.parsers.procmon import open_capture
from culprit.parsers.procmon.writer import PmlWriter
from tests.diff._captures import T0

CONHOST = r"C:\Windows\System32\conhost.exe"


def _capture(path: Path, base: int, conhost_first_under: str) -> Path:
    """cmd.exe and setup.exe each start a conhost.exe with one command line; which starts first varies."""
    w = PmlWriter()
    cmd = w.add_process(
        base,
        "cmd.exe",
        image_path=r"C:\Windows\System32\cmd.exe",
        command_line="cmd.exe",
        parent_pid=4,
        start=T0,
    )
    setup = w.add_process(
        base + 4,
        "setup.exe",
        image_path=r"D:\Install\setup.exe",
        command_line="setup.exe /s",
        parent_pid=base,
        start=T0 + timedelta(seconds=1),
    )
    early, late = T0 + timedelta(seconds=2), T0 + timedelta(seconds=3)
    under_cmd = w.add_process(
        base + 8,
        "conhost.exe",
        image_path=CONHOST,
        command_line=f"{CONHOST} 0x4",
        parent_pid=base,
        start=early if conhost_first_under == "cmd" else late,
    )
    under_setup = w.add_process(
        base + 12,
        "conhost.exe",
        image_path=CONHOST,
        command_line=f"{CONHOST} 0x4",
        parent_pid=base + 4,
        start=late if conhost_first_under == "cmd" else early,
    )
    for proc, ppid in ((cmd, 4), (setup, base), (under_cmd, base), (under_setup, base + 4)):
        w.add_event(proc, "Process Start", tid=base + 100 + proc, parent_pid=ppid, command_line="x")
    return w.write(path)


def _tree(path: Path) -> ProcessTree:
    return ProcessTree(CaptureRef(path.name, "x", open_capture(path)))


def test_parentage_decides_between_identical_children(tmp_path: Path) -> None:
    g = _tree(_capture(tmp_path / "g.pml", 1000, "cmd"))
    b = _tree(_capture(tmp_path / "b.pml", 7000, "setup"))  # other PIDs, other start order
    al = align(g, b)
    pairs = {(gp.pid, bp.pid, how) for gp, bp, how in al.pairs if gp and bp}
    assert pairs == {
        (1000, 7000, "image+command+parent"),
        (1004, 7004, "image+command+parent"),
        (1008, 7008, "image+command+parent"),  # conhost under cmd.exe in both, though it started later in bad
        (1012, 7012, "image+command+parent"),  # conhost under setup.exe in both
    }


def test_setup_from_another_drive_and_a_lone_process(tmp_path: Path) -> None:
    gw = PmlWriter()
    gw.add_process(10, "setup.exe", image_path=r"D:\Install\setup.exe", command_line="setup.exe /s", start=T0)
    gw.add_process(14, "extra.exe", image_path=r"C:\Tools\extra.exe", command_line="extra.exe", start=T0)
    bw = PmlWriter()
    bw.add_process(20, "setup.exe", image_path=r"E:\Install\setup.exe", command_line="setup.exe /s", start=T0)
    bw.add_process(
        24, "setup.exe", image_path=r"C:\Users\bob\Downloads\setup.exe", command_line="setup.exe /s", start=T0
    )
    g = _tree(gw.write(tmp_path / "g.pml"))
    b = _tree(bw.write(tmp_path / "b.pml"))
    al = align(g, b)
    got = sorted(((gp.pid if gp else 0, bp.pid if bp else 0, how) for gp, bp, how in al.pairs))
    # the drive letter is noise; the copy in Downloads has no counterpart left; extra.exe only in good
    assert got == [(0, 24, "unmatched"), (10, 20, "image+command+parent"), (14, 0, "unmatched")]


def test_thousands_of_same_image_processes_align_in_start_order(tmp_path: Path) -> None:
    # a build: 2,000 cl.exe with a handful of command-line shapes under one parent; the match stays
    # bounded (a window in start order, not every pair) and keeps start order among equals
    def build(path: Path, base: int, n: int) -> Path:
        w = PmlWriter()
        w.add_process(base, "build.exe", image_path=r"C:\b\build.exe", command_line="build.exe", start=T0)
        for k in range(n):
            pid = base + 4 * (k + 1)
            proc = w.add_process(
                pid,
                "cl.exe",
                image_path=r"C:\vs\cl.exe",
                command_line=f"cl.exe /c f{k % 7}.c",
                parent_pid=base,
                start=T0 + timedelta(milliseconds=k),
            )
            w.add_event(
                proc,
                "Process Start",
                tid=pid + 1,
                time=T0 + timedelta(milliseconds=k),
                parent_pid=base,
                command_line=f"cl.exe /c f{k % 7}.c",
            )
        return w.write(path)

    g = _tree(build(tmp_path / "g.pml", 1000, 2000))
    b = _tree(build(tmp_path / "b.pml", 90000, 2010))
    al = align(g, b)
    matched = [(gp.pid, bp.pid) for gp, bp, _ in al.pairs if gp and bp and gp.name == "cl.exe"]
    assert len(matched) == 2000
    assert all((gpid - 1000) == (bpid - 90000) for gpid, bpid in matched)  # k-th with k-th
    extra = sorted(bp.pid for gp, bp, _ in al.pairs if bp and not gp)
    assert extra == [90000 + 4 * (k + 1) for k in range(2000, 2010)]
