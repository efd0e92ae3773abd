"""Where two runs of one process first part: a windowed walk over both processes' milestones.

Format: the events of one aligned process in each Procmon capture (see :mod:`culprit.diff.runs`). Milestones
are what a process loads, starts, writes or deletes, remote thread creations (a Thread Create whose
creating thread belongs to another process, as remote-thread injection shows in Procmon), and every failed
operation; plain opens, queries, reads and writes are left out because their number and order change
between two runs of the same install (caches, timing).
"""

from __future__ import annotations

from culprit.analysis.proctree import Proc
from culprit.diff.normalize import normalize_path
from culprit.diff.runs import Run
from culprit.parsers.procmon import consts
from culprit.parsers.procmon.capture import BENIGN_RESULTS

MAX_SEQUENCE = 2_000  # milestones read per process and side
WINDOW = 64  # how far apart the same milestone may be in the two runs and still count as the same step

Milestone = tuple[tuple[str, ...], int, str, str]  # (key, event index, label, label_zh)

# The milestones a process's first divergence is looked for in: what it loads, starts, writes, and whatever
# fails. Plain opens, queries and reads differ in number and order between runs (caches, timing): left out.
MILESTONES = frozenset(
    {
        "Load Image",
        "Process Create",
        "Process Start",
        "Process Exit",
        "Thread Create",
        "RegSetValue",
        "RegCreateKey",
        "RegDeleteKey",
        "RegDeleteValue",
        "SetDispositionInformationFile",
        "SetRenameInformationFile",
    }
)


def sequence(run: Run, p: Proc) -> tuple[list[Milestone], bool]:
    """Milestones of process ``p`` as ``(key, event index, label, label_zh)``, and whether complete."""
    cap = run.cap
    ops = cap.operation
    tids = cap.tid
    res = cap.result
    out: list[Milestone] = []
    idxs = run.events_of(p.key)
    complete = True
    for i in idxs.tolist():
        op = str(ops[i])
        st = int(res[i])
        failed = (st & 0xC0000000) == 0xC0000000 and st not in BENIGN_RESULTS
        if op not in MILESTONES and not failed:
            continue
        if len(out) >= MAX_SEQUENCE:
            complete = False
            break
        if op == "Thread Create":
            owners = run.tree.tid_owner.get(int(tids[i]), set())
            if owners and p.key not in owners:
                who = run.tree.owner_of_thread(int(tids[i]), exclude=p.key)
                name = who[0].name if who else "?"
                out.append(
                    (
                        ("Thread Create", "remote"),
                        i,
                        f"Thread Create from another process (`{name}`)",
                        f"来自其他进程（`{name}`）的 Thread Create",
                    )
                )
            else:
                out.append((("Thread Create",), i, "Thread Create", "Thread Create"))
            continue
        if op in ("Process Start", "Process Exit"):
            out.append(((op,), i, op, op))
            continue
        path = cap.path_of(i)
        ok = consts.result_name(st) if failed else "ok"
        label = f"{op} `{path}`" + ("" if st == 0 else f" → {consts.result_name(st)}")
        out.append(((op, normalize_path(path), ok), i, label, label))
    return out, complete


def diverge(
    G: list[Milestone], B: list[Milestone], bad_complete: bool
) -> tuple[int | None, int | None, bool] | None:
    """Walk both sequences, tolerating reordering within :data:`WINDOW`; where do they first part?

    Returns ``(bad position, good position, bad stopped)`` or None when they agree as far as both go.
    """
    i = j = 0
    while i < len(B) and j < len(G):
        if B[i][0] == G[j][0]:
            i += 1
            j += 1
            continue
        p = next((k for k in range(j + 1, min(len(G), j + WINDOW)) if G[k][0] == B[i][0]), None)
        q = next((k for k in range(i + 1, min(len(B), i + WINDOW)) if B[k][0] == G[j][0]), None)
        if p is None:
            return i, j, False
        if q is None:
            return i, j, False
        if p - j <= q - i:
            j = p
        else:
            i = q
    if i >= len(B) and j < len(G) and bad_complete and len(G) - j > 1:
        return (len(B) - 1 if B else None), j, True
    return None
