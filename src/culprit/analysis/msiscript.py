"""Pass: the package's own script custom action failed (MSI ``Note 1720/1721``): the package is the cause.

No agent is suspected for it; the fix names the action and the script line.
"""

from __future__ import annotations

from culprit.analysis.inquiry import Inquiry
from culprit.model import Finding, Remediation, Step


def run(q: Inquiry) -> None:
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
            if (
                a.origin.artifact == art
                and a.get("fields.action") == action
                and a.get("fields.phase") == "start"
            ):
                steps.append(
                    Step(
                        f"custom action {action} starts", a.origin, summary_zh=f"自定义操作 {action} 开始执行"
                    )
                )
                break
        where = f", line {line}, column {col}" if line else ""
        steps.append(
            Step(
                f"Note {f.related.get('note')}: {action} script error {f.failure.extra.get('raw')} "
                f"({engine}: {message}{where})",
                f.event.origin,
                summary_zh=f"Note {f.related.get('note')}：{action} 脚本错误 {f.failure.extra.get('raw')}"
                f"（{engine}：{message}" + (f"，第 {line} 行第 {col} 列" if line else "") + "）",
            )
        )
        for e in q.facts.events("msi:error"):
            if e.origin.artifact == art and e.get("fields.error") == f.related.get("note"):
                steps.append(
                    Step(
                        f"Error {e.get('fields.error')}: a script required for this install could not be run",
                        e.origin,
                        summary_zh=f"错误 {e.get('fields.error')}：安装所需的脚本无法运行",
                    )
                )
                break
        for a in q.facts.events("msi:action"):
            if (
                a.origin.artifact == art
                and a.get("fields.action") == action
                and a.get("fields.return_value") == 3
            ):
                steps.append(Step(f"{action}: return value 3", a.origin, summary_zh=f"{action} 返回值 3"))
                break
        top = next((x for x in q.failures if x.source == "msi" and x.event.origin.artifact == art), None)
        if top is not None:
            steps.append(
                Step(
                    f"installation status {top.failure.code}",
                    top.event.origin,
                    summary_zh=f"安装结果状态 {top.failure.code}",
                )
            )
        product = top.failure.target if top else "the package"
        title = (
            f"The package's own custom action {action} fails ({engine}: {message}{where}; "
            f"Error {f.related.get('note')}); the MSI ends {top.failure.code if top else 'in failure'}"
        )
        title_zh = (
            f"安装包自身的自定义操作 {action} 失败（{engine}：{message}"
            + (f"，第 {line} 行" if line else "")
            + f"；错误 {f.related.get('note')}），MSI 安装失败"
        )
        fix = (
            f"Ask the vendor of {product} to fix custom action {action} ({engine}: {message}{where}); "
            "this is the package's own script, no security product needs an exclusion."
        )
        fix_zh = (
            f"请 {product} 的厂商修复自定义操作 {action}（{engine}：{message}"
            + (f"，第 {line} 行" if line else "")
            + "）；这是安装包自身脚本的问题，不需要为安全软件加白。"
        )
        q.findings.append(
            Finding(
                "custom-action-failed",
                title,
                0.85,
                None,
                tuple(steps),
                Remediation(fix=fix, fix_zh=fix_zh),
                {"action": action},
                title_zh=title_zh,
            )
        )
        return
