"""Fleet mode: many endpoints' bundles analyzed on Dask, clustered by root-cause signature.

``culprit fleet PATHS... [--scheduler tcp://HOST:PORT] [--workers N] -o OUTDIR`` (see docs/fleet.md).
Modules, one job each:

- :mod:`culprit.fleet.bundles` — PATHS → bundle paths; the bundle content hash used for resume.
- :mod:`culprit.fleet.endpoint` — one bundle → one row (runs on a Dask worker; never raises).
- :mod:`culprit.fleet.identity` — host, OS build, locale from manifest.json or the logs.
- :mod:`culprit.fleet.signature` — the stable root-cause signature of an analysis.
- :mod:`culprit.fleet.runner` — LocalCluster or an existing scheduler; journal and resume.
- :mod:`culprit.fleet.output` — endpoints.parquet, clusters.json, summary md/html in en and zh.

Dask and pyarrow are the ``fleet`` extra (``pip install 'culprit[fleet]'``); they are imported only
when a fleet runs.
"""

from __future__ import annotations

from culprit.fleet.signature import Signature, normalize, signature_of

__all__ = ["Signature", "normalize", "signature_of"]
