"""The terminal answer a support engineer reads in 30 seconds: answer, chain, allow-list, next steps."""

from __future__ import annotations

from typing import IO

from culprit.model import Analysis, format_code


def _where(d: dict) -> str:
    loc = d.get("artifact", "")
    if d.get("line") is not None:
        loc += f":{d['line']}"
    if d.get("event") is not None:
        loc += f" #{d['event']}"
    return loc


def write(a: Analysis, out: IO[str], lang: str = "en") -> None:
    d = a.to_dict()
    w = out.write
    if a.findings:
        f = a.findings[0]
        w(f"ANSWER  {f.title}\n")
        if f.culprit:
            c = f.culprit
            w(f"        culprit: {c.module}  product: {c.product or '?'}  vendor: {c.vendor or '?'}  role: {c.role}"
              f"  confidence: {f.confidence:.2f}\n")
    elif a.failures:
        w("ANSWER  no culprit can be named from this evidence (see MISSING)\n")
    else:
        w("ANSWER  no failure found in this bundle\n")
    for fl in a.failures:
        sym = f" {fl.symbol}" if fl.symbol else ""
        w(f"FAILED  {fl.target}: {format_code(fl.code)}{sym}  [{fl.origin.artifact}:{fl.origin.line or fl.origin.record}]\n")
    if a.findings:
        f = a.findings[0]
        w("\nCHAIN\n")
        for i, s in enumerate(f.chain, 1):
            sd = s.to_dict()
            w(f"  {i:2}. {s.summary}\n      {_where(sd)}\n")
            if s.origin.text:
                w(f"      > {s.origin.text[:200]}\n")
        if f.remediation.allow:
            w("\nALLOW-LIST\n")
            for r in f.remediation.allow:
                w(f"  process: {r.process}\n")
                if r.pattern:
                    w(f"    pattern: {r.pattern}\n")
                if r.no_injection:
                    w("    no DLL injection into this process\n")
                for k in r.registry_keys:
                    w(f"    key:  {k}\n")
                for fl in r.files:
                    w(f"    file: {fl}\n")
        if f.remediation.workaround:
            w(f"\nWORKAROUND  {f.remediation.workaround}\n")
        if f.remediation.fix:
            w(f"\nFIX  {f.remediation.fix}\n")
    for u in d.get("unresolved", []):
        w(f"\nUNRESOLVED  {u.get('title')}\n")
        for s in u.get("chain", []):
            w(f"  - {s['summary']}  [{_where(s)}]\n")
        if u.get("suspects"):
            w(f"  suspects: {', '.join(u['suspects'])}\n")
    if a.missing:
        w("\nMISSING (collect and send in one go)\n")
        for m in a.missing:
            w(f"  * {m.artifact}: {m.why}\n    how: {m.how}\n")
    if a.warnings:
        w(f"\nWARNINGS ({len(a.warnings)})\n")
        for x in a.warnings[:20]:
            w(f"  {x.artifact}{':' + str(x.line) if x.line else ''}: {x.message}\n")
