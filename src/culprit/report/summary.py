"""The case summary (案例总结) built from an analysis: the structure support engineers send.

Sections, in the order customers know them: case facts, 问题描述 (problem description),
问题分析 (analysis: the blocking component, the timeline, the causal chain with short evidence
excerpts as ``artifact:line``), 问题总结 (conclusion), 下一步动作 (next actions: the allow-list as
a table, the workaround, the fix, and the exact collection steps for missing evidence), then the
problems met while reading the logs.

Input is the analysis JSON (``Analysis.to_dict()`` or a saved ``culprit analyze --format json``);
nothing here reads a log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from culprit.report import svg
from culprit.report.document import (
    Bullets,
    Chain,
    ChainStep,
    Code,
    Document,
    Figure,
    Inline,
    Para,
    Section,
    Table,
    tidy,
)
from culprit.report.i18n import mechanism, pick, role, t

EXCERPT = 160  # characters of a log line quoted under a chain step
SUMMARY = 600  # characters of a step's summary (real ones are one sentence)
MAX_STEPS = 200  # chain steps listed (real chains have about 20)


def strs(v: Any) -> list[str]:
    """A list-of-strings field as strings (a lone string is a list of one; other types give none)."""
    if isinstance(v, str):
        return [v] if v else []
    if isinstance(v, list):
        return [str(x) for x in v if x is not None and x != ""]
    return []


def where(d: Mapping[str, Any]) -> str:
    """``artifact:line`` (or ``artifact #event``) of a step, failure or warning dict."""
    loc = str(d.get("artifact") or "")
    if d.get("line") is not None:
        loc += f":{d['line']}"
    elif d.get("event") is not None:
        loc += f" #{d['event']}"
    csv = d.get("csv")
    if isinstance(csv, Mapping) and csv.get("artifact"):
        loc += f" ({csv['artifact']}:{csv.get('line')})"
    return loc


def excerpt(text: str | None, limit: int = EXCERPT) -> str:
    """A log record cut to one short line: line breaks become `` ⏎ ``, long text ends in ``…``."""
    if not text:
        return ""
    head = str(text)[: limit * 4]  # never walk a huge record: only its head can be shown
    s = " ⏎ ".join(part.strip() for part in head.splitlines() if part.strip())
    s = "".join(ch if ch.isprintable() else " " for ch in s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def target_words(lang: str, target: str) -> str:
    """A failed target named as people say it: a KB is an update (补丁), the rest a product."""
    if target.upper().startswith("KB") and target[2:].isdigit():
        return f"补丁 {target}" if lang == "zh" else f"update {target}"
    if target.lower().endswith(".inf"):
        return f"驱动包 {target}" if lang == "zh" else f"driver package {target}"
    return target


def end(s: str, lang: str) -> str:
    """A sentence with its final stop (。 or .), added only when it has none."""
    s = s.rstrip()
    if not s or s[-1] in ".。!！?？;；:：":
        return s
    return s + ("。" if lang == "zh" else ".")


def cap(s: str) -> str:
    """First letter upper-case (English sentences that start with ``update KB...``), but never a name as
    written: a file or process name (``setup.exe``) keeps its case."""
    first = s.split(" ", 1)[0]
    if "." in first or "\\" in first or "/" in first:
        return s
    return s[:1].upper() + s[1:]


def failure_line(lang: str, f: Mapping[str, Any]) -> tuple[Inline, ...]:
    """One failure as a list item: what, the code and its symbol, where it is written."""
    code = f.get("code")
    sym = f.get("symbol")
    what = target_words(lang, str(f.get("target") or "?"))
    if f.get("action"):
        what += f" 的自定义操作 {f['action']}" if lang == "zh" else f" (custom action {f['action']})"
    said = f.get("error")  # the failing log's own words, when it has no code to quote (Exchange Setup)
    if lang == "zh":
        verb = "执行失败" if f.get("action") else "安装失败"
        head = f"{what} {verb}" + (f"，错误码 {code}" if code else "") + (f"（{sym}）" if sym else "")
        if said and not code:
            head += f"：“{said}”"
        return (head + "，见 ", Code(where(f)))
    head = f"{what} failed" + (f" with {code}" if code else "") + (f" ({sym})" if sym else "")
    if said and not code:
        head += f': "{said}"'
    return (cap(head) + ", see ", Code(where(f)))


def problem_section(lang: str, d: Mapping[str, Any]) -> Section:
    """问题描述: what failed on which machine, in the logs' own codes."""
    failures = d.get("failures") or []
    bundle = d.get("bundle") or {}
    blocks: list[Any] = []
    if failures:
        first = target_words(lang, str(failures[0].get("target") or "?"))
        if lang == "zh":
            lead = f"故障机（证据 {bundle.get('path') or '?'}）上 {first} 安装失败。日志中记录的失败如下："
        else:
            lead = (
                f"On the failing machine (evidence {bundle.get('path') or '?'}) the installation of "
                f"{first} fails. The logs record these failures:"
            )
        blocks.append(Para((lead,)))
        blocks.append(Bullets(tuple(failure_line(lang, f) for f in failures)))
    else:
        blocks.append(
            Para(
                (
                    "在提供的日志中没有找到安装失败的记录。"
                    if lang == "zh"
                    else "No failed installation is recorded in the logs provided.",
                )
            )
        )
    if bundle.get("good"):
        blocks.append(
            Para(
                (
                    f"作为对照，另有一台同一安装成功的正常机（证据 {bundle['good']}）。"
                    if lang == "zh"
                    else f"For comparison, evidence from a machine where the same installation "
                    f"succeeds was analysed too ({bundle['good']}).",
                )
            )
        )
    return Section(t(lang, "h.problem"), tuple(blocks))


def culprit_table(lang: str, f: Mapping[str, Any]) -> Table | None:
    """The blocking component as a two-column table (only the facts the analysis has)."""
    c = f.get("culprit")
    if not c:
        return None
    rows: list[tuple[tuple[Inline, ...], ...]] = []

    def row(label: str, *value: Any) -> None:
        if any(v for v in value):
            rows.append(((t(lang, label),), tuple(v if isinstance(v, Code) else str(v) for v in value if v)))

    row("c.module", Code(str(c.get("module") or "?")))
    row("c.product", c.get("product") or "")
    row("c.vendor", c.get("vendor") or "")
    row("c.role", role(lang, c.get("role")))
    row("c.mechanism", mechanism(lang, c.get("mechanism")))
    row("c.path", Code(str(c["path"])) if c.get("path") else "")
    row("c.version", c.get("version") or "")
    row("c.loaded_into", Code(str(c["loaded_into"])) if c.get("loaded_into") else "")
    inj = f.get("injector")
    if isinstance(inj, Mapping) and inj.get("process"):
        raw_also = inj.get("also")
        also: list[Any] = raw_also if isinstance(raw_also, list) else []
        names = [
            str(inj["process"]),
            *(str(a["process"]) for a in also if isinstance(a, Mapping) and a.get("process")),
        ]
        row("c.injector", *(Code(n) for n in names))
    return Table((t(lang, "c.item"), t(lang, "c.value")), tuple(rows))


def chain_block(lang: str, f: Mapping[str, Any]) -> Chain:
    """The chain's steps, numbered, each with its location and excerpt (at most MAX_STEPS)."""
    steps = tuple(
        ChainStep(
            i,
            excerpt(str(pick(s, "summary", lang) or ""), SUMMARY),
            excerpt(where(s), SUMMARY),
            excerpt(s.get("text")),
        )
        for i, s in enumerate((f.get("chain") or ())[:MAX_STEPS], 1)
    )
    return Chain(steps)


def chain_rest(lang: str, f: Mapping[str, Any]) -> Para | None:
    """A line saying how many steps were left out, when the chain is longer than MAX_STEPS."""
    rest = len(f.get("chain") or ()) - MAX_STEPS
    if rest <= 0:
        return None
    return Para(
        (
            f"另有 {rest} 个步骤未列出，见分析 JSON。"
            if lang == "zh"
            else f"{rest} more steps are in the analysis JSON.",
        )
    )


def analysis_section(lang: str, d: Mapping[str, Any]) -> Section:
    """问题分析: the finding, who blocks, the timeline, the chain with evidence."""
    findings = d.get("findings") or []
    blocks: list[Any] = []
    if findings:
        f = findings[0]
        title = str(pick(f, "title", lang) or "")
        conf = f.get("confidence")
        blocks.append(
            Para(
                (
                    title
                    + (
                        f"（{t(lang, 'm.confidence')} {conf}）"
                        if lang == "zh" and conf is not None
                        else f" ({t(lang, 'm.confidence').lower()} {conf})"
                        if conf is not None
                        else ""
                    ),
                )
            )
        )
        tbl = culprit_table(lang, f)
        if tbl is not None and tbl.rows:
            blocks.append(tbl)
        picture = svg.timeline(d, lang)
        if picture:
            good = t(lang, "fig.good") if (d.get("bundle") or {}).get("good") else ""
            blocks.append(Figure(picture, t(lang, "fig.caption", good=good), t(lang, "fig.md")))
        blocks.append(Para((t(lang, "h.chain") + ("：" if lang == "zh" else ":"),)))
        blocks.append(chain_block(lang, f))
        if (more := chain_rest(lang, f)) is not None:
            blocks.append(more)
        for other in findings[1:]:
            blocks.append(Para((str(pick(other, "title", lang) or ""),)))
            blocks.append(chain_block(lang, other))
    elif _self_explained(d):
        blocks.append(
            Para(
                (
                    "失败日志本身已写明原因（见“问题描述”中引用的行）；现有证据中没有指向终端代理的迹象。"
                    if lang == "zh"
                    else "The failing log itself states why it failed (the line quoted under Problem "
                    "description); nothing in this evidence points at an endpoint agent.",
                )
            )
        )
    else:
        blocks.append(
            Para(
                (
                    "现有证据还不足以认定是哪个组件阻止了安装，缺少的证据见“下一步动作”。"
                    if lang == "zh"
                    else "The evidence so far does not name the component that blocks the install; "
                    "what is missing is listed under Next actions.",
                )
            )
        )
    unresolved = d.get("unresolved") or []
    if unresolved:
        items: list[tuple[Inline, ...]] = []
        for u in unresolved:
            text = str(pick(u, "title", lang) or "")
            if u.get("suspects"):
                text += ("；可疑组件：" if lang == "zh" else "; suspects: ") + ", ".join(
                    map(str, u["suspects"] if isinstance(u["suspects"], list) else [u["suspects"]])
                )
            items.append((text,))
        blocks.append(Para((t(lang, "h.unresolved") + ("：" if lang == "zh" else ":"),)))
        blocks.append(Bullets(tuple(items)))
    return Section(t(lang, "h.analysis"), tuple(blocks))


def _failure_clause(lang: str, failures: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    seen: set[str] = set()
    for fl in failures:
        if str(fl.get("target")) in seen or len(seen) >= 3:
            continue
        seen.add(str(fl.get("target")))
        what = target_words(lang, str(fl.get("target") or "?"))
        code = fl.get("code")
        sym = (
            f"（{fl['symbol']}）"
            if lang == "zh" and fl.get("symbol")
            else (f" ({fl['symbol']})" if fl.get("symbol") else "")
        )
        if lang == "zh":
            parts.append(f"{what} 安装失败，错误码 {code}{sym}" if code else f"{what} 安装失败")
        else:
            parts.append(f"{what} fails with {code}{sym}" if code else f"{what} fails")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _self_explained(d: Mapping[str, Any]) -> bool:
    """No finding, nothing to collect, and the failure quotes its log's own reason (Exchange Setup)."""
    failures = d.get("failures") or []
    return (
        not d.get("findings")
        and not d.get("missing")
        and not d.get("unresolved")
        and bool(failures)
        and bool(failures[0].get("error"))
    )


def conclusion_section(lang: str, d: Mapping[str, Any]) -> Section:
    """问题总结: one paragraph a manager can forward, from the culprit's structured facts."""
    findings = d.get("findings") or []
    failures = d.get("failures") or []
    if not findings and _self_explained(d):
        said = str(failures[0].get("error") or "").rstrip("。.")
        text = (
            f"安装失败的原因已记录在日志中：“{said}”。现有证据中没有终端代理拦截的迹象，请按该错误处理。"
            if lang == "zh"
            else f'The log records why the install failed: "{said}". Nothing here points at an endpoint '
            "agent blocking it; resolve that error."
        )
        return Section(t(lang, "h.conclusion"), (Para((text,)),))
    if not findings or not findings[0].get("culprit"):
        text = (
            "目前无法根据现有日志认定原因。请按“下一步动作”一次性收集所列证据，收到后即可完成分析。"
            if lang == "zh"
            else "The cause cannot be named from the logs received so far. Please collect the evidence "
            "listed "
            "under Next actions in one go; with it the analysis can be completed."
        )
        return Section(t(lang, "h.conclusion"), (Para((text,)),))
    f = findings[0]
    c = f["culprit"]
    module = str(c.get("module") or "?")
    product = c.get("product")
    owner = (f"{product} 的" if lang == "zh" else f"{product}'s ") if product else ""
    roleword = role(lang, c.get("role"))
    if c.get("role") == "injected-module":
        roleword = "模块" if lang == "zh" else "module"
    mech = c.get("mechanism")
    keys = [k for a in (f.get("remediation") or {}).get("allow") or () for k in strs(a.get("registry_keys"))]
    into = c.get("loaded_into")
    inj = (f.get("injector") or {}).get("process") if isinstance(f.get("injector"), Mapping) else None
    ms = c.get("load_to_exit_ms")
    fail = _failure_clause(lang, failures)
    if lang == "zh":
        who = f"{owner}{roleword} {module}"
        if mech == "registry-callback":
            how = "通过内核注册表回调拦截了安装过程对注册表的写入" + (
                f"（涉及 {len(keys)} 个服务键，见下方白名单）" if keys else ""
            )
        elif mech == "dll-injection" or c.get("role") == "injected-module":
            how = f"被{inj or ''}注入到 {into or '安装进程'} 中" + (
                f"，该进程在模块加载后 {ms} 毫秒即退出" if ms is not None else "，该进程随即退出"
            )
        elif mech == "filesystem-filter" or c.get("role") == "filesystem-filter":
            how = "作为文件系统过滤驱动拦截了安装过程的文件操作"
        else:
            how = "阻止了安装过程"
        text = f"根本原因是{who}{how}，导致{fail}。"
        if c.get("vendor"):
            text += f"该组件属于{c['vendor']}。"
        text += "解决方法是由厂商按下表加白，而不是修改 Windows 本身。"
    else:
        who = f"{owner}{roleword} {module}"
        if mech == "registry-callback":
            how = "blocks the installer's registry writes through a kernel registry callback" + (
                f" ({len(keys)} service keys are involved, see the allow-list)" if keys else ""
            )
        elif mech == "dll-injection" or c.get("role") == "injected-module":
            how = f"is injected{(' by ' + inj) if inj else ''} into {into or 'the installer process'}" + (
                f", which exits {ms} ms after the module loads" if ms is not None else ", which then exits"
            )
        elif mech == "filesystem-filter" or c.get("role") == "filesystem-filter":
            how = "filters the file system and denies the installer's file operations"
        else:
            how = "blocks the installation"
        text = f"The root cause is that {who} {how}; as a result {fail}."
        if c.get("vendor"):
            text += f" The component is made by {c['vendor']}."
        text += " The remedy is an allow-list change by the vendor (below), not a change to Windows."
    return Section(t(lang, "h.conclusion"), (Para((text,)),))


def allow_table(lang: str, allow: Sequence[Mapping[str, Any]]) -> Table:
    """The allow-list: one row per process, with the keys and files it must write, or no injection."""
    rows = []
    for a in allow:
        proc: list[Inline | tuple[Inline, ...]] = [Code(str(a.get("process") or ""))]
        if a.get("pattern"):
            proc.append((t(lang, "a.pattern") + ("：" if lang == "zh" else ": "), Code(str(a["pattern"]))))
        if a.get("note"):
            proc.append(t(lang, "a.note") + ("：" if lang == "zh" else ": ") + str(pick(a, "note", lang)))
        rows.append(
            (
                tuple(proc),
                tuple(Code(k) for k in strs(a.get("registry_keys"))),
                tuple(Code(x) for x in strs(a.get("files"))),
                (t(lang, "a.yes"),) if a.get("no_injection") else (),
            )
        )
    head = (t(lang, "a.process"), t(lang, "a.keys"), t(lang, "a.files"), t(lang, "a.inject"))
    # drop columns no row uses
    used = [0] + [i for i in (1, 2, 3) if any(r[i] for r in rows)]
    return Table(tuple(head[i] for i in used), tuple(tuple(r[i] for i in used) for r in rows))


def missing_blocks(lang: str, missing: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Each missing piece of evidence: why it is needed and exactly how to collect it."""
    items: list[tuple[Inline, ...]] = []
    for m in missing:
        why = str(pick(m, "why", lang) or "")
        how = str(pick(m, "how", lang) or "")
        sep = "：" if lang == "zh" else ": "
        items.append(
            (
                Code(str(m.get("artifact") or "?")),
                sep + end(why, lang),
                ("收集方法：" if lang == "zh" else " How: ") + how,
            )
        )
    return [Bullets(tuple(items), ordered=True)]


def next_section(lang: str, d: Mapping[str, Any]) -> Section:
    """下一步动作: allow-list, workaround, fix, verification, missing evidence."""
    findings = d.get("findings") or []
    failures = d.get("failures") or []
    blocks: list[Any] = []
    zh = lang == "zh"
    if findings:
        f = findings[0]
        rem = f.get("remediation") or {}
        c = f.get("culprit") or {}
        product = c.get("product") or c.get("vendor") or ("终端安全软件" if zh else "the endpoint agent")
        allow = rem.get("allow") or []
        if allow:
            blocks.append(
                Para(
                    (
                        f"1. {t(lang, 'h.allow')}：请 {product} 厂商调整策略，为下列进程加白。"
                        if zh
                        else f"1. {t(lang, 'h.allow')}: ask the {product} vendor to change its policy so "
                        f"that these processes are allowed:",
                    )
                )
            )
            blocks.append(allow_table(lang, allow))
            nkeys = sum(len(strs(a.get("registry_keys"))) for a in allow)
            if nkeys > 1:
                blocks.append(
                    Para(
                        (
                            "白名单需覆盖该驱动包安装的全部服务键和驱动文件，而不只是第一个被拒绝的键；"
                            "只放行第一个键，失败只会转移到下一个键。"
                            if zh
                            else "The allow-list covers every service key and driver file the package "
                            "installs, not only the first one denied: allowing only that one would "
                            "just move the failure to the next key.",
                        )
                    )
                )
            if any(a.get("no_injection") for a in allow):
                blocks.append(
                    Para(
                        (
                            "“禁止注入”指不向该进程注入任何 DLL；带通配符的匹配项用于覆盖安装程序每次"
                            "使用的随机临时目录。"
                            if zh
                            else '"Exclude from injection" means no DLL is injected into that process; the '
                            "match patterns cover the random temporary folders the installer uses "
                            "each time.",
                        )
                    )
                )
        n = 2
        workaround = pick(rem, "workaround", lang)
        if workaround:
            blocks.append(Para((f"{n}. {t(lang, 'h.workaround')}{'：' if zh else ': '}{workaround}",)))
            n += 1
        fix = pick(rem, "fix", lang)
        if fix:
            blocks.append(Para((f"{n}. {t(lang, 'h.fix')}{'：' if zh else ': '}{fix}",)))
            n += 1
        if failures:
            what = target_words(lang, str(failures[0].get("target") or "?"))
            blocks.append(
                Para(
                    (
                        f"{n}. 策略调整后在故障机上重新安装 {what}；如仍失败，"
                        f"请按同样方法重新收集日志并发回。"
                        if zh
                        else f"{n}. After the change, install {what} again on the failing machine; if it "
                        f"still fails, collect the same logs again and send them.",
                    )
                )
            )
    missing = d.get("missing") or []
    if missing:
        blocks.append(
            Para(
                (
                    f"{t(lang, 'h.missing')}（请一次性收集齐全，避免来回补充）："
                    if zh
                    else f"{t(lang, 'h.missing')} (please collect all of it in one go):",
                )
            )
        )
        blocks.extend(missing_blocks(lang, missing))
    if not blocks:
        blocks.append(Para(("无需进一步操作。" if zh else "No further action is needed.",)))
    return Section(t(lang, "h.next"), tuple(blocks))


def warnings_section(lang: str, d: Mapping[str, Any], limit: int = 20) -> Section | None:
    ws = d.get("warnings") or []
    if not ws:
        return None
    items: list[tuple[Inline, ...]] = [
        (Code(where(w)), " " + str(w.get("message") or "")) for w in ws[:limit]
    ]
    if len(ws) > limit:
        items.append((f"……另有 {len(ws) - limit} 条" if lang == "zh" else f"... and {len(ws) - limit} more",))
    return Section(t(lang, "h.warnings"), (Bullets(tuple(items)),))


def case_meta(lang: str, d: Mapping[str, Any], case: str | None) -> tuple[tuple[str, str], ...]:
    """Label/value pairs under the title: case number, failed target, evidence, time zone."""
    bundle = d.get("bundle") or {}
    failures = d.get("failures") or []
    meta = [(t(lang, "m.case"), case or t(lang, "m.none"))]
    if failures:
        meta.append((t(lang, "m.target"), target_words(lang, str(failures[0].get("target") or "?"))))
    meta.append((t(lang, "m.bundle"), str(bundle.get("path") or "?")))
    if bundle.get("good"):
        meta.append((t(lang, "m.good"), str(bundle["good"])))
    tz = d.get("time_zone") or {}
    off = tz.get("utc_offset_minutes")
    if off is not None:
        sign = "+" if off >= 0 else "-"
        meta.append((t(lang, "m.tz"), f"UTC{sign}{abs(off) // 60:02d}:{abs(off) % 60:02d}"))
    elif tz:
        meta.append((t(lang, "m.tz"), t(lang, "m.unknown")))
    return tuple(meta)


def build(d: Mapping[str, Any], lang: str = "en", case: str | None = None) -> Document:
    """Build the case summary document.

    Args:
        d: the analysis as JSON (``Analysis.to_dict()``).
        lang: ``en`` or ``zh``.
        case: the case number (``CAS-...``), if the case has one.

    Returns:
        The document; render it with :mod:`culprit.report.markdown` or :mod:`culprit.report.html`.
    """
    sections = [
        problem_section(lang, d),
        analysis_section(lang, d),
        conclusion_section(lang, d),
        next_section(lang, d),
    ]
    w = warnings_section(lang, d)
    if w is not None:
        sections.append(w)
    title = t(lang, "summary.title") + (f" {case}" if case else "")
    return tidy(Document(lang, title, tuple(sections), meta=case_meta(lang, d, case)))
