"""culprit: why a Windows patch or installer failed on a managed endpoint, and what to allow.

The small public API::

    from culprit import load, analyze
    with load(["bundle/"]) as ws:
        result = analyze(ws)
"""

from __future__ import annotations

__version__ = "0.1.0"

from culprit.pipeline import Workspace, load

__all__ = ["Workspace", "__version__", "load"]
