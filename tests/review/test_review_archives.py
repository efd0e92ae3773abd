"""Review findings: bundles zipped by hand on a Chinese Windows machine.

Each test pins one finding of the review: a strict xfail while the defect is open, a plain
regression test (the finding kept as its docstring) once it is fixed.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.review._helpers import KB, run_cli

MANIFEST_ZH = {
    "schema": "culprit.manifest/1",
    "locale": "zh-CN",
    "ansi_code_page": 936,
    "oem_code_page": 936,
    "timezone_offset_minutes": 480,
}


def _zip_with_gbk_names(path: Path) -> None:
    """A zip as Explorer's 'Send to > Compressed folder' writes it on zh-CN Windows: names in CP936
    (the OEM code page) and the UTF-8 flag (bit 11) clear."""
    cbs = (KB / "bad" / "Windows" / "Logs" / "CBS" / "CBS.log").read_bytes()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", json.dumps(MANIFEST_ZH))
        info = zipfile.ZipInfo("日志/补丁 CBS.log".encode("gbk").decode("cp437"))
        info.flag_bits &= ~0x800
        z.writestr(info, cbs)


def test_zip_member_names_in_the_oem_code_page(tmp_path: Path) -> None:
    """Review finding fixed in 08e02b3; it was: a bundle zipped with Explorer on zh-CN Windows (member
    names in CP936, no UTF-8 flag) is read, but every citation shows the name decoded as CP437 mojibake
    ('gbk.zip/╚╒╓╛/▓╣╢í CBS.log:129' for '日志/补丁 CBS.log'), even with the bundle's manifest.json stating
    oem_code_page 936; names without the UTF-8 flag must be decoded with the machine's OEM code page
    """
    z = tmp_path / "bundle.zip"
    _zip_with_gbk_names(z)
    r = run_cli("analyze", str(z), "-f", "json")
    assert r.returncode == 0, r.stderr
    paths = [a["path"] for a in json.loads(r.stdout)["bundle"]["artifacts"]]
    assert any(p.endswith("日志/补丁 CBS.log") for p in paths), paths
