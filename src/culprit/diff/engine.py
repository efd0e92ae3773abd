"""The good-vs-bad diff of two Procmon captures of the same install: ranked differences with evidence.

Format: two Process Monitor captures (PML, or Procmon's CSV export), opened with
:func:`culprit.parsers.procmon.open_capture`: one from a machine where the install works ("good"), one
from the failing machine ("bad"). Processes are aligned by :mod:`culprit.diff.align`; paths and command
lines are compared through :mod:`culprit.diff.normalize`.

Per aligned process the engine compares modules (load events and the PML module list, with company and
load time relative to process start), lifetime, exit status and event counts, children, the operations
whose result differs (read only for events that failed in the bad run, so a 1M-event capture decodes a
small part of its paths) and the first point where the event sequences diverge. Each difference gets a
score (``docs/diff.md`` explains the weights) and a reading in English and Chinese.

References: issue 7; ``docs/diff.md``.
"""

from __future__ import annotations

import time as _time
from collections import defaultdict
from typing import Any

import numpy as np

from culprit.analysis.proctree import Proc, ProcessTree
from culprit.diff import readings as R
from culprit.diff.align import Alignment, align, unmatched_roots
from culprit.diff.divergence import diverge, sequence
from culprit.diff.model import KINDS, AlignedProcess, Difference, DiffResult
from culprit.diff.normalize import base_name, image_key, normalize_path
from culprit.diff.results import failed_operations
from culprit.diff.runs import Mod, Run, as_ref, has_module_lists, third_party
from culprit.parsers.procmon import consts
from culprit.parsers.procmon.capture import ERROR_RESULTS
from culprit.parsers.procmon.structs import TICKS_PER_SECOND

# Weights (see docs/diff.md). Background = a process the capture did not see start (ran before it).
BACKGROUND = 0.6
W_MODULE_THIRD = 0.35
W_MODULE_MS = 0.10
W_MODULE_EXIT = 0.45  # a third-party module loaded before the process quits early
W_MODULE_EXIT_MS = 0.10
W_MODULE_SOON = 0.05  # ... and the exit comes within 10 s of the load
W_INJECTED = 0.10  # ... loaded on a thread another process created
W_EARLY_EXIT = 0.85
W_CONSEQUENCE = 0.6  # factor for an early exit that follows another one
W_DENIED = 0.70
W_DENIED_ABSENT = 0.45
W_FAILED = 0.35
W_CHILD_MISSING = 0.50
W_CHILD_ONLY_BAD = 0.40
W_EXIT_DIFFERS = 0.55
W_DIVERGENCE = 0.30
W_PROCESS_ONE_SIDE = 0.15
W_MODULE_ONLY_GOOD = 0.12
W_ACTIVITY = 0.20
W_IN_BOTH = 0.03

# Budgets that keep a 1M-event diff bounded (each cut is reported in warnings).
MAX_DIVERGENCE_PAIRS = 25
MAX_RESULT_DIFFS = 200


