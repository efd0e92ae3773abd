"""Operations that fail in the failing run, with what the good run got for the same operation.

Format: the Result, Operation and Path columns of two Procmon captures (PML or CSV export). Results are
NTSTATUS values; a failure is a status with both top bits set (``0xC0000022`` ACCESS DENIED) that is not
one of the probes Procmon users read as noise (NAME NOT FOUND, BUFFER OVERFLOW... see
:data:`culprit.parsers.procmon.capture.BENIGN_RESULTS`).

Only the failing run's failed events are decoded (their paths), and in the good run only the events of
the same (aligned process, operation) pairs, so a 1M-event capture decodes a small part of its paths.
Operations are the same when process, operation and normalized path (:mod:`culprit.diff.normalize`) are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from culprit.diff.normalize import normalize_path
from culprit.diff.runs import Run
from culprit.parsers.procmon.capture import BENIGN_RESULTS

MAX_BAD_DECODES = 200_000  # failed events read in the failing run
MAX_GOOD_DECODES = 600_000  # events read in the good run
_BENIGN = np.array(sorted(BENIGN_RESULTS), dtype=np.uint32)


@dataclass
class Failed:
    """One operation of one process that failed with one status in the failing run.

    Attributes:
        bad_process: process index in the failing capture.
        operation: Procmon operation name.
        path: the path as the first failing event shows it.
        status: the NTSTATUS it failed with.
        first: index of its first failing event.
        count: how many events failed so.
        good: what the aligned good process got for the same operation: status → first event index
            (empty when the good run never does it).
    """

    bad_process: int
    operation: str
    path: str
    status: int
    first: int
    count: int
    good: dict[int, int] = field(default_factory=dict)


def failed_operations(good: Run, bad: Run, b2g: dict[int, int], warnings: list[str]) -> list[Failed]:
    """The failing run's failed operations in aligned processes, each with the good run's results.

    Args:
        good: the good side.
        bad: the failing side.
        b2g: aligned processes, failing process index → good process index.
        warnings: receives a line when a budget cuts the work short.
    """
    bcap, gcap = bad.cap, good.cap
    if not b2g or not len(bcap):
        return []
    res = np.asarray(bcap.result)
    pidx = np.asarray(bcap.process_index)
    mask = ((res & 0xC0000000) == 0xC0000000) & ~np.isin(res, _BENIGN)
    mask &= np.isin(pidx, np.fromiter(b2g, dtype=np.int64, count=len(b2g)))
    idx = np.nonzero(mask)[0]
    if len(idx) > MAX_BAD_DECODES:
        warnings.append(
            f"{bad.ref.artifact}: {len(idx):,} failed operations; compared the first {MAX_BAD_DECODES:,}"
        )
        idx = idx[:MAX_BAD_DECODES]
    bops = bcap.operation
    groups: dict[tuple[int, str, str], dict[int, Failed]] = defaultdict(dict)
    for i in idx.tolist():
        path = bcap.path_of(i)
        key = (int(pidx[i]), str(bops[i]), normalize_path(path))
        st = int(res[i])
        f = groups[key].get(st)
        if f is None:
            f = groups[key][st] = Failed(key[0], key[1], path, st, i, 0)
        f.count += 1
    if not groups:
        return []
    # The good run's results for the same (process, operation): decoded only for those combinations.
    want: dict[tuple[int, str], set[str]] = defaultdict(set)
    for bk, op, npath in groups:
        want[(b2g[bk], op)].add(npath)
    gops = np.asarray(gcap.operation_id)
    names = list(gcap.operation_names)
    name_ids: dict[str, list[int]] = defaultdict(list)
    for n, nm in enumerate(names):
        name_ids[nm].append(n)
    codes = np.asarray(gcap.process_index).astype(np.int64) * 65536 + gops.astype(np.int64)
    wanted = [gk * 65536 + oid for gk, op in want for oid in name_ids.get(op, ())]
    gidx = (
        np.nonzero(np.isin(codes, np.array(wanted, dtype=np.int64)))[0] if wanted else np.zeros(0, np.int64)
    )
    if len(gidx) > MAX_GOOD_DECODES:
        warnings.append(
            f"{good.ref.artifact}: {len(gidx):,} operations to compare; read the first {MAX_GOOD_DECODES:,}"
        )
        gidx = gidx[:MAX_GOOD_DECODES]
    gres = np.asarray(gcap.result)
    gpidx = np.asarray(gcap.process_index)
    seen: dict[tuple[int, str, str], dict[int, int]] = defaultdict(dict)
    for i in gidx.tolist():
        op = names[int(gops[i])] if int(gops[i]) < len(names) else ""
        npath = normalize_path(gcap.path_of(i))
        gk = int(gpidx[i])
        if npath in want.get((gk, op), ()):
            seen[(gk, op, npath)].setdefault(int(gres[i]), i)
    out = []
    for (bk, op, npath), by_status in groups.items():
        for f in by_status.values():
            f.good = dict(seen.get((b2g[bk], op, npath), {}))
            out.append(f)
    return out
