"""Errors culprit raises on purpose, each with the exit code the CLI turns it into."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    NOTHING_USABLE = 3


class CulpritError(Exception):
    """Base class: a clear message for a person, and an exit code."""

    exit_code: ExitCode = ExitCode.FAILED


class UsageError(CulpritError):
    exit_code = ExitCode.USAGE


class InputError(CulpritError):
    """The input cannot be used at all (missing, unreadable, nothing we know how to read)."""

    exit_code = ExitCode.NOTHING_USABLE


class HostileArchiveError(InputError):
    """An archive tries something a log bundle never needs: traversal, links, bombs."""


class ParseError(CulpritError):
    """Raised by a parser only when ErrorPolicy.RAISE is in force; normally a warning."""


class ErrorPolicy(enum.Enum):
    """What a damaged record does: become a warning (default) or stop the parse."""

    WARN = "warn"
    RAISE = "raise"
