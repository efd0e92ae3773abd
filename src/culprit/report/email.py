"""Case email drafts built from an analysis: the scope definition and the evidence request.

``scope``: the problem as the logs define it, what is in and out of scope, and how the case
closes. ``request``: exactly what to collect and how (the analysis's missing-evidence list with its
collection steps), and where to upload it: the case's own upload link when the workbench issued
one, never a shared account or password. The closing summary is the case summary
(:mod:`culprit.report.summary`).

Both languages are written separately (not translated sentence by sentence).
"""

from __future__ import annotations

import re

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from culprit.errors import UsageError
from culprit.report.document import Bullets, Code, Document, Inline, Link, Para, Section, tidy
from culprit.report.i18n import pick, t
from culprit.report.summary import cap, case_meta, end, failure_line, target_words


def check_upload_link(url: str | None) -> str | None:
    """An upload link fit to put in an email: http(s), a host, and no user or password in it.

    Raises:
        UsageError: the link is not http(s) or carries credentials.
    """
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"--upload-link must be an http(s) URL, not {url!r}")
    if any(c.isspace() or c in '<>"`\\' for c in url.strip()):
        raise UsageError(f"--upload-link has characters a URL cannot have: {url!r}")
    if parts.username or parts.password:
        raise UsageError("--upload-link must not carry a user name or password; use the case's signed link")
    return url.strip()


def _subject(lang: str, kind: str, case: str | None, what: str) -> str:
    tag = f"[{case}] " if case else ""
    if lang == "zh":
        return {
            "scope": f"{tag}问题范围确认：{what} 安装失败",
            "request": f"{tag}日志收集请求：{what} 安装失败",
        }[kind]
    return {
        "scope": f"{tag}Scope: {what} fails to install",
        "request": f"{tag}Evidence request: {what} fails to install",
    }[kind]


def _what(lang: str, d: Mapping[str, Any]) -> str:
    failures = d.get("failures") or []
    if failures:
        return target_words(lang, str(failures[0].get("target") or "?"))
    return "安装程序" if lang == "zh" else "the installation"


def scope(d: Mapping[str, Any], lang: str = "en", case: str | None = None) -> Document:
    """The scope-definition email.

    Args:
        d: the analysis JSON.
        lang: ``en`` or ``zh``.
        case: the case number, used in the subject.

    Returns:
        The email as a document (``email=True``; the title is the subject line).
    """
    zh = lang == "zh"
    what = _what(lang, d)
    failures = d.get("failures") or []
    bundle = d.get("bundle") or {}
    sections = []
    definition: list[Any] = [
        Para(
            (
                f"在故障机上安装 {what} 失败（证据：{bundle.get('path') or '?'}）。日志中的失败记录："
                if zh
                else f"{cap(what)} fails to install on the affected machine (evidence: "
                f"{bundle.get('path') or '?'}). "
                "The logs record:",
            )
        )
    ]
    if failures:
        definition.append(Bullets(tuple(failure_line(lang, f) for f in failures)))
    else:
        definition.append(
            Para(
                (
                    "目前的日志中还没有失败记录，需要先收集安装失败时的日志。"
                    if zh
                    else "The logs so far hold no failure record; the logs of a failing attempt are "
                    "needed first.",
                )
            )
        )
    sections.append(Section("问题定义" if zh else "Problem definition", tuple(definition)))
    sections.append(
        Section(
            t(lang, "h.in_scope"),
            (
                Bullets(
                    (
                        (
                            f"查明 {what} 在受影响机器上安装失败的原因，以及是哪个组件阻止了安装；"
                            if zh
                            else f"why {what} fails on the affected machines, and which component blocks it;",
                        ),
                        (
                            "给出让安装成功所需的变更（加白或配置调整），并在一台受影响机器上验证。"
                            if zh
                            else "the change (an allow-list entry or a configuration change) that lets "
                            "it install, verified on one "
                            "affected machine.",
                        ),
                    )
                ),
            ),
        )
    )
    sections.append(
        Section(
            t(lang, "h.out_scope"),
            (
                Bullets(
                    (
                        (
                            "第三方终端安全软件本身的修改：由其厂商实施，我们提供需要加白的具体进程、注册表键和文件；"
                            if zh
                            else "changes inside the third-party endpoint product: its vendor makes "
                            "them; we specify exactly which "
                            "processes, registry keys and files it must allow;",
                        ),
                        (
                            "其他补丁或软件因其他原因导致的安装失败（如需处理请另开案例）。"
                            if zh
                            else "other updates or products failing for other reasons (a new case each).",
                        ),
                    )
                ),
            ),
        )
    )
    sections.append(
        Section(
            t(lang, "h.close"),
            (
                Para(
                    (
                        f"满足以下任一条件即可结案：应用约定的变更后，{what} 在受影响机器上安装成功；"
                        f"根本原因已确认，所需变更已书面"
                        "提交给相关厂商；或您确认无需继续处理。"
                        if zh
                        else f"The case closes when {what} installs on an affected machine with the "
                        f"agreed change in place, when the "
                        "root cause is confirmed and the required change has been handed to the vendor "
                        "in writing, or when "
                        "you tell us it is no longer needed.",
                    )
                ),
            ),
        )
    )
    findings = d.get("findings") or []
    if findings:
        sections.append(
            Section(
                t(lang, "h.have"),
                (
                    Para(
                        (
                            (
                                "根据已收到的日志，初步判断："
                                if zh
                                else "From the logs received, our first reading is: "
                            )
                            + str(pick(findings[0], "title", lang) or ""),
                        )
                    ),
                ),
            )
        )
    missing = d.get("missing") or []
    if missing:
        sections.append(
            Section(
                "还需要的证据" if zh else "What we still need",
                (
                    Bullets(
                        tuple(
                            (
                                Code(str(m.get("artifact") or "?")),
                                ("：" if zh else ": ") + str(pick(m, "why", lang) or ""),
                            )
                            for m in missing
                        )
                    ),
                    Para(
                        (
                            "具体收集步骤将在日志收集请求中单独发送。"
                            if zh
                            else "The exact collection steps follow in a separate evidence request.",
                        )
                    ),
                ),
            )
        )
    closing = (
        ("如对以上范围有不同意见，请直接回复本邮件。", "谢谢！")
        if zh
        else ("If you see the scope differently, just reply to this email.", "Best regards,")
    )
    doc = Document(
        lang,
        _subject(lang, "scope", case, what),
        tuple(sections),
        meta=case_meta(lang, d, case),
        email=True,
        greeting="您好，" if zh else "Hello,",
        closing=closing,
    )
    return tidy(doc)


