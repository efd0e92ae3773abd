"""Words and sentences of the case documents, written separately in English and Chinese.

The Chinese strings are written as a Chinese support engineer writes a case summary (问题描述,
问题分析, 问题总结, 下一步动作), not translated word for word; terms follow Microsoft's zh-CN usage:
补丁 (update/patch), 回滚 (roll back), 注册表 (registry), 驱动 (driver), 注入 (injection),
加白/白名单 (allow-list).

Texts that come from the analysis have an ``_zh`` twin (``title_zh``, ``summary_zh``,
``workaround_zh``, ``fix_zh``, ``why_zh``, ``how_zh``); :func:`pick` takes it for Chinese and falls
back to the English field when the twin is absent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LANGS = ("en", "zh")

_TEXT: dict[str, dict[str, str]] = {
    # document titles and headings
    "summary.title": {"en": "Case summary", "zh": "案例总结"},
    "scope.title": {"en": "Scope definition", "zh": "问题范围定义"},
    "request.title": {"en": "Evidence request", "zh": "日志收集请求"},
    "h.case": {"en": "Case", "zh": "案例信息"},
    "h.problem": {"en": "Problem description", "zh": "问题描述"},
    "h.analysis": {"en": "Analysis", "zh": "问题分析"},
    "h.chain": {"en": "Causal chain and evidence", "zh": "因果链与证据"},
    "h.timeline": {"en": "Timeline", "zh": "时间线"},
    "h.culprit": {"en": "Blocking component", "zh": "拦截组件"},
    "h.conclusion": {"en": "Conclusion", "zh": "问题总结"},
    "h.next": {"en": "Next actions", "zh": "下一步动作"},
    "h.allow": {"en": "Allow-list for the vendor", "zh": "需要厂商加白的内容"},
    "h.workaround": {"en": "Workaround", "zh": "临时规避方案"},
    "h.fix": {"en": "Fix", "zh": "根本解决"},
    "h.missing": {"en": "Evidence still needed", "zh": "仍需收集的证据"},
    "h.unresolved": {"en": "Not yet explained", "zh": "尚未解释的现象"},
    "h.warnings": {"en": "Reading problems", "zh": "日志读取告警"},
    "h.in_scope": {"en": "In scope", "zh": "处理范围"},
    "h.out_scope": {"en": "Out of scope", "zh": "不在范围内"},
    "h.close": {"en": "How the case closes", "zh": "结案条件"},
    "h.collect": {"en": "What to collect", "zh": "需要收集的内容"},
    "h.upload": {"en": "How to send it", "zh": "上传方式"},
    "h.have": {"en": "What we already have", "zh": "目前已有的证据"},
    # metadata labels
    "m.case": {"en": "Case number", "zh": "案例编号"},
    "m.target": {"en": "Failed install", "zh": "安装失败对象"},
    "m.bundle": {"en": "Evidence (failing machine)", "zh": "证据（故障机）"},
    "m.good": {"en": "Evidence (good machine)", "zh": "证据（正常机）"},
    "m.tz": {"en": "Machine time zone", "zh": "机器时区"},
    "m.confidence": {"en": "Confidence", "zh": "置信度"},
    "m.none": {"en": "(not assigned)", "zh": "（未分配）"},
    "m.unknown": {"en": "unknown", "zh": "未知"},
    # culprit table
    "c.item": {"en": "Item", "zh": "项目"},
    "c.value": {"en": "Value", "zh": "内容"},
    "c.module": {"en": "Module", "zh": "模块"},
    "c.product": {"en": "Product", "zh": "产品"},
    "c.vendor": {"en": "Vendor", "zh": "厂商"},
    "c.role": {"en": "Role", "zh": "角色"},
    "c.mechanism": {"en": "How it blocks", "zh": "拦截方式"},
    "c.path": {"en": "Path", "zh": "路径"},
    "c.version": {"en": "Version", "zh": "版本"},
    "c.loaded_into": {"en": "Loaded into", "zh": "被加载进程"},
    "c.injector": {"en": "Injected by", "zh": "注入者"},
    "c.evidence": {"en": "Named from", "zh": "认定依据"},
    # allow-list table
    "a.process": {"en": "Process", "zh": "进程"},
    "a.pattern": {"en": "match", "zh": "匹配"},
    "a.keys": {"en": "Registry keys it must be able to write", "zh": "允许写入的注册表键"},
    "a.files": {"en": "Files it must be able to write", "zh": "允许写入的文件"},
    "a.inject": {"en": "Exclude from injection", "zh": "禁止注入"},
    "a.yes": {"en": "yes", "zh": "是"},
    "a.note": {"en": "note", "zh": "说明"},
    # missing table
    "x.artifact": {"en": "Evidence", "zh": "证据"},
    "x.why": {"en": "Why", "zh": "原因"},
    "x.how": {"en": "How to collect", "zh": "收集方法"},
    # chain
    "ch.where": {"en": "at", "zh": "位置"},
    "fig.caption": {
        "en": "Timeline of the failing install{good}: numbers are the chain steps below.",
        "zh": "故障安装过程时间线{good}：图中编号对应下方因果链步骤。",
    },
    "fig.good": {"en": " beside the good run", "zh": "（右侧为正常机对照）"},
    "fig.md": {
        "en": "The timeline picture is in the HTML and PDF versions of this summary.",
        "zh": "时间线图见本总结的 HTML 和 PDF 版本。",
    },
    "fig.bad": {"en": "failing machine", "zh": "故障机"},
    "fig.more": {"en": "{n} more chain steps are not drawn", "zh": "另有 {n} 个因果链步骤未画出"},
    "fig.goodrun": {"en": "good machine", "zh": "正常机"},
    "fig.order": {"en": "order of the chain →", "zh": "因果链顺序 →"},
    "fig.time": {"en": "time →", "zh": "时间 →"},
    "lg.start": {"en": "process start", "zh": "进程启动"},
    "lg.load": {"en": "module load", "zh": "模块加载"},
    "lg.denied": {"en": "denied", "zh": "被拒绝"},
    "lg.exit": {"en": "exit", "zh": "退出"},
    "lg.fail": {"en": "failure", "zh": "失败"},
    "lg.info": {"en": "other evidence", "zh": "其他证据"},
    "lg.life": {"en": "process lifetime", "zh": "进程生命周期"},
}

ROLES: dict[str, dict[str, str]] = {
    "injected-module": {"en": "injected module", "zh": "注入模块"},
    "injector-process": {"en": "injecting process", "zh": "注入进程"},
    "kernel-driver": {"en": "kernel driver", "zh": "内核驱动"},
    "filesystem-filter": {"en": "file-system filter driver", "zh": "文件系统过滤驱动"},
    "service": {"en": "service", "zh": "服务"},
    "other": {"en": "other", "zh": "其他"},
}

MECHANISMS: dict[str, dict[str, str]] = {
    "registry-callback": {
        "en": "kernel registry callback (denies registry writes)",
        "zh": "内核注册表回调（拦截注册表写入）",
    },
    "dll-injection": {"en": "DLL injection into new processes", "zh": "向新启动的进程注入 DLL"},
    "filesystem-filter": {
        "en": "file-system minifilter (denies file operations)",
        "zh": "文件系统微过滤驱动（拦截文件操作）",
    },
}


def t(lang: str, key: str, **kw: Any) -> str:
    """The text for ``key`` in ``lang`` (English when the key has no such language), formatted with kw."""
    entry = _TEXT[key]
    s = entry.get(lang) or entry["en"]
    return s.format(**kw) if kw else s


def role(lang: str, name: str | None) -> str:
    """A culprit role (``kernel-driver``...) in words; unknown roles are shown as they are."""
    if not name:
        return ""
    return ROLES.get(str(name), {}).get(lang) or str(name)


def mechanism(lang: str, name: str | None) -> str:
    """A blocking mechanism (``registry-callback``...) in words; unknown ones as they are."""
    if not name:
        return ""
    return MECHANISMS.get(str(name), {}).get(lang) or str(name)


def pick(d: Mapping[str, Any] | None, key: str, lang: str) -> Any:
    """``d[key + '_zh']`` for Chinese when present and non-empty, else ``d[key]`` (None when absent)."""
    if not d:
        return None
    if lang == "zh":
        v = d.get(key + "_zh")
        if v:
            return v
    return d.get(key)


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "\u3000-\u303f\uff00-\uffef"
_GAP_CJK = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}])[ \t]+(?=[{_CJK}{_CJK_PUNCT}])")
_GAP_PUNCT = re.compile(rf"[ \t]+(?=[{_CJK_PUNCT}])|(?<=[{_CJK_PUNCT}])[ \t]+")
_CJK_LATIN = re.compile(rf"(?<=[{_CJK}])(?=[A-Za-z0-9\\/])|(?<=[A-Za-z0-9\\/.])(?=[{_CJK}])")


def zh_tidy(s: str) -> str:
    """Chinese spacing: a space between Han characters and Latin words or numbers, none between
    two Han characters or around full-width punctuation (``上 补丁KB1`` → ``上补丁 KB1``)."""
    s = _GAP_CJK.sub("", s)
    s = _GAP_PUNCT.sub("", s)
    return _CJK_LATIN.sub(" ", s)


def say(lang: str, s: str) -> str:
    """A sentence we composed, with Chinese spacing tidied for ``zh`` (never used on log text)."""
    return zh_tidy(s) if lang == "zh" else s
