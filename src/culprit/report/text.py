"""The terminal answer a support engineer reads in 30 seconds: answer, chain, allow-list, next steps.

English or Chinese (``lang="zh"`` uses the analysis' ``_zh`` twins and Chinese headings).
"""

from __future__ import annotations

from typing import IO, Any

from culprit.model import Analysis, format_code

HEAD = {
    "en": {"answer": "ANSWER", "culprit": "culprit", "product": "product", "vendor": "vendor", "role": "role",
           "confidence": "confidence", "failed": "FAILED", "chain": "CHAIN", "allow": "ALLOW-LIST",
           "process": "process", "pattern": "pattern", "noinj": "no DLL injection into this process",
           "key": "key", "file": "file", "workaround": "WORKAROUND", "fix": "FIX", "unresolved": "UNRESOLVED",
           "suspects": "suspects", "missing": "MISSING (collect and send in one go)", "how": "how",
           "warnings": "WARNINGS", "none": "no culprit can be named from this evidence (see MISSING)",
           "nofail": "no failure found in this bundle",
           "selfsaid": "no agent is involved on this evidence: the log itself says why it failed "
                       "(see FAILED)"},
    "zh": {"answer": "结论", "culprit": "拦截模块", "product": "产品", "vendor": "厂商", "role": "方式",
           "confidence": "置信度", "failed": "失败", "chain": "证据链", "allow": "白名单（需加白）",
           "process": "进程", "pattern": "匹配", "noinj": "禁止向此进程注入 DLL", "key": "注册表",
           "file": "文件", "workaround": "临时规避", "fix": "修复", "unresolved": "尚未定论",
           "suspects": "嫌疑模块", "missing": "还需收集（请一次性收集并发送）", "how": "方法",
           "warnings": "警告", "none": "现有证据不足以认定拦截模块（见“还需收集”）",
           "nofail": "此日志包中未发现失败",
           "selfsaid": "现有证据未显示终端代理参与：日志本身已说明失败原因（见“失败”）"},
}


ROLE_ZH = {"kernel-driver": "内核驱动", "filesystem-filter": "文件系统过滤驱动", "injected-module": "注入模块",
           "injector-process": "注入进程", "service": "服务", "other": "其他"}


def _where(d: dict[str, Any]) -> str:
    loc = str(d.get("artifact", ""))
    if d.get("line") is not None:
        loc += f":{d['line']}"
    if d.get("event") is not None:
        loc += f" #{d['event']}"
    return loc


def _t(d: dict[str, Any], key: str, lang: str) -> str:
    return str((d.get(f"{key}_zh") if lang == "zh" else None) or d.get(key) or "")


def write(a: Analysis, out: IO[str], lang: str = "en") -> None:
    h = HEAD["zh" if lang == "zh" else "en"]
    d = a.to_dict()
    w = out.write
    findings = d["findings"]
    if findings:
        f = findings[0]
        w(f"{h['answer']}  {_t(f, 'title', lang)}\n")
        c = f.get("culprit")
        if c:
            w(f"        {h['culprit']}: {c['module']}  {h['product']}: {c.get('product') or '?'}  "
              f"{h['vendor']}: {c.get('vendor') or '?'}  "
              f"{h['role']}: {ROLE_ZH.get(c['role'], c['role']) if lang == 'zh' else c['role']}  "
              f"{h['confidence']}: {f['confidence']:.2f}\n")
    elif d["failures"]:
        w(f"{h['answer']}  {h['none'] if d.get('missing') or d.get('unresolved') else h['selfsaid']}\n")
    else:
        w(f"{h['answer']}  {h['nofail']}\n")
    for fl in a.failures:
        sym = f" {fl.symbol}" if fl.symbol else ""
        where = f":{fl.origin.line}" if fl.origin.line is not None else f" #{fl.origin.record}" \
            if fl.origin.record is not None else ""
        what = format_code(fl.code) or _no_code(fl)
        w(f"{h['failed']}  {fl.target}: {what}{sym}  [{fl.origin.artifact}{where}]\n")
    if findings:
        f = findings[0]
        w(f"\n{h['chain']}\n")
        for i, s in enumerate(f["chain"], 1):
            w(f"  {i:2}. {_t(s, 'summary', lang)}\n      {_where(s)}\n")
            if s.get("text"):
                w(f"      > {str(s['text']).splitlines()[0][:200]}\n")
        rem = f["remediation"]
        if rem.get("allow"):
            w(f"\n{h['allow']}\n")
            for r in rem["allow"]:
                w(f"  {h['process']}: {r['process']}\n")
                if r.get("pattern"):
                    w(f"    {h['pattern']}: {r['pattern']}\n")
                if r.get("no_injection"):
                    w(f"    {h['noinj']}\n")
                for k in r.get("registry_keys", []):
                    w(f"    {h['key']}:  {k}\n")
                for fl in r.get("files", []):
                    w(f"    {h['file']}: {fl}\n")
        if rem.get("workaround"):
            w(f"\n{h['workaround']}  {_t(rem, 'workaround', lang)}\n")
        if rem.get("fix"):
            w(f"\n{h['fix']}  {_t(rem, 'fix', lang)}\n")
    for u in d.get("unresolved", []):
        w(f"\n{h['unresolved']}  {_t(u, 'title', lang)}\n")
        for s in u.get("chain", []):
            w(f"  - {_t(s, 'summary', lang)}  [{_where(s)}]\n")
        if u.get("suspects"):
            w(f"  {h['suspects']}: {', '.join(u['suspects'])}\n")
    if d["missing"]:
        w(f"\n{h['missing']}\n")
        for m in d["missing"]:
            w(f"  * {m['artifact']}: {_t(m, 'why', lang)}\n    {h['how']}: {_t(m, 'how', lang)}\n")
    if d["warnings"]:
        w(f"\n{h['warnings']} ({len(d['warnings'])})\n")
        for x in d["warnings"][:20]:
            w(f"  {x['artifact']}{':' + str(x['line']) if x.get('line') else ''}: {x['message']}\n")


def _no_code(fl: Any) -> str:
    """A failure without a code: the exception or rule it names, else the start of its line."""
    extra = getattr(fl, "extra", None) or {}
    for k in ("error", "exception", "rule"):
        if extra.get(k):
            return str(extra[k])
    text = " ".join(str(fl.origin.text or "").split())
    return text[:100] + ("…" if len(text) > 100 else "")
