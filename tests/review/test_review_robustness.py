"""Review findings: tracebacks and unsafe output handling a support engineer hits in normal use.

Each test pins one finding of the review: a strict xfail while the defect is open, a plain
regression test (the finding kept as its docstring) once it is fixed.
"""

from __future__ import annotations

import contextlib
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.review._helpers import KB, ROOT, run_cli


def test_output_to_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit analyze examples/kb4474419-registry-denied/bad -o
    /tmp` (an existing folder as -o) ends in an IsADirectoryError traceback from
    commands/_common.output(); it should be a usage error (exit 2) saying -o names a folder, not a file
    """
    r = run_cli("analyze", str(KB / "bad"), "-o", str(tmp_path))
    assert "Traceback" not in r.stderr
    assert r.returncode == 2


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_disk_full_on_output_is_a_clean_error() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit analyze examples/kb4474419-registry-denied/bad -o
    /dev/full` (a full disk) ends in an OSError [Errno 28] traceback; a write error should be a
    one-line 'culprit: cannot write ...' message with exit 1
    """
    r = run_cli("analyze", str(KB / "bad"), "-o", "/dev/full")
    assert "Traceback" not in r.stderr
    assert r.returncode == 1
    assert r.stderr.startswith("culprit:")


def test_text_report_survives_a_non_utf8_stdout() -> None:
    """Review finding fixed in 80a8c7b; it was: with a non-UTF-8 standard output
    (PYTHONIOENCODING=cp1252, as when an English Windows redirects `culprit analyze ... > out.txt`),
    the text report of the KB4474419 example (vendor 北京瀚海信安科技有限公司) died with a
    UnicodeEncodeError traceback in report/text.py; it should still write the report (replacing what
    the code page cannot show) and exit 0
    """
    r = run_cli("analyze", str(KB / "bad"), env={"PYTHONIOENCODING": "cp1252"})
    assert "Traceback" not in r.stderr
    assert r.returncode == 0
    assert "ANSWER" in r.stdout


def test_whois_survives_a_non_utf8_stdout() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit whois krnlmgr.sys` with a non-UTF-8 stdout
    (PYTHONIOENCODING=ascii) dies with a UnicodeEncodeError traceback in commands/whois; it should
    print what it can and exit 0
    """
    r = run_cli("whois", "krnlmgr.sys", env={"PYTHONIOENCODING": "ascii"})
    assert "Traceback" not in r.stderr
    assert r.returncode == 0


def _run_on_tty(*args: str) -> tuple[int, bytes]:
    """Run the CLI with standard output on a pseudo-terminal; return (exit code, bytes shown)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(
            [sys.executable, "-m", "culprit", *args],
            stdout=slave,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,
        )
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        return p.wait(timeout=120), shown
    finally:
        os.close(master)


def test_analyze_pdf_refuses_a_terminal() -> None:
    """Review finding fixed in 80a8c7b; it was: `culprit analyze examples/kb4474419-registry-denied/bad -f
    pdf` with stdout on a terminal dumps the binary PDF onto the terminal; `culprit report -f pdf`
    already refuses this with 'a PDF is binary: write it to a file with -o FILE' (exit 2) and analyze
    should do the same
    """
    code, shown = _run_on_tty("analyze", str(KB / "bad"), "-f", "pdf")
    assert b"%PDF" not in shown
    assert code == 2


def test_a_pipe_is_not_called_an_empty_file() -> None:
    """Review finding fixed in 3c3e69b..3fe4d39; it was: `culprit inspect <(cat CBS.log)` (a pipe, as with
    bash process substitution or `<(unzip -p bundle.zip CBS.log)`) answers 'nothing usable in the
    input: 1 file(s): empty file' (exit 3) although the pipe carries the whole log: the size of a pipe
    is 0, not its length. It should read the pipe, or say plainly that pipes are not supported - never
    'empty file'
    """
    data = (KB / "bad" / "Windows" / "Logs" / "CBS" / "CBS.log").read_bytes()
    r_fd, w_fd = os.pipe()
    try:
        p = subprocess.Popen(
            [sys.executable, "-m", "culprit", "inspect", f"/dev/fd/{r_fd}", "--limit", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(r_fd,),
            cwd=ROOT,
        )
        os.close(r_fd)
        r_fd = -1
        with contextlib.suppress(BrokenPipeError):
            os.write(w_fd, data)  # 26 KB: fits the pipe's buffer, so this never blocks
        os.close(w_fd)
        w_fd = -1
        _, err = p.communicate(timeout=120)
    finally:
        for fd in (r_fd, w_fd):
            if fd >= 0:
                os.close(fd)
    assert "empty file" not in err.decode("utf-8", "replace")
