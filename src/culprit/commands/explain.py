"""``culprit explain CODE...``: every plausible reading of a status code, in English or Chinese."""

from __future__ import annotations

import argparse
import json
from typing import IO

from culprit.commands._common import add_output, output
from culprit.errors import ExitCode, UsageError
from culprit.kb import codes
from culprit.kb.codes import Reading

SEV_ZH = {"failure": "失败", "success": "成功", "error": "错误", "warning": "警告", "information": "信息"}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "explain",
        help="explain a status code (HRESULT, Win32, NTSTATUS, MSI, SetupAPI, CBS, WU, Edge Update)",
        description="Print every plausible reading of each CODE: 0x80070005, 80070005, -2147024891, 5, 1603, "
        "0xC0000022, E_ACCESSDENIED, STATUS_ACCESS_DENIED, ERROR_ACCESS_DENIED, 'Note: 1: 1722', "
        "'ACCESS DENIED' (a Procmon result).",
    )
    p.add_argument("codes", nargs="+", metavar="CODE")
    p.add_argument("--lang", choices=("en", "zh"), default=None, help="language (default: en; json: both)")
    p.add_argument("--prefer", choices=(*codes.KINDS, "msi-message"), help="reading to list first")
    add_output(p, ("text", "json"), default="text")
    return p


def run(args: argparse.Namespace) -> int:
    results = []
    for code in args.codes:
        readings = codes.explain(code, prefer=args.prefer)
        if not readings:
            raise UsageError(f"{code!r} is not a 32-bit status code or a known symbol")
        results.append((code, readings))
    with output(args.output) as out:
        if args.format == "json":
            doc = [{"input": c, "readings": [r.to_dict(args.lang) for r in rs]} for c, rs in results]
            json.dump(doc, out, ensure_ascii=False, indent=2)
            out.write("\n")
        else:
            for i, (code, rs) in enumerate(results):
                if i:
                    out.write("\n")
                write_text(out, code, rs, args.lang or "en")
    return ExitCode.OK


def write_text(out: IO[str], code: str, readings: list[Reading], lang: str) -> None:
    """Render the readings of one code for a terminal."""
    zh = lang == "zh"
    if len(readings) > 1:
        out.write(
            f"{code}: {len(readings)} 种可能的解读\n"
            if zh
            else f"{code}: {len(readings)} possible readings\n"
        )
    for n, r in enumerate(readings, 1):
        lead = f"{n}. " if len(readings) > 1 else ""
        ctx = codes.CONTEXT.get(
            "msi-message" if r.context == codes.CONTEXT["msi-message"][0] else r.kind, (r.context, r.context)
        )
        label = ctx[1] if zh else ctx[0]
        sym = f"  {r.symbol}" if r.symbol else ""
        out.write(
            f"{lead}{r.display}{sym}  ({label})\n" if not zh else f"{lead}{r.display}{sym}（{label}）\n"
        )
        out.write(f"   {r.meaning(lang)}\n")
        if r.hint(lang):
            out.write(f"   {'提示：' if zh else 'hint: '}{r.hint(lang)}\n")
        bits = _bits(r, zh)
        if bits:
            out.write(f"   {'位域：' if zh else 'bits: '}{bits}\n")


def _bits(r: Reading, zh: bool) -> str:
    d = r.decomposition
    parts = []
    if d.severity:
        parts.append(SEV_ZH.get(d.severity, d.severity) if zh else d.severity)
    if d.facility is not None:
        parts.append(f"facility {d.facility}" + (f" ({d.facility_name})" if d.facility_name else ""))
        parts.append(f"{'代码' if zh else 'code'} {d.code:#06x} ({d.code})")
    if d.customer:
        parts.append("C 位（客户定义）" if zh else "C bit (customer-defined)")
    if d.nt_mapped and d.ntstatus is not None:
        parts.append(
            f"N 位 → NTSTATUS 0x{d.ntstatus:08X} {d.ntstatus_symbol or ''}".rstrip()
            if zh
            else f"N bit -> NTSTATUS 0x{d.ntstatus:08X} {d.ntstatus_symbol or ''}".rstrip()
        )
    if d.win32 is not None and r.kind not in ("win32", "msi"):
        parts.append(f"Win32 {d.win32} {d.win32_symbol or ''}".rstrip())
    if d.hresult is not None and d.hresult != r.value and d.hresult:
        parts.append(f"HRESULT 0x{d.hresult:08X}")
    if d.setupapi is not None:
        parts.append(f"SetupAPI 0x{d.setupapi:08X}")
    return ("，" if zh else ", ").join(parts)