# What a customer copies as is: commands (collector, procmon, wevtutil...) and Windows paths / placeholders.
_LITERAL = re.compile(
    r"powershell [^\n]*$"
    r"|(?:procmon|wevtutil|driverquery|fltmc|tasklist|sc|reg|icacls|expand)(?:\.exe)?"
    r"(?: (?:/[^\s,;，；]+|-[\w:*]+|[A-Za-z]:\\[^\s,;，；]+|[\w.%-]+\.(?:pml|evtx|csv|txt|reg|log)|(?:epl|qc|query|export|filters|instances) ?\S*|\w+\\\S+|>))+"
    r"|(?:[A-Za-z]:\\|%\w+%\\|\\\\)[^\s,;，；()（）]+|<[^<>\n]{1,40}>",
    re.I,
)


def _literal_spans(text: str) -> tuple[Inline, ...]:
    """Instructions as prose with their commands and paths as code, so they survive copy and paste."""
    out: list[Inline] = []
    pos = 0
    for m in _LITERAL.finditer(text):
        if m.start() > pos:
            out.append(text[pos : m.start()])
        out.append(Code(m.group(0).rstrip()))
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return tuple(out)


def request(
    d: Mapping[str, Any], lang: str = "en", case: str | None = None, upload_link: str | None = None
) -> Document:
    """The evidence-request email: what to collect, how, and where to upload it.

    Args:
        d: the analysis JSON.
        lang: ``en`` or ``zh``.
        case: the case number, used in the subject.
        upload_link: the case's signed upload link, if the workbench issued one.

    Returns:
        The email as a document (``email=True``).

    Raises:
        UsageError: the upload link is not a plain http(s) URL.
    """
    zh = lang == "zh"
    link = check_upload_link(upload_link)
    what = _what(lang, d)
    missing = d.get("missing") or []
    sections = []
    if missing:
        intro = Para(
            (
                "为完成分析，还需要从故障机收集以下内容。请一次性收集齐全，尽量避免再次补充。"
                if zh
                else "To finish the analysis we need the following from the failing machine. Please "
                "collect all "
                "of it in one go, so that this request is the last one.",
            )
        )
        items: list[tuple[Inline, ...]] = []
        for m in missing:
            items.append(
                (
                    Code(str(m.get("artifact") or "?")),
                    ("：" if zh else ": ") + end(str(pick(m, "why", lang) or ""), lang),
                    "收集方法：" if zh else " How: ",
                    *_literal_spans(str(pick(m, "how", lang) or "")),
                )
            )
        sections.append(Section(t(lang, "h.collect"), (intro, Bullets(tuple(items), ordered=True))))
    else:
        sections.append(
            Section(
                t(lang, "h.collect"),
                (
                    Para(
                        (
                            "现有日志已足以完成分析，目前不需要再收集其他内容。"
                            if zh
                            else "The logs we have are enough to finish the analysis; nothing more is "
                            "needed right now.",
                        )
                    ),
                ),
            )
        )
    if link:
        upload: tuple[Inline, ...] = (
            (
                "请将所有文件打包为一个 .zip 文件，通过以下链接上传："
                if zh
                else "Please put everything into one .zip file and upload it here: "
            ),
            Link(link),
            (
                "。该链接仅用于本案例，到期自动失效，无需账号或密码。"
                if zh
                else ". The link belongs to this case only and expires; it needs no account or password."
            ),
        )
    else:
        upload = (
            (
                "我们会单独发送本案例专用的上传链接（到期自动失效）。请不要通过共享账号或共享密码传送日志。"
                if zh
                else "We will send you an upload link for this case (it belongs to this case only and "
                "expires). "
                "Please do not send logs through a shared account or a shared password."
            ),
        )
    sections.append(
        Section(
            t(lang, "h.upload"),
            (
                Para(upload),
                Para(
                    (
                        "请保留原始文件名；如果从多台机器收集，请每台机器单独放一个文件夹，并以机器名命名。"
                        if zh
                        else "Please keep the original file names; if you collect from several "
                        "machines, put each machine's "
                        "files in a folder named after the machine.",
                    )
                ),
            ),
        )
    )
    closing = (
        ("如收集过程中遇到问题，请直接回复本邮件。", "谢谢！")
        if zh
        else ("If anything in these steps does not work, just reply to this email.", "Best regards,")
    )
    doc = Document(
        lang,
        _subject(lang, "request", case, what),
        tuple(sections),
        meta=case_meta(lang, d, case),
        email=True,
        greeting="您好，" if zh else "Hello,",
        closing=closing,
    )
    return tidy(doc)
