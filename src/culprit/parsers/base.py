"""What every parser is and what it gets: the Parser base class, Source and ParseContext.

A parser is one module in ``culprit.parsers`` with one class decorated by ``@register``.
It says how sure it is that a file is its format (``sniff``) and turns the file into a
stream of :class:`culprit.model.Event` (``parse``). It never prints; a damaged record is
reported with ``ctx.warn()`` and parsing goes on.

Adding a format = this module + its test + its fixture. Nothing else to edit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, ClassVar, TypedDict

from culprit import textio
from culprit.errors import ErrorPolicy, ParseError
from culprit.model import Event, Warning_

MAX_WARNINGS = 200  # kept per artifact; the count goes on


class EventTimes(TypedDict):
    """The three time fields of an :class:`Event` read from a log in local time."""

    time: datetime | None
    local_time: datetime | None
    utc_offset: int | None


@dataclass
class Source:
    """One input file as a parser sees it.

    Attributes:
        path: the real file on disk (extracted if it came from an archive).
        name: the display path used in every Origin (``bad/Windows/Logs/CBS/CBS.log``).
        locale: the machine's locale if the bundle says it, for the ANSI code page.
    """

    path: Path
    name: str
    locale: str | None = None
    code_page: int | str | None = None  # the machine's ANSI code page, when the bundle's manifest says it

    @cached_property
    def size(self) -> int:
        return self.path.stat().st_size

    @cached_property
    def head(self) -> bytes:
        with self.path.open("rb") as fp:
            return fp.read(textio.HEAD_BYTES)

    @cached_property
    def is_text(self) -> bool:
        return not textio.looks_binary(self.head)

    @cached_property
    def encoding(self) -> textio.Encoding:
        return textio.sniff_encoding(self.head, self.locale, self.code_page)

    @cached_property
    def text_head(self) -> str | None:
        """The decoded first 64 KiB (None for binary files): what text parsers sniff."""
        if not self.is_text:
            return None
        return textio.decode(self.head, self.encoding)

    @cached_property
    def sha256(self) -> str:
        h = hashlib.sha256()
        with self.path.open("rb") as fp:
            while chunk := fp.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()

    @property
    def filename(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    def lines(self, ctx: ParseContext) -> Iterator[tuple[int, int, str]]:
        """Decoded lines ``(line_number, byte_offset, text)``; decoding problems become warnings."""
        with self.open() as fp:
            yield from textio.iter_lines(fp, self.encoding, lambda m, n: ctx.warn(m, line=n))


@dataclass
class ParseContext:
    """What a parser may know about the bundle, and where it reports problems.

    Attributes:
        artifact: display path of the artifact being parsed.
        utc_offset: minutes east of UTC of the machine's local time, or None when unknown
            (the pipeline then assumes UTC and says so once for the bundle).
        locale: the machine's locale if known (``zh-CN``).
        policy: WARN (default) or RAISE on damaged records.
    """

    artifact: str
    utc_offset: int | None = None
    locale: str | None = None
    policy: ErrorPolicy = ErrorPolicy.WARN
    warnings: list[Warning_] = field(default_factory=list)
    warning_count: int = 0

    def warn(self, message: str, line: int | None = None) -> None:
        """Report a damaged or unexpected record; parsing continues (unless policy RAISE)."""
        if self.policy is ErrorPolicy.RAISE:
            where = f":{line}" if line else ""
            raise ParseError(f"{self.artifact}{where}: {message}")
        self.warning_count += 1
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(Warning_(self.artifact, message, line))
        elif len(self.warnings) == MAX_WARNINGS:
            self.warnings.append(Warning_(self.artifact, "further warnings not listed (see the count)"))

    def to_utc(self, local: datetime | None) -> datetime | None:
        """Turn a naive local time read from a log into aware UTC with the bundle's offset."""
        if local is None:
            return None
        return (local - timedelta(minutes=self.utc_offset or 0)).replace(tzinfo=UTC)

    def times(self, local: datetime | None) -> EventTimes:
        """An event's time fields for a local time read from a log: ``Event(..., **ctx.times(local))``."""
        offset = self.utc_offset if local else None
        return EventTimes(time=self.to_utc(local), local_time=local, utc_offset=offset)


class Parser:
    """Base class of every parser. Subclasses set ``name`` and implement the two methods.

    Class attributes:
        name: short format name, also the artifact ``kind`` (``cbs``, ``setupapi``, ``pml``).
        description: one line for ``culprit formats`` and docs.
        local_time: True when the format's times are local (needs the bundle's offset).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    local_time: ClassVar[bool] = False

    @classmethod
    def sniff(cls, source: Source) -> float:
        """How sure this parser is that ``source`` is its format, 0.0 (no) to 1.0 (certain).

        Look at content first (``source.text_head`` / ``source.head``); the file name may
        add confidence but must not be the only reason for a high score.
        """
        raise NotImplementedError

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Event]:
        """Yield the events of ``source`` in file order."""
        raise NotImplementedError

    @classmethod
    def utc_offsets(cls, source: Source) -> Iterator[int]:
        """Yield UTC offsets (minutes east) that the file itself proves, if any.

        CBS pairs a local stamp with a CSI UTC stamp on one line; ReportingEvents.log writes
        its offset. The pipeline uses these to convert every local-time log in the bundle.
        """
        return iter(())
