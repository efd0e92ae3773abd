"""Match the processes of two Procmon captures of the same install: by image, command-line shape, parentage.

Format: the process tables of two Process Monitor captures (PML or CSV export), read through
:class:`culprit.analysis.proctree.ProcessTree`. PIDs, TIDs and times differ between runs and are never
used to match; only the normalized image path (:func:`culprit.diff.normalize.image_key`), the
normalized command line and the already-matched parent.

Matching runs in rounds, each over the failing run's processes parents-first (so a child can use its
parent's match):

1. same image, same command-line shape, parents matched to each other (or the same parent image);
2. same image, the best of command-line similarity + parent agreement + start order;
3. same file name in another folder (``D:\\Setup\\x.exe`` vs ``C:\\Temp\\x.exe``).

References: ``docs/diff.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from culprit.analysis.proctree import Proc, ProcessTree
from culprit.diff.normalize import base_name, image_key, normalize_command_line, similarity

SPAN = 48  # in a large group of same-image processes, candidates this far either side in start order
EXTRA = 8  # ... plus this many of the earliest still unmatched


@dataclass
class _Info:
    proc: Proc
    key: str
    cmd: str
    name: str
    depth: int
    ordinal: int = 0


@dataclass
class Alignment:
    """The match between two process trees.

    Attributes:
        pairs: ``(good, bad, how)`` for every process of either run; one side is None when unmatched.
        g2b: good process key → bad process key.
        b2g: bad process key → good process key.
    """

    pairs: list[tuple[Proc | None, Proc | None, str]] = field(default_factory=list)
    g2b: dict[int, int] = field(default_factory=dict)
    b2g: dict[int, int] = field(default_factory=dict)

    def good_of(self, bad: Proc) -> int | None:
        return self.b2g.get(bad.key)

    def bad_of(self, good: Proc) -> int | None:
        return self.g2b.get(good.key)


def _infos(tree: ProcessTree) -> dict[int, _Info]:
    out: dict[int, _Info] = {}
    for k, p in tree.procs.items():
        depth = sum(1 for _ in p.ancestors())
        out[k] = _Info(
            p,
            image_key(p.image_path, p.name),
            normalize_command_line(p.command_line),
            base_name(p.image_path or p.name).casefold(),
            depth,
        )
    by_key: dict[str, list[_Info]] = defaultdict(list)
    for i in out.values():
        by_key[i.key].append(i)
    for group in by_key.values():
        group.sort(key=lambda i: (i.proc.start is None, i.proc.start or 0, i.proc.key))
        for n, i in enumerate(group):
            i.ordinal = n
    return out


def align(good: ProcessTree, bad: ProcessTree) -> Alignment:
    """Match every process of ``bad`` to at most one of ``good``.

    Args:
        good: the process tree of the run where the install works.
        bad: the process tree of the failing run.

    Returns:
        The alignment, with unmatched processes of both runs listed as one-sided pairs.
    """
    gi = _infos(good)
    bi = _infos(bad)
    res = Alignment()
    hows: dict[int, str] = {}
    order = sorted(bi.values(), key=lambda i: (i.depth, i.proc.start is None, i.proc.start or 0, i.proc.key))

    def parent_state(g: _Info, b: _Info) -> int:
        """2: parents matched to each other; 1: same parent image (or both roots); 0: no agreement."""
        gp, bp = g.proc.parent, b.proc.parent
        if gp is None and bp is None:
            return 1
        if gp is not None and bp is not None:
            if res.b2g.get(bp.key) == gp.key:
                return 2
            if gi[gp.key].key == bi[bp.key].key:
                return 1
        return 0

    ptr: dict[int, int] = {}

    def candidates(group: list[_Info], b: _Info) -> list[_Info]:
        """The group, or (when large) the part near ``b``'s place in start order + the earliest unmatched."""
        if len(group) <= 2 * SPAN + EXTRA:
            return group
        o = min(b.ordinal, len(group) - 1)
        p = ptr.get(id(group), 0)
        while p < len(group) and group[p].proc.key in res.g2b:
            p += 1
        ptr[id(group)] = p
        return group[max(0, o - SPAN) : o + SPAN] + group[p : p + EXTRA]

    def run(round_: int, cands_of: dict[str, list[_Info]], keyf: str) -> None:
        for b in order:
            if b.proc.key in res.b2g:
                continue
            best: tuple[float, _Info, str] | None = None
            for g in candidates(cands_of.get(getattr(b, keyf), []), b):
                if g.proc.key in res.g2b:
                    continue
                sim = similarity(g.cmd, b.cmd)
                ps = parent_state(g, b)
                if round_ == 1 and (sim < 1.0 or ps == 0):
                    continue
                started = (g.proc.start_event is not None) == (b.proc.start_event is not None)
                score = 2.0 * sim + ps + (0.5 if started else 0.0) - 0.1 * abs(g.ordinal - b.ordinal)
                if best is None or score > best[0]:
                    how = _how(round_, sim, ps)
                    best = (score, g, how)
            if best is not None:
                res.b2g[b.proc.key] = best[1].proc.key
                res.g2b[best[1].proc.key] = b.proc.key
                hows[b.proc.key] = best[2]

    by_key: dict[str, list[_Info]] = defaultdict(list)
    by_name: dict[str, list[_Info]] = defaultdict(list)
    for g in sorted(gi.values(), key=lambda i: (i.proc.start is None, i.proc.start or 0, i.proc.key)):
        by_key[g.key].append(g)  # in start order: position == ordinal
        by_name[g.name].append(g)
    run(1, by_key, "key")
    run(2, by_key, "key")
    run(3, by_name, "name")

    for b in order:
        gk = res.b2g.get(b.proc.key)
        res.pairs.append(
            (good.procs[gk] if gk is not None else None, b.proc, hows.get(b.proc.key, "unmatched"))
        )
    for g in sorted(
        gi.values(), key=lambda i: (i.depth, i.proc.start is None, i.proc.start or 0, i.proc.key)
    ):
        if g.proc.key not in res.g2b:
            res.pairs.append((g.proc, None, "unmatched"))
    return res


def _how(round_: int, sim: float, parent: int) -> str:
    if round_ == 3:
        return "name"
    if sim == 1.0 and parent:
        return "image+command+parent"
    if sim == 1.0:
        return "image+command"
    if parent:
        return "image+parent"
    return "image"


def unmatched_roots(procs: Iterable[Proc], matched: dict[int, int]) -> list[Proc]:
    """Unmatched processes whose parent is matched or absent: the top of each unmatched subtree."""
    out = []
    for p in procs:
        if p.key in matched:
            continue
        if p.parent is None or p.parent.key in matched:
            out.append(p)
    return out
