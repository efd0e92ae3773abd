"""Encoding sniffing and streaming line reading."""

from __future__ import annotations

import codecs
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from culprit import textio

ZH = "2024-09-03 10:15:22 错误: 拒绝访问。 C:\\Users\\张伟\\AppData\r\n"


def lines(data: bytes, locale: str | None = None, max_line: int = textio.MAX_LINE):
    enc = textio.sniff_encoding(data[: textio.HEAD_BYTES], locale)
    warns: list[tuple[str, int]] = []
    got = list(textio.iter_lines(io.BytesIO(data), enc, lambda m, n: warns.append((m, n)), max_line))
    return enc, got, warns


def test_utf16le_with_bom() -> None:
    data = codecs.BOM_UTF16_LE + "a\r\nb 操作\r\n".encode("utf-16-le")
    enc, got, warns = lines(data)
    assert enc.label == "utf-16le-bom"
    assert [t for _, _, t in got] == ["a", "b 操作"]
    assert [(n, off) for n, off, _ in got] == [(1, 2), (2, 8)]
    assert warns == []


def test_utf16le_without_bom() -> None:
    data = "=== Verbose logging started ===\r\nMSI (s) (68:AC)\r\n".encode("utf-16-le")
    enc, got, _ = lines(data)
    assert enc.name == "utf-16-le" and enc.bom == 0
    assert [t for _, _, t in got] == ["=== Verbose logging started ===", "MSI (s) (68:AC)"]


def test_utf8_bom() -> None:
    data = codecs.BOM_UTF8 + b'"Time of Day","Process Name"\r\n'
    enc, got, _ = lines(data)
    assert enc.label == "utf-8-bom"
    assert got[0][2] == '"Time of Day","Process Name"'


def test_gbk_detected_from_content() -> None:
    enc, got, warns = lines(ZH.encode("gbk") * 3)
    assert enc.label == "cp936"
    assert got[0][2] == ZH.rstrip("\r\n")
    assert warns == []


def test_gbk_preferred_on_zh_cn_machine_even_without_cjk_run() -> None:
    # Two bytes that are valid GBK but not UTF-8: on a zh-CN machine that is CP936.
    data = b"path C:\\\xd5\xc5\r\n"
    assert textio.sniff_encoding(data, "zh-CN").label == "cp936"


def test_cp1252_fallback() -> None:
    data = "caf\xe9 na\xefve \u2019quoted\u2019\r\n".encode("cp1252")
    enc, got, _ = lines(data)
    assert enc.label == "cp1252"
    assert got[0][2] == "café naïve \u2019quoted\u2019"


def test_lf_only_and_missing_final_newline() -> None:
    _, got, _ = lines(b"one\ntwo\nthree")
    assert [(n, t) for n, _, t in got] == [(1, "one"), (2, "two"), (3, "three")]


def test_invalid_bytes_replaced_and_reported() -> None:
    data = b"good line\r\n" * 7000 + b"bad \xff\xfe\xfd here\r\n"
    enc, got, warns = lines(data)
    assert enc.name == "utf-8"  # the head sample is clean
    assert got[-1][2] == "bad \ufffd\ufffd\ufffd here"
    assert warns and warns[0][1] == 7001


def test_huge_line_cut_and_reported_then_reading_goes_on() -> None:
    data = b"first\r\n" + b"x" * (3 * 1024 * 1024) + b"\r\nlast\r\n"
    _, got, warns = lines(data, max_line=1024)
    assert [(n, t[:5], len(t)) for n, _, t in got] == [(1, "first", 5), (2, "xxxxx", 1024), (3, "last", 4)]
    assert got[2][1] == 7 + 3 * 1024 * 1024 + 2  # byte offset survives the cut
    assert warns and warns[0][1] == 2 and "cut" in warns[0][0]


def test_huge_utf16_line_cut() -> None:
    data = codecs.BOM_UTF16_LE + ("a" * 5000 + "\r\nend\r\n").encode("utf-16-le")
    _, got, warns = lines(data, max_line=1000)
    assert [(n, len(t)) for n, _, t in got] == [(1, 1000), (2, 3)]
    assert got[1][2] == "end"
    assert warns


def test_binary_detection() -> None:
    assert textio.looks_binary(b"PML_\x09\x00\x00\x00\x01\x00\x00\x00")
    assert not textio.looks_binary("hello\r\n".encode("utf-16-le"))
    assert not textio.looks_binary(ZH.encode("gbk"))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    enc = textio.sniff_encoding(data)
    list(textio.iter_lines(io.BytesIO(data), enc, lambda m, n: None, max_line=256))


@pytest.mark.parametrize("enc", ["utf-16-le", "utf-8", "gbk"])
def test_offsets_point_at_line_starts(enc: str) -> None:
    text = "第一行\r\nsecond\r\n第三 third\r\n"
    data = text.encode(enc)
    e = textio.sniff_encoding(data, "zh-CN")
    for _, off, t in textio.iter_lines(io.BytesIO(data), e):
        assert data[off:].decode(enc, errors="ignore").startswith(t)


def test_log_damaged_after_its_start_is_still_text() -> None:
    head = b"2024-09-03 10:15:22, Info                  CBS    Starting TrustedInstaller initialization.\r\n" * 40
    data = head + bytes(range(256)) * 8
    assert not textio.looks_binary(data)
    assert textio.looks_binary(b"\x00\x01\x02PML_" + head)


def test_manifest_code_page_decides_8bit_text() -> None:
    text = "Ошибка 5: Отказано в доступе.\r\n"
    data = text.encode("cp1251")
    assert textio.sniff_encoding(data, None, 1251).label == "cp1251"
    assert textio.sniff_encoding(data, None, "936").label == "cp936"
    assert textio.sniff_encoding("ok\r\n".encode(), None, 1251).label == "utf-8"  # UTF-8 stays UTF-8
    assert textio.sniff_encoding(data, None, "bogus").label == "cp1252"
