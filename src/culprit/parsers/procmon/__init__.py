"""Process Monitor support: PML captures and Procmon CSV exports as one columnar capture API.

Formats: Sysinternals Process Monitor backing files (``*.PML``, version 9, 32- and 64-bit; binary,
UTF-16LE strings, UTC FILETIMEs) and Procmon's CSV export (UTF-8 with BOM, every field quoted, times in the
exporting machine's zone and locale). Users save both wherever they like; bundles usually carry them under
``procmon/``.

Public API (used by the analysis and by the good-vs-bad diff)::

    from culprit.parsers.procmon import open_capture
    with open_capture("edge_install.PML") as cap:      # or a .CSV export: same shape
        len(cap)                                        # number of events
        cap.processes                                   # [ProcessRecord(index, pid, parent_pid, name,
                                                        #   image_path, command_line, company, version,
                                                        #   description, user, integrity, is64, start, end,
                                                        #   modules=[Module(base, size, path, version,
                                                        #   company, description)])]
        cap.time, cap.pid, cap.tid, cap.process_index   # numpy columns (time: FILETIME ticks, UTC)
        cap.event_class, cap.operation, cap.result      # class 1..6, operation names, NTSTATUS
        cap.duration                                    # 100 ns ticks
        cap.event(i)                                    # culprit.model.Event, kind "procmon:event"
        cap.where("result = 'ACCESS DENIED' and path like '%Services%'")   # -> numpy index array
        cap.stack(i)                                    # ["ntoskrnl.exe+0x1a2b3", "krnlmgr.sys+0x1f00"]
        cap.warnings                                    # what could not be read

    from culprit.parsers.procmon import bulk
    with open_capture("edge_install.PML") as cap:      # PML: every event at once, as Arrow
        for batch in bulk.batches(cap):                 # record batches (time, process_name, pid, tid,
            ...                                         #   operation, path, result, detail, duration...)

Parsers registered: ``procmon`` (PML, sniffed on ``PML_``) and ``procmon-csv`` (header row with Procmon
column names). Event fields are documented in ``docs/events/procmon.md``.

References: ``shared/docs/formats.md`` §7; eronnen/procmon-parser (format facts, MIT).
"""

from __future__ import annotations

from pathlib import Path

from culprit.parsers.procmon.capture import Capture
from culprit.parsers.procmon.structs import Module, PmlError, ProcessRecord

__all__ = ["Capture", "Module", "PmlError", "ProcessRecord", "open_capture"]


def open_capture(
    path: str | Path, artifact: str | None = None, utc_offset: int | None = None, tz_minutes: int = 0
) -> Capture:
    """Open a PML capture or a Procmon CSV export (chosen by content, not by name).

    Args:
        path: the file.
        artifact: display name for event origins (default: the file name).
        utc_offset: for CSV exports, the exporting machine's offset in minutes east of UTC (default 0).
        tz_minutes: for PML, the zone used for dates printed inside Detail text (default UTC).

    Raises:
        PmlError: the file is neither a PML capture nor a Procmon CSV export.
    """
    p = Path(path)
    with p.open("rb") as fp:
        head = fp.read(4096)
    if head[:4] == b"PML_":
        from culprit.parsers.procmon.pml import PmlCapture

        return PmlCapture(p, artifact, tz_minutes=tz_minutes)
    from culprit.parsers.procmon.csvexport import CsvCapture, looks_like_procmon_csv

    if looks_like_procmon_csv(head):
        return CsvCapture(p, artifact, utc_offset=utc_offset)
    raise PmlError(f"{p.name}: neither a Process Monitor capture (PML_) nor a Procmon CSV export")
