"""A one-line progress display on a terminal's standard error; silent when stderr is not a terminal."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class Progress:
    """``with Progress(total, "reading") as p: p.step(label)`` — redraws at most 10 times a second."""

    def __init__(self, total: int, what: str = "reading", stream: TextIO | None = None, force: bool = False) -> None:
        self.total = max(total, 1)
        self.what = what
        self.stream = stream or sys.stderr
        self.enabled = force or (hasattr(self.stream, "isatty") and self.stream.isatty())
        self.done = 0
        self._last = 0.0

    def __enter__(self) -> Progress:
        return self

    def step(self, label: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and self.done < self.total:
            return
        self._last = now
        width = shutil.get_terminal_size((80, 20)).columns
        bar_w = 20
        filled = int(bar_w * self.done / self.total)
        head = f"{self.what} [{'#' * filled}{'.' * (bar_w - filled)}] {self.done}/{self.total} "
        room = max(width - len(head) - 1, 0)
        tail = label if len(label) <= room else "…" + label[-(room - 1):] if room > 1 else ""
        self.stream.write("\r" + (head + tail).ljust(width - 1))
        self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (shutil.get_terminal_size((80, 20)).columns - 1) + "\r")
            self.stream.flush()
