"""From a loaded workspace to the answer: the failure, the chain, the culprit, the allow-list.

``analyze(ws)`` runs the passes in ``PASSES`` order over an :class:`Inquiry` (what is known so far)
and returns the frozen :class:`culprit.model.Analysis`. Each pass reads the bundle only through
:class:`culprit.analysis.facts.Facts` and adds findings, steps and missing-evidence requests.

The reasoning is code and keyed on structure (a denied write, a module loaded before an early exit,
a stack frame in a driver), never on the names of particular products, drivers, keys or INFs: those
come from the bundle and the knowledge base.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from culprit.analysis import denials, injection, missing, servicing
from culprit.analysis import failures as failures_pass
from culprit.analysis.facts import Facts, basename
from culprit.analysis.failures import FailureCand
from culprit.model import Analysis, Finding, Missing, Remediation, Step, Warning_
from culprit.pipeline import Workspace


@dataclass
class Inquiry:
    facts: Facts
    lang: str = "en"
    failures: list[FailureCand] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    unresolved: list[dict[str, Any]] = field(default_factory=list)
    servicing: servicing.ServicingCase | None = None
    diff: dict[str, Any] | None = None


def find_failures(q: Inquiry) -> None:
    q.failures = failures_pass.find(q.facts)


def servicing_chain(q: Inquiry) -> None:
    case = servicing.build(q.facts, q.failures)
    q.servicing = case
    if case is None:
        return
    steps = list(case.steps)
    steps += servicing.denial_steps(case)
    acl = servicing.acl_step(case)
    if acl is not None:
        steps.append(acl)
    steps += servicing.driver_steps(q.facts, case)
    obj = case.objects[0] if case.objects else None
    kind = "registry-write-denied" if obj is None or obj.kind == "registry" else "file-write-denied"
    target = case.failure.failure.target if case.failure else (case.inf or "the driver package")
    what = obj.path if obj else "its keys and files"
    pkg = case.inf or "driver package"
    workaround = workaround_zh = fix = fix_zh = None
    culprit = None
    confidence = 0.0
    if case.acl is not None and case.acl_grants_writer is False:
        kind = "acl-denied"
        title = f"The ACL of {what} does not let the installer write it; {target} fails"
        title_zh = f"{what} 的 ACL 不允许安装程序写入，导致 {target} 安装失败"
        fix = ("Restore the default ACL of the object (SYSTEM, Administrators and TrustedInstaller full control), "
               f"then reinstall {target}.")
        fix_zh = f"恢复该对象的默认 ACL（SYSTEM、Administrators 与 TrustedInstaller 完全控制），然后重新安装 {target}。"
        confidence = 0.8
    elif case.owner is not None and case.evidence_level >= 2:
        o = case.owner
        role = "filesystem-filter" if kind == "file-write-denied" and o.altitude else "kernel-driver"
        culprit = o.culprit(role, {"evidence": "stack frame of the denied operation" if case.evidence_level == 3
                                   else "known registry/file protection driver loaded while the ACL grants access"})
        confidence = 0.95 if case.evidence_level == 3 else 0.5
        owner = o.product or o.vendor or "third party"
        title = f"{o.module} ({owner}) denies the {pkg} update writing {what}"
        title_zh = f"{o.module}（{owner}）拒绝 {pkg} 驱动更新写入 {what}"
        if case.evidence_level < 3:
            title, title_zh = "Likely: " + title, "疑似：" + title_zh
        product = o.product or o.vendor or "the agent"
        writers = ", ".join(basename(a.process) for a in case.allow)
        workaround = (f"Have the {product} vendor allow {writers} to write these service keys and driver files "
                      f"(or disable {product} self-protection) while {target} installs; then reinstall {target}.")
        workaround_zh = (f"请 {product} 厂商将 {writers} 加入白名单，允许其在安装 {target} 期间写入上述服务注册表键和驱动文件"
                         f"（或临时关闭 {product} 的自我保护），然后重新安装 {target}。")
    else:
        title = f"{target}: {pkg} was denied writing {what}"
        title_zh = f"{target}：{pkg} 写入 {what} 被拒绝"
    remediation = Remediation(tuple(case.allow), workaround, fix, workaround_zh, fix_zh)
    if culprit is None and kind != "acl-denied":
        q.unresolved.append({"kind": kind, "title": title, "title_zh": title_zh, "chain": [s.to_dict() for s in steps],
                             "remediation": remediation.to_dict()})
    else:
        q.findings.append(Finding(kind, title, confidence, culprit, tuple(steps), remediation,
                                  {"inf": case.inf} if case.inf else {}, title_zh=title_zh))
    _servicing_missing(q, case)


def _servicing_missing(q: Inquiry, case: servicing.ServicingCase) -> None:
    lang = q.lang
    svcs = [o.service for o in case.objects if o.service]
    keys = [o.path for o in case.objects]
    if case.section is None and q.facts.events("cbs:driver"):
        q.missing.append(missing.request("setupapi", lang, inf=case.inf))
    if case.evidence_level < 3 and not case.denials and case.acl_grants_writer is not False:
        proc = basename(case.allow[0].process) if case.allow else None
        q.missing.append(missing.request("procmon", lang, process=proc, boot=case.boot, keys=keys, services=svcs))
    if case.acl is None and keys:
        q.missing.append(missing.request("acl", lang, services=svcs, keys=keys))
    if case.inf_missing:
        q.missing.append(missing.request("inf", lang, inf=case.inf))
    if not q.facts.events("driverquery:driver"):
        q.missing.append(missing.request("driverquery", lang))


def custom_action_script(q: Inquiry) -> None:
    """The package's own script custom action failed (MSI 1720/1721): the package is the cause."""
    for f in q.failures:
        if f.source != "msi-ca" or f.related.get("note") not in (1720, 1721):
            continue
        action = str(f.related.get("action"))
        art = f.event.origin.artifact
        script = f.related.get("script") or []
        engine, message, line, col = ([*script, "", "", "", ""])[:4]
        steps: list[Step] = []
        for a in q.facts.events("msi:action"):
            if a.origin.artifact == art and a.get("fields.action") == action and a.get("fields.phase") == "start":
                steps.append(Step(f"custom action {action} starts", a.origin, summary_zh=f"自定义操作 {action} 开始执行"))
                break
        where = f", line {line}, column {col}" if line else ""
        steps.append(Step(f"Note {f.related.get('note')}: {action} script error {f.failure.extra.get('raw')} "
                          f"({engine}: {message}{where})", f.event.origin,
                          summary_zh=f"Note {f.related.get('note')}：{action} 脚本错误 {f.failure.extra.get('raw')}"
                                     f"（{engine}：{message}" + (f"，第 {line} 行第 {col} 列" if line else "") + "）"))
        for e in q.facts.events("msi:error"):
            if e.origin.artifact == art and e.get("fields.error") == f.related.get("note"):
                steps.append(Step(f"Error {e.get('fields.error')}: a script required for this install could not be run",
                                  e.origin, summary_zh=f"错误 {e.get('fields.error')}：安装所需的脚本无法运行"))
                break
        for a in q.facts.events("msi:action"):
            if a.origin.artifact == art and a.get("fields.action") == action and a.get("fields.return_value") == 3:
                steps.append(Step(f"{action}: return value 3", a.origin, summary_zh=f"{action} 返回值 3"))
                break
        top = next((x for x in q.failures if x.source == "msi" and x.event.origin.artifact == art), None)
        if top is not None:
            steps.append(Step(f"installation status {top.failure.code}", top.event.origin,
                              summary_zh=f"安装结果状态 {top.failure.code}"))
        product = top.failure.target if top else "the package"
        title = (f"The package's own custom action {action} fails ({engine}: {message}{where}; "
                 f"Error {f.related.get('note')}); the MSI ends {top.failure.code if top else 'in failure'}")
        title_zh = (f"安装包自身的自定义操作 {action} 失败（{engine}：{message}"
                    + (f"，第 {line} 行" if line else "") + f"；错误 {f.related.get('note')}），MSI 安装失败")
        fix = (f"Ask the vendor of {product} to fix custom action {action} ({engine}: {message}{where}); "
               "this is the package's own script, no security product needs an exclusion.")
        fix_zh = (f"请 {product} 的厂商修复自定义操作 {action}（{engine}：{message}" + (f"，第 {line} 行" if line else "")
                  + "）；这是安装包自身脚本的问题，不需要为安全软件加白。")
        q.findings.append(Finding("custom-action-failed", title, 0.85, None, tuple(steps),
                                  Remediation(fix=fix, fix_zh=fix_zh), {"action": action}, title_zh=title_zh))
        return


