"""``culprit whois NAME``: what culprit knows about a driver, DLL or process, and what a bundle shows."""

from __future__ import annotations

import argparse
import json
from typing import IO

from culprit.commands._common import add_output, output
from culprit.errors import ExitCode, UsageError
from culprit.kb.whois import WhoisReport, whois

ROLE_ZH = {
    "kernel-driver": "内核驱动",
    "filesystem-filter": "文件系统过滤驱动",
    "injected-module": "被注入模块",
    "injector-process": "注入进程",
    "service": "服务/代理进程",
    "other": "其他",
}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "whois",
        help="what culprit knows about a driver, DLL or process (krnlmgr.sys, schk.dll, pcit.exe)",
        description="Print the knowledge base's facts about NAME (product, vendor, role, how it interferes, "
        "how to "
        "exempt, filter altitude, whether it is Windows' own); with --bundle also what the bundle shows.",
    )
    p.add_argument("name", metavar="NAME", help="file name, service/filter name or full path")
    p.add_argument(
        "--bundle",
        action="append",
        default=[],
        metavar="PATH",
        help="evidence to search for NAME (folder, .zip, .cab); repeatable",
    )
    p.add_argument("--lang", choices=("en", "zh"), default=None, help="language (default: en; json: both)")
    add_output(p, ("text", "json"), default="text")
    return p


def run(args: argparse.Namespace) -> int:
    if not args.name.strip():
        raise UsageError("whois: NAME is empty (give a driver, DLL or process name, e.g. krnlmgr.sys)")
    rep = whois(args.name, args.bundle)
    with output(args.output) as out:
        if args.format == "json":
            json.dump(rep.to_dict(args.lang), out, ensure_ascii=False, indent=2)
            out.write("\n")
        else:
            write_text(out, rep, args.lang or "en")
    return ExitCode.OK


def write_text(out: IO[str], rep: WhoisReport, lang: str) -> None:
    """Render a whois report for a terminal."""
    zh = lang == "zh"
    out.write(f"{rep.query}\n")
    if not rep.hits:
        out.write(
            "  知识库：没有此名称的产品记录\n" if zh else "  knowledge base: no product known for this name\n"
        )
    for h in rep.hits:
        who = " / ".join(x for x in (h.product, h.vendor) if x) or ("未知厂商" if zh else "unknown vendor")
        role = ROLE_ZH.get(h.role, h.role) if zh else h.role
        src = f"[{h.source}, {h.confidence:.2f}]"
        out.write(f"  {'产品' if zh else 'product'}: {who} — {role}, {h.mechanism}  {src}\n")
        for k in ("display_name", "description", "path", "path_x64", "altitude", "load_order_group"):
            if h.details.get(k):
                out.write(f"    {k}: {h.details[k]}\n")
        how, ex = (h.how_zh, h.exempt_zh) if zh else (h.how_en, h.exempt_en)
        if how:
            out.write(f"    {'机制' if zh else 'how'}: {how}\n")
        if ex:
            out.write(f"    {'如何豁免' if zh else 'exempt'}: {ex}\n")
    for r in rep.allocation:
        note = f" ({r.note})" if r.note else ""
        out.write(
            f"  {'已分配高度' if zh else 'altitude allocation'}: {r.altitude} {r.load_order_group} — "
            f"{r.company}{note}\n"
        )
    v = rep.verdict
    yes = ("是" if v.is_microsoft else "否") if zh else ("yes" if v.is_microsoft else "no")
    out.write(
        f"  {'是否 Windows 自带' if zh else 'Windows own'}: {yes} — {v.reason_zh if zh else v.reason}\n"
    )
    if rep.bundle:
        out.write(f"  {'证据包中' if zh else 'in the bundle'} ({', '.join(rep.bundle)}):\n")
        for s in rep.sightings:
            where = f"{s.artifact}:{s.line}" if s.line is not None else s.artifact
            facts = ", ".join(f"{k}={_fmt(v)}" for k, v in s.facts.items())
            out.write(f"    {where}  {s.source}: {facts}\n")
    for en, zhn in rep.notes:
        out.write(f"  {'注意' if zh else 'note'}: {zhn if zh else en}\n")


def _fmt(v: object) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)
