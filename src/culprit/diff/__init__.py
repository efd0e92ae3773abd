"""Good-vs-bad diff: a Procmon capture of an install on a machine where it works vs one where it fails.

Format: two Process Monitor captures (``*.PML``, or Procmon's CSV export) of the same install, read with
:func:`culprit.parsers.procmon.open_capture`; bundles usually carry them under ``procmon/``.

Public API (the analysis calls it when ``analyze --good`` is given; ``culprit diff GOOD BAD`` prints it)::

    from culprit.diff import compare
    result = compare(good, bad)       # each a CaptureRef (culprit.analysis.facts) or an open Capture
                                      # (culprit.diff.diff is the same function)
    result.differences                # ranked tuple of Difference, most telling first
    d = result.differences[0]
    d.kind                            # module-only-in-bad | early-exit | result-differs | child-missing |
                                      # child-only-in-bad | exit-differs | first-divergence |
                                      # process-missing | process-only-in-bad | module-only-in-good |
                                      # activity-differs
    d.score                           # 0..1
    d.process, d.subject              # "MicrosoftEdgeUpdate.exe", "C:\\Program Files (x86)\\TMS\\schk.dll"
    d.good_events, d.bad_events       # event indexes in each capture (evidence)
    d.good_process, d.bad_process     # process indexes (Capture.processes[i]); d.good_pid, d.bad_pid
    d.reading, d.reading_zh           # one-sentence reading, English and Chinese
    d.details                         # kind-specific: company, load_offset_ms, exit_after_ms, injected_by...
    result.common                     # third-party modules loaded in both runs ("third-party-in-both"):
                                      # shown, never ranked among the differences
    result.processes                  # AlignedProcess(key, good: ProcSide, bad: ProcSide, how)
    result.steps(d, lang="en")        # culprit.model.Step list citing d in both captures (and CSV twins)
    result.to_dict()                  # JSON (schema "culprit.diff/1")

Import it inside the analysis pass that uses it (``culprit.diff`` imports ``culprit.analysis.facts`` and
``culprit.analysis.proctree``, so a top-level import from ``culprit.analysis`` would be circular).

Rendering: :mod:`culprit.diff.render` (text, json, side-by-side html). Opening the two sides from files or
bundles: :func:`culprit.diff.inputs.open_pair`. How processes are aligned, what is normalized and how
differences are scored: ``docs/diff.md``.
"""

from __future__ import annotations

from culprit.diff.engine import compare
from culprit.diff.model import KINDS, AlignedProcess, Difference, DiffResult, ProcSide

diff = compare  # the functional name (``culprit.diff.diff(good, bad)``), as the workbench looks it up

__all__ = ["KINDS", "AlignedProcess", "DiffResult", "Difference", "ProcSide", "compare", "diff"]