def injection_chain(q: Inquiry) -> None:
    if any(f.kind == "custom-action-failed" for f in q.findings) and not q.facts.captures("bad"):
        return  # the package's own script failed: nothing to suspect without a capture
    installer = [f for f in q.failures if f.source in ("msi", "msi-ca", "edgeupdate", "capture")]
    early = [e for e in q.facts.events("edgeupdate:run") if e.get("fields.early_exit")]
    if not installer and not early:
        return
    if not q.facts.captures("bad"):
        crash = injection.crash_finding(q.facts, q.failures)
        if crash is not None:
            q.findings.append(crash)
            return
        proc = None
        if early:
            proc = str(early[0].get("fields.process") or "MicrosoftEdgeUpdate.exe")
            if not proc.lower().endswith(".exe"):
                proc += ".exe"
        q.missing.append(missing.request("procmon", q.lang, process=proc or "msiexec.exe"))
        if not q.facts.captures("good"):
            q.missing.append(missing.request("good-machine", q.lang, process=proc))
        if not q.facts.events("tasklist:process"):  # which foreign modules are loaded where, at no cost
            q.missing.append(missing.request("tasklist-modules", q.lang, process=proc))
        sus = injection.suspects_without_capture(q.facts)
        if sus:
            q.unresolved.append({"kind": "injected-module", "suspects": sus,
                                 "title": "An installer process quits early; third-party modules loaded on this machine "
                                          "are suspects until a capture shows which one loads into it"})
        return
    victims = injection.find_victims(q.facts, q.failures)
    if not victims:
        crash = injection.crash_finding(q.facts, q.failures)
        if crash is not None:
            q.findings.append(crash)
        return
    q.findings.append(injection.build_finding(q.facts, victims[0], q.failures, q.lang))
    if not q.facts.captures("good"):
        q.missing.append(missing.request("good-machine", q.lang, process=victims[0].proc.name))