class _Diff:
    """One comparison in progress (kept out of the public API)."""

    def __init__(self, good: Run, bad: Run, al: Alignment) -> None:
        self.g = good
        self.b = bad
        self.al = al
        self.out: list[Difference] = []
        self.warnings: list[str] = []
        self.pairs = [(g, b) for g, b, _ in al.pairs if g is not None and b is not None]
        self.early: dict[int, tuple[float, bool]] = {}  # bad key -> (exit time offset, consequence?)
        self.common: list[Difference] = []  # third-party modules loaded in both runs (not differences)

    # --- helpers ----------------------------------------------------------------------------------

    def scope(self, g: Proc | None, b: Proc | None) -> float:
        started = any(
            p is not None and (p.start_event is not None or p.create_event is not None) for p in (g, b)
        )
        return 1.0 if started else BACKGROUND

    def add(
        self,
        kind: str,
        score: float,
        g: Proc | None,
        b: Proc | None,
        subject: str,
        gev: list[int | None],
        bev: list[int | None],
        text: tuple[str, str],
        /,
        **details: Any,
    ) -> None:
        who = b or g
        self.out.append(
            Difference(
                kind=kind,
                score=round(min(0.99, max(0.0, score)), 4),
                process=who.name if who else "",
                subject=subject,
                good_events=tuple(int(i) for i in gev if i is not None),
                bad_events=tuple(int(i) for i in bev if i is not None),
                reading=text[0],
                reading_zh=text[1],
                good_process=g.key if g else None,
                bad_process=b.key if b else None,
                good_pid=g.pid if g else None,
                bad_pid=b.pid if b else None,
                details=details,
            )
        )

    def add_common(self, *args: Any, **details: Any) -> None:
        """Like :meth:`add`, into :attr:`common` (present in both runs) instead of the differences."""
        self.add(*args, **details)
        self.common.append(self.out.pop())

    def good_life(self, g: Proc) -> tuple[float | None, bool]:
        """The good process's lifetime, or (when it never exits in the capture) a lower bound and True."""
        if g.start is None:
            return None, False
        if g.end is not None and g.exit_event is not None:
            return (g.end - g.start).total_seconds(), False
        if g.end is not None:
            return (g.end - g.start).total_seconds(), False
        if self.g.end is not None:
            return (self.g.end - g.start).total_seconds(), True
        return None, True

    def child_names(self, g: Proc) -> list[str]:
        """Names of the children ``g`` starts in the good run that have no counterpart in the failing run."""
        return [c.name for c in g.children if c.key not in self.al.g2b]

    # --- passes -----------------------------------------------------------------------------------

    def lifetimes(self) -> None:
        cands = []
        for g, b in self.pairs:
            bl = b.lifetime
            gl, alive = self.good_life(g)
            if b.end is None or b.exit_event is None or bl is None or gl is None:
                continue
            nonzero = b.exit_status not in (0, None)
            if nonzero and bl < 0.5 * gl and gl - bl >= 0.05:
                cands.append((b.end, g, b, bl, gl, alive))
            elif nonzero and g.exit_status is not None and g.exit_status != b.exit_status:
                self.add(
                    "exit-differs",
                    W_EXIT_DIFFERS * self.scope(g, b),
                    g,
                    b,
                    R.status(b.exit_status),
                    [g.exit_event],
                    [b.exit_event],
                    R.exit_differs(b.name, b.exit_status, g.exit_status, bl, gl),
                    bad_status=b.exit_status,
                    good_status=g.exit_status,
                    bad_lifetime=bl,
                    good_lifetime=gl,
                )
        cands.sort(key=lambda c: c[0])
        first: Proc | None = None
        for _end, g, b, bl, gl, alive in cands:
            consequence = first is not None
            self.early[b.key] = (bl, consequence)
            factor = W_CONSEQUENCE if consequence else 1.0
            self.add(
                "early-exit",
                W_EARLY_EXIT * factor * self.scope(g, b),
                g,
                b,
                R.status(b.exit_status),
                [g.exit_event if not alive else g.last_event],
                [b.exit_event],
                R.early_exit(
                    b.name,
                    bl,
                    b.exit_status,
                    b.event_count,
                    gl,
                    g.exit_status,
                    g.event_count,
                    alive,
                    self.child_names(g),
                    first.name if first else None,
                ),
                bad_lifetime=bl,
                good_lifetime=gl,
                good_still_running=alive,
                bad_status=b.exit_status,
                good_status=g.exit_status,
                bad_events=b.event_count,
                good_events=g.event_count,
                consequence_of=first.name if first else None,
            )
            if first is None:
                first = b
        for g, b in self.pairs:
            if b.key in self.early:
                continue
            ge, be = g.event_count, b.event_count
            if min(ge, be) >= 50 and (be * 4 < ge or ge * 4 < be):
                self.add(
                    "activity-differs",
                    W_ACTIVITY * self.scope(g, b),
                    g,
                    b,
                    f"{be} vs {ge} events",
                    [g.first_event],
                    [b.first_event],
                    R.activity_differs(b.name, be, ge),
                    bad_events=be,
                    good_events=ge,
                )

    def injector(self, b: Proc, tid: int | None) -> tuple[str | None, int | None]:
        """The process that created thread ``tid`` in ``b`` (a remote thread), and that Thread Create."""
        if tid is None:
            return None, None
        for ev, creator, new in b.thread_creates:
            if new != tid or b.key in self.b.tree.tid_owner.get(creator, set()):
                continue
            owners = self.b.tree.owner_of_thread(creator, exclude=b.key)
            if owners:
                return owners[0].name, ev
        return None, None

    def modules(self) -> None:
        both: dict[str, dict[str, Any]] = {}
        for g, b in self.pairs:
            gm, bm = self.g.modules(g), self.b.modules(b)
            sc = self.scope(g, b)
            only: list[tuple[Mod, bool, str | None, str | None]] = []
            for k, m in bm.items():
                tp, product, vendor = third_party(m.path, m.company)
                if k in gm:
                    if tp and sc == 1.0 and normalize_path(m.path) != normalize_path(b.image_path):
                        e = both.setdefault(
                            base_name(m.path).casefold(), {"m": m, "procs": [], "g": gm[k], "b": b, "gp": g}
                        )
                        if b.name not in e["procs"]:
                            e["procs"].append(b.name)
                    continue
                if not tp and sc < 1.0:
                    continue  # Windows' own DLLs in long-running processes: too noisy to list
                only.append((m, tp, product, vendor))
            # Windows DLLs pulled in on the same thread as a third-party module come with it: one difference.
            lead = {
                m.tid: m for m, tp, _p, _v in only if tp and m.tid is not None and m.load_event is not None
            }
            pulled: dict[int, list[str]] = defaultdict(list)
            for m, tp, _product, _vendor in only:
                if not tp and m.tid in lead and m.load_event is not None:
                    pulled[id(lead[m.tid])].append(m.path)
            for m, tp, product, vendor in only:
                if not tp and m.tid in lead and m.load_event is not None:
                    continue
                self.module_only_in_bad(g, b, m, tp, product, vendor, sc, pulled.get(id(m), []))
            for k, m in gm.items():
                if k in bm or sc < 1.0:
                    continue
                tp, product, vendor = third_party(m.path, m.company)
                if tp:
                    self.add(
                        "module-only-in-good",
                        W_MODULE_ONLY_GOOD * sc,
                        g,
                        b,
                        m.path,
                        [m.load_event],
                        [],
                        R.module_only_in_good(base_name(m.path), m.company, g.name),
                        module=m.path,
                        company=m.company,
                        product=product,
                    )
        for e in both.values():
            m = e["m"]
            self.add_common(
                "third-party-in-both",
                W_IN_BOTH,
                e["gp"],
                e["b"],
                m.path,
                [e["g"].load_event],
                [m.load_event],
                R.third_party_in_both(base_name(m.path), m.company, e["procs"]),
                module=m.path,
                company=m.company,
                processes=e["procs"],
            )

    def module_only_in_bad(
        self,
        g: Proc,
        b: Proc,
        m: Mod,
        tp: bool,
        product: str | None,
        vendor: str | None,
        sc: float,
        pulled: list[str],
    ) -> None:
        name = base_name(m.path)
        offset = self.b.seconds(b.start, m.load_time)
        injector, inj_event = self.injector(b, m.tid) if m.load_event is not None else (None, None)
        score = (W_MODULE_THIRD if tp else W_MODULE_MS) * sc
        elsewhere = name.casefold() in self.g.module_bases
        if elsewhere:
            score *= 0.4
        exit_after = None
        if b.key in self.early and b.end is not None:
            _, consequence = self.early[b.key]
            before = m.load_time is None or m.load_time <= b.end
            if before:
                primacy = 0.5 if consequence else 1.0
                score += (W_MODULE_EXIT if tp else W_MODULE_EXIT_MS) * primacy
                if m.load_time is not None:
                    exit_after = (b.end - m.load_time).total_seconds()
                    if exit_after <= 10 and tp:
                        score += W_MODULE_SOON
        if injector and tp:
            score += W_INJECTED
        gl, _alive = self.good_life(g)
        self.add(
            "module-only-in-bad",
            score,
            g,
            b,
            m.path,
            [(g.exit_event if g.exit_event is not None else g.last_event)] if exit_after is not None else [],
            [m.load_event, inj_event, b.exit_event if exit_after is not None else None],
            R.module_only_in_bad(
                name,
                m.company or vendor,
                m.description,
                product,
                b.name,
                offset,
                injector,
                exit_after,
                b.exit_status if exit_after is not None else None,
                gl if exit_after is not None else None,
                self.child_names(g) if exit_after is not None else [],
                elsewhere,
            ),
            module=m.path,
            company=m.company,
            description=m.description,
            version=m.version,
            product=product,
            vendor=vendor,
            third_party=tp,
            load_offset_ms=None if offset is None else round(offset * 1000, 3),
            injected_by=injector,
            exit_after_ms=None if exit_after is None else round(exit_after * 1000, 3),
            loaded_elsewhere_in_good=elsewhere,
            loaded_with=pulled,
        )

    def children(self) -> None:
        g2b, b2g = self.al.g2b, self.al.b2g
        for g, b in self.pairs:
            sc = self.scope(g, b)
            for c in g.children:
                if c.key in g2b or not _started(c):
                    continue  # matched, or ran before the capture (one table lists it, the other not)
                n = sum(1 for _ in c.descendants())
                early = b.key in self.early
                score = W_CHILD_MISSING * sc * (0.8 if early else 1.0)
                self.add(
                    "child-missing",
                    score,
                    g,
                    b,
                    c.image_path or c.name,
                    [c.create_event if c.create_event is not None else c.start_event],
                    [b.exit_event],
                    R.child_missing(g.name, c.name, self.g.seconds(g.start, c.start), n, early),
                    child=c.name,
                    child_image=c.image_path,
                    child_command_line=c.command_line,
                    descendants=n,
                )
            for c in b.children:
                if c.key in b2g or not _started(c):
                    continue
                self.add(
                    "child-only-in-bad",
                    W_CHILD_ONLY_BAD * sc,
                    g,
                    b,
                    c.image_path or c.name,
                    [],
                    [c.create_event if c.create_event is not None else c.start_event],
                    R.child_only_in_bad(b.name, c.name, self.b.seconds(b.start, c.start), c.command_line),
                    child=c.name,
                    child_image=c.image_path,
                    child_command_line=c.command_line,
                    exit_status=c.exit_status,
                )
        for run, matched, in_bad in ((self.b, b2g, True), (self.g, g2b, False)):
            for p in unmatched_roots(run.tree.procs.values(), matched):
                if p.parent is not None:
                    continue  # reported as child-missing / child-only-in-bad of the aligned parent
                if p.start_event is None and p.create_event is None:
                    continue  # ran before the capture: what else runs on a machine is not the install
                ev = p.start_event if p.start_event is not None else p.create_event
                self.add(
                    "process-only-in-bad" if in_bad else "process-missing",
                    W_PROCESS_ONE_SIDE,
                    None if in_bad else p,
                    p if in_bad else None,
                    p.image_path or p.name,
                    [] if in_bad else [ev],
                    [ev] if in_bad else [],
                    R.process_one_side(p.name, None, in_bad),
                    command_line=p.command_line,
                )

    def results(self) -> None:
        b2g = {b.key: g.key for g, b in self.pairs}
        by_key = {b.key: (g, b) for g, b in self.pairs}
        found = []
        for f in failed_operations(self.g, self.b, b2g, self.warnings):
            g, b = by_key[f.bad_process]
            gst = f.good
            st, first, count = f.status, f.first, f.count
            if st in gst:
                continue
            denied = st in ERROR_RESULTS
            other = gst.get(0) if 0 in gst else (min(gst.values()) if gst else None)
            other_st = 0 if 0 in gst else (next(iter(gst)) if gst else None)
            if denied:
                score = W_DENIED if gst else W_DENIED_ABSENT
            elif 0 in gst:
                score = W_FAILED
            else:
                continue
            score *= self.scope(g, b)
            bt = self.b.cap.datetime(first)
            if b.key in self.early and b.end is not None and bt is not None and bt <= b.end:
                score += 0.1
            bad_name = consts.result_name(st)
            good_name = consts.result_name(other_st) if other_st is not None else None
            found.append((score, g, b, f.operation, f.path, first, count, bad_name, good_name, other, bt))
        found.sort(key=lambda f: (-f[0], f[5]))
        if len(found) > MAX_RESULT_DIFFS:
            self.warnings.append(
                f"{len(found):,} operations fail only in the failing run; listed the first {MAX_RESULT_DIFFS}"
            )
        for score, g, b, op, path, first, count, bad_name, good_name, other, bt in found[:MAX_RESULT_DIFFS]:
            self.add(
                "result-differs",
                score,
                g,
                b,
                f"{op} {path}",
                [other],
                [first],
                R.result_differs(b.name, op, path, bad_name, count, self.b.seconds(b.start, bt), good_name),
                operation=op,
                path=path,
                bad_result=bad_name,
                good_result=good_name,
                count=count,
            )

    # --- first divergence -------------------------------------------------------------------------

    def divergences(self) -> None:
        touched: dict[tuple[int, int], float] = {}
        for d in self.out:
            if d.good_process is not None and d.bad_process is not None:
                k = (d.good_process, d.bad_process)
                touched[k] = max(touched.get(k, 0.0), d.score)
        ranked = sorted(touched.items(), key=lambda kv: -kv[1])[:MAX_DIVERGENCE_PAIRS]
        reported = {(d.bad_process, d.bad_events[0]) for d in self.out if d.bad_events}
        for (gk, bk), _ in ranked:
            g, b = self.g.tree.procs[gk], self.b.tree.procs[bk]
            if g.event_count == 0 or b.event_count == 0 or self.scope(g, b) < 1.0:
                continue  # long-running background processes differ with what the user did: not telling
            G, _gc = sequence(self.g, g)
            B, bc = sequence(self.b, b)
            hit = diverge(G, B, bc)
            if hit is None:
                continue
            bi, gj, stopped = hit
            bev = B[bi] if bi is not None else None
            gev = G[gj] if gj is not None else None
            at = bev[1] if bev else (B[-1][1] if B else None)
            if not stopped and (bk, at) in reported:
                continue  # the divergence is a difference already listed (a denied write, a foreign DLL)
            offset = self.b.seconds(b.start, self.b.cap.datetime(at) if at is not None else None)
            bad_step = bev[2] if bev and not stopped else None
            good_step = gev[2] if gev else None
            if bad_step is None and good_step is None:
                continue
            zh = R.first_divergence(
                b.name, offset, bev[3] if bev and not stopped else None, gev[3] if gev else None, stopped
            )[1]
            self.add(
                "first-divergence",
                W_DIVERGENCE * self.scope(g, b),
                g,
                b,
                bad_step or good_step or "",
                [gev[1] if gev else None],
                [at],
                (R.first_divergence(b.name, offset, bad_step, good_step, stopped)[0], zh),
                bad_step=bad_step,
                good_step=good_step,
                bad_stopped=stopped,
                offset_ms=None if offset is None else round(offset * 1000, 3),
            )


