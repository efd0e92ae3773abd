"""The ``culprit`` command: argparse in, pipeline call, renderer out. No logic lives here.

Each sub-command is a module in ``culprit.commands`` with ``add_parser(subparsers)`` and
``run(args) -> int``; this file only finds them and maps errors to exit codes
(0 ran, 2 usage error, 3 nothing usable in the input).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from culprit import __version__, commands
from culprit.errors import CulpritError, ExitCode


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(ExitCode.USAGE)


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(
        prog="culprit",
        description="Find out why a Windows patch or installer failed, what blocked it, and what to allow.",
    )
    ap.add_argument("--version", action="version", version=f"culprit {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    mods = sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))
    for name in mods:
        mod = importlib.import_module(f"culprit.commands.{name}")
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return ap


def _tolerant_stdout() -> None:
    """A console or file that cannot show every character gets an escape, never a traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--tz -05:00`` as the help writes it: argparse would take ``-05:00`` for an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--tz" and i + 1 < len(argv) and argv[i + 1][:1] == "-" and argv[i + 1][1:2].isdigit():
            out.append(f"--tz={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    _tolerant_stdout()
    ap = build_parser()
    args = ap.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if not getattr(args, "_run", None):
        ap.print_help(sys.stderr)
        return ExitCode.USAGE
    try:
        return int(args._run(args))
    except CulpritError as e:
        print(f"culprit: {e}", file=sys.stderr)
        return int(e.exit_code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:  # the output could not be written (disk full, permissions, a vanished folder)
        print(f"culprit: cannot write: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""),
              file=sys.stderr)
        return int(ExitCode.FAILED)


if __name__ == "__main__":
    raise SystemExit(main())