def good_vs_bad(q: Inquiry) -> None:
    """With a good machine's capture, the ranked differences between the two runs (culprit.diff)."""
    good, bad = q.facts.captures("good"), q.facts.captures("bad")
    if not good or not bad:
        return
    from culprit.diff import compare

    try:
        result = compare(good[0], bad[0])
    except Exception as e:  # the diff is corroboration; its failure must not lose the answer
        q.facts.warnings.append((bad[0].artifact, f"good-vs-bad diff not computed: {type(e).__name__}: {e}"))
        return
    d = result.to_dict()
    d["differences"] = d.get("differences", [])[:10]
    if isinstance(d.get("processes"), list):
        d["processes"] = d["processes"][:50]
    q.diff = d


def denial_chain(q: Inquiry) -> None:
    """Denied writes with a third-party frame that no log-driven chain explained."""
    if any(f.culprit for f in q.findings):
        return
    groups = denials.find(q.facts, q.failures)
    if groups:
        q.findings.append(denials.build_finding(q.facts, groups[0], q.failures))
        return
    locks = denials.find_locks(q.facts, q.failures)
    if locks:
        prefix = list(q.servicing.steps) if q.servicing else None
        q.findings.append(denials.lock_finding(q.facts, locks[0], q.failures, prefix))
        q.unresolved = [u for u in q.unresolved if u.get("kind") not in ("file-write-denied", "registry-write-denied")]


def signatures(q: Inquiry) -> None:
    """Known non-agent causes from the rule files (store corruption, policy blocks...)."""
    from culprit.rules import run_rules

    events = [e for a in q.facts.ws.artifacts if a.role == "bad" and a.kind not in ("procmon", "procmon-csv")
              for e in a.events]
    seen: dict[str, list] = {}
    for m in run_rules(events):
        if m.rule.finding:
            seen.setdefault(m.rule.id, []).append(m)
    failing = {(f.event.origin.artifact, f.event.origin.line) for f in q.failures}
    for _rid, ms in seen.items():
        rule = ms[0].rule
        fd = rule.finding or {}

        def weight(m: Any) -> tuple[int, int]:
            e = m.event
            if "csi" in e.kind:
                return (0, e.origin.line or 0)
            if (e.origin.artifact, e.origin.line) in failing:
                return (1, e.origin.line or 0)
            if str(e.severity) == "error" or e.kind.endswith(":exec"):
                return (2, e.origin.line or 0)
            return (3, e.origin.line or 0)

        picked = sorted(ms, key=weight)[:4]
        picked.sort(key=lambda m: (m.event.origin.artifact, m.event.origin.line or 0))
        steps = [Step(f"{rule.title}: {m.event.message[:160]}", m.event.origin,
                      summary_zh=f"{rule.title_zh or rule.title}：{m.event.message[:160]}") for m in picked]
        steps += _capture_evidence(q, str(fd.get("capture") or ""), fd)
        q.findings.append(Finding(
            str(fd["kind"]), str(fd["title"]), float(fd.get("confidence", 0.6)), None, tuple(steps),
            Remediation(fix=str(fd["fix"]), fix_zh=fd.get("fix_zh")), {"rule": rule.id},
            title_zh=fd.get("title_zh"),
        ))


def _capture_evidence(q: Inquiry, where: str, fd: Any) -> list[Step]:
    """The first event of any capture that matches a rule's ``capture`` filter, as a chain step."""
    if not where:
        return []
    for ref in q.facts.captures("bad"):
        try:
            idx = list(ref.cap.where(where))
        except Exception:
            continue
        if idx:
            en = str(fd.get("capture_summary") or "the capture shows it")
            return [ref.step(int(idx[0]), en, str(fd.get("capture_summary_zh") or en))]
    return []