def compare(good: Any, bad: Any) -> DiffResult:
    """Diff a capture of the install on a good machine against one from the failing machine.

    Args:
        good: a :class:`culprit.analysis.facts.CaptureRef` or an open :class:`culprit.parsers.procmon.Capture`
            of the run where the install works.
        bad: the same for the failing run.

    Returns:
        The ranked differences, the process alignment and any warnings (see :class:`DiffResult`).
    """
    t0 = _time.perf_counter()
    gref, bref = as_ref(good, "good"), as_ref(bad, "bad")
    loads_only = not (has_module_lists(gref.cap) and has_module_lists(bref.cap))
    grun = Run(gref, ProcessTree(gref), loads_only)
    brun = Run(bref, ProcessTree(bref), loads_only)
    t_tree = _time.perf_counter()
    al = align(grun.tree, brun.tree)
    d = _Diff(grun, brun, al)
    d.lifetimes()
    d.modules()
    d.children()
    d.results()
    d.divergences()
    order = {k: n for n, k in enumerate(KINDS)}
    diffs = sorted(
        d.out,
        key=lambda x: (
            -round(x.score, 6),
            order.get(x.kind, 99),
            x.bad_events[0] if x.bad_events else 1 << 62,
        ),
    )
    procs = tuple(
        AlignedProcess(
            _key(gp, bp),
            grun.side(gp) if gp else None,
            brun.side(bp) if bp else None,
            how,
        )
        for gp, bp, how in al.pairs
    )
    warnings = [f"{gref.artifact}: {w}" for w in getattr(gref.cap, "warnings", ())]
    warnings += [f"{bref.artifact}: {w}" for w in getattr(bref.cap, "warnings", ())]
    warnings += d.warnings
    for ref in (gref, bref):
        damaged = getattr(ref.cap, "damaged", {})
        if damaged:
            i, why = next(iter(damaged.items()))
            warnings.append(
                f"{ref.artifact}: {len(damaged)} damaged event(s) read as empty (first: event {i}: {why})"
            )
    if not d.pairs and (len(gref.cap) or len(bref.cap)):
        warnings.append(
            "no process of one capture matches a process of the other (a damaged process table, or captures "
            "of different installs): nothing could be compared"
        )
    swapped = [ap for ap in procs if ap.good and ap.bad and ap.good.exit_status not in (None, 0)
               and ap.bad.exit_status == 0 and "msiexec" not in ap.key]
    if swapped and all(not (ap.bad.exit_status not in (None, 0) and ap.good.exit_status == 0)
                       for ap in procs if ap.good and ap.bad):
        ap = swapped[0]
        warnings.append(
            f"GOOD and BAD look swapped: {ap.good.name} exits {ap.good.exit_status} in the 'good' run and 0 in the "
            "'failing' one (culprit diff takes the working run first)"
        )
    stats = {
        "good_events": len(gref.cap),
        "bad_events": len(bref.cap),
        "good_processes": len(grun.tree.procs),
        "bad_processes": len(brun.tree.procs),
        "aligned": len(d.pairs),
        "seconds": round(_time.perf_counter() - t0, 3),
        "seconds_trees": round(t_tree - t0, 3),
        "duration_good": _span(gref.cap),
        "duration_bad": _span(bref.cap),
    }
    return DiffResult(
        gref.artifact,
        bref.artifact,
        tuple(diffs),
        procs,
        tuple(warnings),
        stats,
        gref,
        bref,
        common=tuple(d.common),
    )


def _started(p: Proc) -> bool:
    return p.start_event is not None or p.create_event is not None


def _key(g: Proc | None, b: Proc | None) -> str:
    p = b or g
    return image_key(p.image_path, p.name) if p else ""


def _span(cap: Any) -> float | None:
    if not len(cap):
        return None
    t = np.asarray(cap.time)
    return round(float(int(t.max()) - int(t.min())) / TICKS_PER_SECOND, 3)
