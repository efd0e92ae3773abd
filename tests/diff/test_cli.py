"""``culprit diff GOOD BAD`` as users run it: files, bundles, text/json/html, damaged input, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from culprit.cli import main
from tests.conftest import case_path
from tests.diff._captures import install_run

OTHER = {"pid_base": 5000, "temp": "MSI8F3A", "eu": "EU5A1C", "user": "bob"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "culprit", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path]:
    g = install_run(tmp_path / "good.pml")
    b = install_run(tmp_path / "bad.pml", **OTHER, hook_only=True, early_exit=True)
    return g, b


def test_text_output_ranks_the_foreign_dll_first(pair, capsys) -> None:
    assert main(["diff", str(pair[0]), str(pair[1])]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"Good-vs-bad diff: good run {pair[0]}  vs  failing run {pair[1]}"
    first = next(i for i, line in enumerate(lines) if line.startswith(" 1. "))
    assert lines[first] == " 1. [0.95] module-only-in-bad  MSI8F3A.tmp  (pid 1008/5008)"
    assert lines[first + 2] == "    good run: not loaded"
    assert lines[first + 3].startswith(
        r"    failing run: C:\Program Files\Fabrikam\fbhook.dll (Fabrikam Security Ltd) +10 ms [#"
    )
    assert " 2. [0.85] early-exit  MSI8F3A.tmp  (pid 1008/5008)" in lines


def test_text_in_chinese(pair, capsys) -> None:
    assert main(["diff", str(pair[0]), str(pair[1]), "--lang", "zh", "--limit", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"正常/失败运行对比: 正常的运行 {pair[0]}  vs  失败的运行 {pair[1]}"
    assert lines[3] == " 1. [0.95] module-only-in-bad  MSI8F3A.tmp  (pid 1008/5008)"
    assert lines[4].startswith(
        "    仅在失败的运行中，`fbhook.dll`（Fabrikam Security Ltd，Fabrikam hook）被加载到 `MSI8F3A.tmp`"
    )
    assert lines[5] == "    正常的运行: 未加载"
    assert "安装相关进程（已对齐）" in lines


def test_json_and_zh(pair, tmp_path: Path) -> None:
    out = tmp_path / "diff.json"
    assert main(["diff", str(pair[0]), str(pair[1]), "-f", "json", "-o", str(out), "--lang", "zh"]) == 0
    d = json.loads(out.read_text(encoding="utf-8"))
    assert [x["kind"] for x in d["differences"][:2]] == ["module-only-in-bad", "early-exit"]
    assert d["differences"][0]["reading_zh"].startswith("仅在失败的运行中，`fbhook.dll`")
    # the good run's counterpart is the custom action's normal exit
    assert d["differences"][0]["good"] == {"process_index": 3, "pid": 1008, "events": [22]}


def test_html_is_side_by_side_and_escapes_log_text(tmp_path: Path) -> None:
    g = install_run(tmp_path / "good.pml", name_suffix="<script>alert(1)</script>")
    b = install_run(tmp_path / "bad.pml", **OTHER, denied=True, name_suffix="<script>alert(1)</script>")
    out = tmp_path / "diff.html"
    assert main(["diff", str(g), str(b), "-f", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "MSI8F3A.tmp&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<td class="good"><code>SUCCESS [#' in page
    assert '<td class="bad"><code>ACCESS DENIED [#' in page


def test_bundles_of_the_case(tmp_path: Path) -> None:
    good = case_path("edge-injected-dll", "good")
    bad = case_path("edge-injected-dll", "bad")
    r = run_cli("diff", str(good), str(bad), "-f", "json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["good"] == "good/procmon/edge_install.PML" and d["bad"] == "bad/procmon/edge_install.PML"
    top = d["differences"][0]
    assert (top["kind"], top["process"], top["bad"]["events"]) == (
        "module-only-in-bad",
        "MicrosoftEdgeUpdate.exe",
        [1792, 1791, 1903],
    )
    assert d["differences"][1]["kind"] == "early-exit"


def test_damaged_capture_gives_warnings_not_a_traceback(pair, tmp_path: Path) -> None:
    data = pair[1].read_bytes()
    cut = tmp_path / "cut.pml"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    r = run_cli("diff", str(pair[0]), str(cut))
    assert r.returncode == 0
    assert "Traceback" not in r.stderr
    assert "file truncated?" in r.stdout
    assert "nothing could be compared" in r.stdout


def test_unusable_inputs_exit_3(pair, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pml"
    junk.write_bytes(b"PML_\x09\x00\x00\x00" + b"\xff" * 500)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n", encoding="utf-8")
    for args in (
        (str(pair[0]), str(junk)),
        (str(pair[0]), str(text)),
        (str(pair[0]), str(tmp_path / "none")),
    ):
        r = run_cli("diff", *args)
        assert r.returncode == 3, (args, r.stderr)
        assert "Traceback" not in r.stderr
        assert r.stderr.startswith("culprit: ")
