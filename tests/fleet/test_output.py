"""Parquet rows, clusters and the zh/en summaries."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from culprit.fleet.endpoint import empty_row, error_row
from culprit.fleet.output import clusters, merge_allow, read_parquet, render_html, render_markdown, write_all

pq = pytest.importorskip("pyarrow.parquet", reason="the fleet extra (pyarrow) is not installed")

ALLOW = [
    {
        "process": r"C:\Windows\servicing\TrustedInstaller.exe",
        "registry_keys": [r"HKLM\SYSTEM\CurrentControlSet\Services\AmdK8"],
        "files": [r"C:\Windows\System32\drivers\amdk8.sys"],
    }
]


def _row(
    i: int,
    sig: str = "s-aaaaaaaaaaaa",
    conf: float | None = 0.9,
    host: str | None = None,
    allow: list | None = None,
    outcome: str = "explained",
) -> dict:
    r = empty_row(f"/fleet/b{i}")
    r.update(
        sha256=f"{i:064x}",
        host=host or f"WS-{i:03d}",
        os_build="7601",
        locale="zh-CN",
        outcome=outcome,
        signature=sig,
        signature_text=f"text-{sig}",
        failure="KB4474419",
        failure_code="0x80070005",
        finding="registry-write-denied",
        culprit="krnlmgr.sys",
        product="TMS",
        confidence=conf,
        title="krnlmgr.sys (TMS) denies | the update <script>",
        title_zh="krnlmgr.sys（TMS）拒绝写入",
        allow=json.dumps(allow if allow is not None else ALLOW),
        workaround="Allow it.",
        workaround_zh="放行。",
    )
    return r


def test_clusters_order_and_fields() -> None:
    rows = [_row(i) for i in range(3)] + [_row(3, "s-bbbbbbbbbbbb", 0.5)]
    clean = empty_row("/fleet/clean")
    clean.update(outcome="no-failure", signature="s-clean", signature_text="no-failure", host="OK-1")
    rows += [
        clean,
        clean | {"path": "/fleet/clean2", "host": "OK-2"},
        clean | {"path": "/c3", "host": "OK-3"},
    ]
    rows.append(
        error_row("/fleet/cut.zip", "cut.zip: damaged zip archive (File is not a zip file)", "InputError")
    )
    cl = clusters(rows)
    assert [(c.outcome, c.count) for c in cl] == [
        ("explained", 3),
        ("explained", 1),
        ("no-failure", 3),
        ("unreadable", 1),
    ]
    top = cl[0]
    assert (top.signature, top.failure, top.culprit, top.product, top.confidence) == (
        "s-aaaaaaaaaaaa",
        "KB4474419",
        "krnlmgr.sys",
        "TMS",
        (0.9, 0.9),
    )
    assert [e["host"] for e in top.examples] == ["WS-000", "WS-001", "WS-002"]
    assert top.os_builds == {"7601": 3} and top.locales == {"zh-CN": 3}
    assert cl[3].errors == {"InputError": 1}


def test_merge_allow_unions_keys_per_process_pattern() -> None:
    a = [{"process": r"C:\Temp\EU1.tmp\x.exe", "pattern": r"C:\Temp\EU*.tmp\x.exe", "no_injection": True}]
    b = [
        {"process": r"C:\Temp\EU2.tmp\x.exe", "pattern": r"c:\temp\eu*.tmp\X.exe", "no_injection": True},
        {"process": "TI.exe", "registry_keys": ["K1", "k2"]},
    ]
    c = [{"process": "ti.exe", "registry_keys": ["k1", "K3"], "files": ["f"]}]
    assert merge_allow([a, b, c]) == [
        {"process": r"C:\Temp\EU1.tmp\x.exe", "pattern": r"C:\Temp\EU*.tmp\x.exe", "no_injection": True},
        {"process": "TI.exe", "registry_keys": ["K1", "k2", "K3"], "files": ["f"]},
    ]


def test_write_all_files_and_parquet_roundtrip(tmp_path: Path) -> None:
    rows = [
        _row(0),
        _row(1, conf=None, outcome="unexplained", sig="s-cccccccccccc", allow=[])
        | {"missing": "procmon,acl"},
        error_row("/x/cut.zip", "damaged | zip", "InputError"),
    ]
    rows[0]["reused"] = True
    cl = write_all(rows, tmp_path, {"generated_utc": "2024-09-10T08:00:00Z"})
    assert len(cl) == 3
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "clusters.json",
        "endpoints.parquet",
        "summary.html",
        "summary.md",
        "summary.zh.html",
        "summary.zh.md",
    ]
    back = read_parquet(tmp_path / "endpoints.parquet")
    assert [r["path"] for r in back] == ["/fleet/b0", "/fleet/b1", "/x/cut.zip"]
    assert back[0]["reused"] is True and back[1]["reused"] is None and back[1]["confidence"] is None
    assert back[0]["confidence"] == 0.9 and back[0]["warnings"] == 0
    assert json.loads(back[0]["allow"]) == ALLOW
    doc = json.loads((tmp_path / "clusters.json").read_text(encoding="utf-8"))
    assert doc["generated_utc"] == "2024-09-10T08:00:00Z"
    assert doc["counts"] == {"explained": 1, "unexplained": 1, "no-failure": 0, "unreadable": 1}
    assert [c["missing"] for c in doc["clusters"]] == [{}, {"procmon": 1, "acl": 1}, {}]
    md = (tmp_path / "summary.md").read_text("utf-8")
    assert "- Evidence that would prove the cause: procmon ×1, acl ×1" in md
    assert pq.read_schema(tmp_path / "endpoints.parquet").metadata[b"culprit.schema"] == b"culprit.fleet/1"


def test_markdown_and_html(tmp_path: Path) -> None:
    rows = [_row(0), _row(1), error_row("/x/a|b.zip", "damaged | zip <b>", "InputError")]
    cl = clusters(rows)
    md = render_markdown(rows, cl, {"generated_utc": "T"}, "en")
    assert "3 endpoints, 1 distinct problem; 2 explained; 1 bundle could not be read." in md
    assert "| 1 | 2 | 66.7% | KB4474419 | 0x80070005 | registry-write-denied | krnlmgr.sys (TMS) |" in md
    assert r"| /x/a\|b.zip | damaged \| zip <b> |" in md
    assert r"- process `C:\Windows\servicing\TrustedInstaller.exe`" in md
    assert "**Workaround**: Allow it." in md
    zh = render_markdown(rows, cl, {"generated_utc": "T"}, "zh")
    assert "共 3 台终端，1 类不同问题，已查明原因 2，日志包无法读取 1。" in zh
    assert "krnlmgr.sys（TMS）拒绝写入" in zh and "**临时规避**: 放行。" in zh
    page = render_html(rows, cl, {"generated_utc": "T"}, "en")
    assert "<script>" not in page and "&lt;script&gt;" in page and "damaged | zip &lt;b&gt;" in page

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag not in ("meta", "br"):
                self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.stack.pop() == tag

    t = Tags()
    t.feed(page)
    assert t.stack == []
