"""Generated fleets: variants of the shared cases under other host names, clean and corrupt bundles.

Nothing from ../shared is copied into the project: bundles are built in pytest's temp folder, with
hard links to the case files where the file system allows (else copies).
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import case_path

KB = "kb4474419-registry-denied"
EDGE = "edge-injected-dll"


def link_tree(src: Path, dst: Path) -> None:
    """Mirror ``src`` into ``dst`` with hard links (copies where linking is not possible)."""
    for dirpath, _dirs, files in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for fn in files:
            s, d = Path(dirpath) / fn, dst / rel / fn
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d)


def manifest(folder: Path, host: str, os_build: str, locale: str = "zh-CN", offset: int = 480) -> None:
    """A collector-style manifest.json (culprit.manifest/1, docs/collector.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "schema": "culprit.manifest/1",
        "host": host,
        "os_build": os_build,
        "locale": locale,
        "timezone_offset_minutes": offset,
    }
    (folder / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")


def kb_bundle(root: Path, name: str, host: str | None, repro: bool = True) -> Path:
    """The KB4474419 registry case: bad/ (+ repro/ capture), optionally with a manifest naming ``host``."""
    case = case_path(KB)
    b = root / name
    link_tree(case / "bad", b / "bad")
    if repro:
        link_tree(case / "repro", b / "repro")
    if host:
        manifest(b, host, "7601.24384")
    return b


def small_kb_bundle(root: Path, name: str, host: str) -> Path:
    """Only CBS + SetupAPI + INF + ACL text files of the KB case: the failure without a culprit."""
    bad = case_path(KB, "bad")
    b = root / name
    for rel in (
        "Windows/Logs/CBS/CBS.log",
        "Windows/inf/setupapi.dev.log",
        "Windows/inf/cpu.inf",
        "system/AmdK8_acl.txt",
    ):
        (b / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bad / rel, b / rel)
    manifest(b, host, "7601.24384")
    return b


def edge_bundle(root: Path, name: str) -> Path:
    """The Edge injection case: bad/ and good/ in one bundle folder (no manifest: identity from the logs)."""
    case = case_path(EDGE)
    b = root / name
    link_tree(case / "bad", b / "bad")
    link_tree(case / "good", b / "good")
    return b


def clean_bundle(root: Path, name: str, host: str) -> Path:
    """A successful Edge install's MSI log only: no failure."""
    good = case_path(EDGE, "good")
    b = root / name
    src = good / "Windows" / "Temp"
    link_tree(src, b / "Windows" / "Temp")
    manifest(b, host, "17763.2928")
    return b


def zip_folder(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for dirpath, _dirs, files in os.walk(folder):
            for fn in sorted(files):
                p = Path(dirpath) / fn
                zf.write(p, p.relative_to(folder).as_posix())
    return dest


def truncated_zip(folder: Path, dest: Path) -> Path:
    """A zip cut in half, like an interrupted upload."""
    tmp = zip_folder(folder, dest.with_suffix(".full"))
    data = tmp.read_bytes()
    tmp.unlink()
    dest.write_bytes(data[: len(data) // 2])
    return dest


@dataclass
class Fleet:
    """A generated fleet and what it should cluster into."""

    root: Path
    kb_hosts: list[str] = field(default_factory=list)
    kb_bad_only: list[str] = field(default_factory=list)
    small_hosts: list[str] = field(default_factory=list)
    clean_hosts: list[str] = field(default_factory=list)
    edge: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            len(self.kb_hosts)
            + len(self.kb_bad_only)
            + len(self.small_hosts)
            + len(self.clean_hosts)
            + len(self.edge)
            + len(self.corrupt)
        )


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """24 bundles: 5 KB case + 2 KB without repro, 6 small KB, 6 clean, 3 Edge (1 zipped), 2 corrupt."""
    root = tmp_path_factory.mktemp("fleet") / "bundles"
    root.mkdir()
    f = Fleet(root)
    for i in range(5):
        host = f"BANK-WS-{1101 + i}"
        kb_bundle(root, f"kb-{host}", host)
        f.kb_hosts.append(host)
    for i in range(2):
        host = f"BANK-WS-{1201 + i}"
        kb_bundle(root, f"kbonly-{host}", host, repro=False)
        f.kb_bad_only.append(host)
    for i in range(6):
        host = f"BRANCH-PC-{301 + i}"
        small_kb_bundle(root, f"small-{host}", host)
        f.small_hosts.append(host)
    for i in range(6):
        host = f"BANK-WS-{2001 + i}"
        clean_bundle(root, f"clean-{host}", host)
        f.clean_hosts.append(host)
    for i in range(2):
        edge_bundle(root, f"edge-{i}")
        f.edge.append(f"edge-{i}")
    staging = tmp_path_factory.mktemp("staging")
    zip_folder(edge_bundle(staging, "edge-zipped"), root / "edge-zipped.zip")
    f.edge.append("edge-zipped.zip")
    truncated_zip(small_kb_bundle(staging, "cut", "CUT-1"), root / "cut-upload.zip")
    f.corrupt.append("cut-upload.zip")
    junk = root / "junk-bundle" / "system"
    junk.mkdir(parents=True)
    (junk / "blob.bin").write_bytes(bytes(range(256)) * 64)
    f.corrupt.append("junk-bundle")
    return f