def fallback_missing(q: Inquiry) -> None:
    """No explanation yet: ask for the artifacts that would give one, given what failed and what is here."""
    if any(f.culprit for f in q.findings) or any(f.extra.get("rule") for f in q.findings):
        return
    kinds = {a.kind for a in q.facts.ws.artifacts if a.role == "bad" and a.kind}
    has_cap = bool(kinds & {"procmon", "procmon-csv"})
    sources = {f.source for f in q.failures}
    want: list[tuple[str, dict[str, Any]]] = []
    if not q.failures:
        want += [(k, {}) for k in ("cbs", "setupapi", "msi", "windowsupdate-log", "evtx-setup", "evtx-application")
                 if _kind_of(k) not in kinds]
    if sources & {"cbs", "wu"}:
        want += [(k, {}) for k in ("cbs", "setupapi") if _kind_of(k) not in kinds]
    if sources & {"msi", "msi-ca", "edgeupdate"}:
        want += [("good-machine", {})] if not q.facts.captures("good") else []
    if sources & {"setupapi"} and not q.facts.infs:
        want.append(("inf", {}))
    if not has_cap:
        boot = any(e.get("fields.failure") for e in q.facts.events("cbs:startup")) or any(
            "post-reboot" in e.message.casefold() or "restart" in e.message.casefold()
            for e in q.facts.events("windowsupdate:*")
            if isinstance(e.code, int) and e.code & 0x80000000)
        proc = ("TrustedInstaller.exe" if sources & {"cbs", "wu", "dism"} else "msiexec.exe" if sources & {"msi", "msi-ca"}
                else None)
        want.append(("procmon", {"boot": boot, **({"process": proc} if proc else {})}))
    want += [(k, {}) for k in ("driverquery", "fltmc-filters") if _kind_of(k) not in kinds]
    for k, params in want:
        try:
            q.missing.append(missing.request(k, q.lang, **params))
        except Exception:  # an id the catalog does not know is a bug in this list, not the user's problem
            continue


def _kind_of(catalog_id: str) -> str:
    return {"windowsupdate-log": "windowsupdate", "evtx-setup": "evtx", "evtx-application": "evtx",
            "fltmc-filters": "fltmc"}.get(catalog_id, catalog_id)


def rank(q: Inquiry) -> None:
    q.findings.sort(key=lambda f: -f.confidence)


def timestamp_steps(q: Inquiry) -> None:
    """Give every chain step the UTC time of the log record it cites (for timelines)."""
    from dataclasses import replace

    index = {}
    for role in ("bad", "good"):
        for evs in q.facts._index(role).values():
            for e in evs:
                if e.origin.line is not None:
                    index.setdefault((e.origin.artifact, e.origin.line), e)

    def fix(s: Step) -> Step:
        if s.time is not None or s.origin.line is None:
            return s
        e = index.get((s.origin.artifact, s.origin.line))
        if e is None:
            return s
        return replace(s, time=e.time, mark=s.mark or ("fail" if str(e.severity) == "error" else "info"))

    q.findings = [replace(f, chain=tuple(fix(s) for s in f.chain)) for f in q.findings]


PASSES: tuple[Callable[[Inquiry], None], ...] = (find_failures, servicing_chain, custom_action_script, injection_chain, good_vs_bad, denial_chain, signatures, fallback_missing, rank, timestamp_steps)


def analyze(ws: Workspace, lang: str = "en") -> Analysis:
    """Run every pass over a loaded workspace and return the answer."""
    facts = Facts(ws)
    q = Inquiry(facts, lang)
    try:
        for p in PASSES:
            p(q)
        warnings = [*ws.all_warnings(), *(Warning_(a, m) for a, m in facts.warnings)]
        artifacts = tuple(a.info() for a in ws.artifacts)
    finally:
        facts.close()
    bad = ", ".join(b.name for b in ws.bundles if any(a.role == "bad" for a in ws.artifacts if a.source in b.sources))
    good = ", ".join(b.name for b in ws.bundles if any(a.role == "good" for a in ws.artifacts if a.source in b.sources))
    extra: dict[str, Any] = {"time_zone": {"utc_offset_minutes": ws.utc_offset, "source": ws.offset_source}}
    if q.unresolved:
        extra["unresolved"] = q.unresolved
    if q.diff:
        extra["diff"] = q.diff
    return Analysis(
        bundle=bad or (ws.bundles[0].name if ws.bundles else ""),
        artifacts=artifacts,
        failures=tuple(f.failure for f in q.failures),
        findings=tuple(q.findings),
        missing=missing.dedupe(q.missing),
        warnings=tuple(warnings),
        good=good or None,
        extra=extra,
    )


__all__ = ["PASSES", "Inquiry", "Step", "analyze"]
