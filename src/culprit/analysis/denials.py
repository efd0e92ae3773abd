"""Denied writes in a Procmon capture that no log-driven chain explained: the generic denial pass.

An installer process (or anything the installer started) is denied writing a registry key or a
file, and the stack of the denied operation runs through a third-party kernel module: that module
blocked it. Installer logs that name the object (MSI ``Note: 1: 1402/1406 ... 3: 5``, ``Error 1920``)
pull the matching denial to the front. Without a third-party frame there is no culprit, only the
denial and a request for the evidence that would name one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from culprit.analysis.attribution import Owner, identify, identify_module
from culprit.analysis.facts import CaptureRef, Facts, basename, norm_path
from culprit.analysis.failures import FailureCand
from culprit.analysis.inquiry import Inquiry
from culprit.model import AllowRule, Event, Finding, Remediation, Step, format_code

WRITE_OPS = {
    "RegSetValue",
    "RegCreateKey",
    "RegDeleteKey",
    "RegDeleteValue",
    "RegSetKeySecurity",
    "RegSetInfoKey",
    "RegOpenKey",
    "CreateFile",
    "WriteFile",
    "SetRenameInformationFile",
    "SetDispositionInformationFile",
    "SetSecurityFile",
    "SetBasicInformationFile",
}
_WRITE_WORDS = (
    "write",
    "set value",
    "create sub key",
    "delete",
    "all access",
    "generic all",
    "maximum allowed",
)


@dataclass
class DenialGroup:
    ref: CaptureRef
    driver: str
    process: str
    image_path: str
    indexes: list[int] = field(default_factory=list)
    objects: list[tuple[str, str]] = field(default_factory=list)  # (kind, path)
    score: float = 0.0
    owner: Owner | None = None


def _is_write(op: str, detail: str) -> bool:
    if op in ("RegOpenKey", "CreateFile"):
        d = detail.casefold()
        return any(w in d for w in _WRITE_WORDS) or "overwrite" in d or "disposition: create" in d
    return op in WRITE_OPS


def _object(op: str, path: str) -> tuple[str, str]:
    if path.upper().startswith(("HKLM", "HKCU", "HKCR", "HKU", "HKEY_")):
        if op in ("RegSetValue", "RegDeleteValue"):
            return "registry", path.rsplit("\\", 1)[0]
        return "registry", path
    return "file", path


def _install_processes(facts: Facts, failures: list[FailureCand]) -> set[str]:
    """Image names that belong to the failing install: the engines and what the logs name."""
    names = {
        "msiexec.exe",
        "trustedinstaller.exe",
        "tiworker.exe",
        "drvinst.exe",
        "dism.exe",
        "dismhost.exe",
        "wusa.exe",
    }
    for e in facts.events("msi:note"):
        if e.get("fields.path"):
            names.add(basename(str(e.get("fields.path"))).casefold())
    for e in facts.events("setupapi:section"):
        cmd = str(e.get("fields.command_line") or "").strip().strip('"')
        if cmd:
            names.add(basename(cmd.split('"', 1)[0].split(" ", 1)[0]).casefold())
    for e in facts.events("edgeupdate:run"):
        names.add(f"{str(e.get('fields.process') or '').casefold()}.exe")
    # The Service Control Manager writes service keys on the installer's behalf (CreateService,
    # ChangeServiceConfig): when the install failed on a service, services.exe is part of it.
    if _service_names(facts):
        names.add("services.exe")
    return names


def _service_names(facts: Facts) -> set[str]:
    out = set()
    for e in facts.events("msi:note"):
        if e.get("fields.note") in (1920, 1921, 1922, 1923):
            # "Service '[2]' ([3]) could not be installed": display name and service name
            out.update(str(a) for a in (e.get("fields.args") or [])[:2] if a)
    for e in facts.events("setupapi:service_failure"):
        if e.get("fields.service"):
            out.add(str(e.get("fields.service")))
    return out


# \Registry\Machine\SYSTEM\CurrentControlSet\Services\sshd      service = [l:4]'sshd'
_NT_KEY = re.compile(r"\\Registry\\Machine\\[^'\"\s;)]+", re.I)
_CSI_SERVICE = re.compile(r"service = \[l:\d+\]'([^']+)'")


def _servicing_mentions(facts: Facts) -> dict[str, list[Event]]:
    """Keys that failing servicing lines (CSI failure frames, CBS/DISM errors) name, with those lines."""
    out: dict[str, list[Event]] = {}
    for e in facts.events("cbs:*", "dism:*"):
        if str(e.severity) != "error" and not e.get("fields.failure"):
            continue
        text = e.origin.text or e.message
        keys = [norm_path(m.group(0)) for m in _NT_KEY.finditer(text)]
        keys += [
            norm_path("HKLM\\SYSTEM\\CurrentControlSet\\Services\\" + m.group(1))
            for m in _CSI_SERVICE.finditer(text)
        ]
        for k in keys:
            out.setdefault(k, []).append(e)
    return out


def _msi_file_error(e: Event) -> str | None:
    """``Note: 1: 1310 2: 5 3: <file>`` (error writing) / ``1304``: the file, when the error is 5."""
    args = e.get("fields.args") or []
    if e.get("fields.note") in (1304, 1310) and len(args) >= 2 and str(args[0]).strip() == "5":
        return str(args[1]).strip()
    return None


# Executing op: SetTargetFolder(Folder=C:\Program Files\Fabrikam\Sync Client\)
_TARGET = re.compile(r"Folder=([^,)]+)")
# Executing op: FileCopy(SourceName=FbSync.exe,...,DestName=FbSync.exe,...)
_DEST = re.compile(r"DestName=([^,)]+)")


def msi_script_files(facts: Facts) -> list[str]:
    """Every file the Windows Installer script copies (SetTargetFolder + FileCopy), in script order."""
    out: list[str] = []
    folder = ""
    for e in facts.events("msi:op"):
        op, args = e.get("fields.op"), str(e.get("fields.args") or "")
        if op == "SetTargetFolder" and (m := _TARGET.search(args)):
            folder = m.group(1)
        elif op == "FileCopy" and folder and (m := _DEST.search(args)):
            path = folder.rstrip("\\") + "\\" + m.group(1)
            if path not in out:
                out.append(path)
    return out


def _names(path: str, logged: set[str]) -> bool:
    """Whether a log names this object (or a key above it); a key written without its hive
    (``\\SOFTWARE\\...``, as MSI notes do) matches by its tail."""
    for x in logged:
        if path == x or path.startswith(x + "\\"):
            return True
        if x.startswith("\\") and (path.endswith(x) or (x + "\\") in path):
            return True
    return False


def _logged_objects(facts: Facts) -> set[str]:
    """Keys and files the installer logs say were denied (error 5)."""
    out = set(_servicing_mentions(facts))
    for e in facts.events("msi:note"):
        if e.get("fields.note") in (1402, 1406) and e.get("fields.win32") == 5 and e.get("fields.key"):
            out.add(norm_path(str(e.get("fields.key"))))
        f = _msi_file_error(e)
        if f:
            out.add(norm_path(f))
    for svc in _service_names(facts):
        out.add(norm_path("HKLM\\SYSTEM\\CurrentControlSet\\Services\\" + svc))
    for e in facts.events("exchangesetup:line"):  # "Access to the path '...' is denied."
        if e.get("fields.path") and (
            "denied" in str(e.get("fields.log_text") or "")
            or e.get("fields.exception") == "System.UnauthorizedAccessException"
        ):
            out.add(norm_path(str(e.get("fields.path"))))
    return out


def find(facts: Facts, failures: list[FailureCand]) -> list[DenialGroup]:
    from culprit.kb import microsoft

    logged = _logged_objects(facts)
    groups: dict[tuple[str, str, str], DenialGroup] = {}
    for ref in facts.captures("bad"):
        cap = ref.cap
        try:
            idx = np.asarray(cap.where("result = 'ACCESS DENIED'"))
        except Exception:
            continue
        for i in idx.tolist()[:5000]:
            ev = cap.event(i)
            op = str(ev.get("fields.operation") or "")
            if not _is_write(op, str(ev.get("fields.detail") or "")):
                continue
            frames = [str(f).split("+", 1)[0] for f in ev.get("fields.stack") or []]
            driver = next(
                (
                    m
                    for m in frames
                    if "." in m and not m.startswith("0x") and not microsoft.is_microsoft(name=m)
                ),
                None,
            )
            if driver is None:
                continue
            proc = ev.process.name if ev.process and ev.process.name else "?"
            key = (ref.artifact, driver.casefold(), proc.casefold())
            g = groups.get(key)
            if g is None:
                g = groups[key] = DenialGroup(ref, driver, proc, str(ev.get("fields.image_path") or proc))
            g.indexes.append(i)
            obj = _object(op, str(ev.get("fields.path") or ""))
            if obj not in g.objects:
                g.objects.append(obj)
    installers = _install_processes(facts, failures)
    for g in groups.values():
        named = any(_names(norm_path(p), logged) for _k, p in g.objects)
        ours = g.process.casefold() in installers or any(
            w in g.process.casefold() for w in ("setup", "install")
        )
        repro = not failures  # no failure in the bundle: a reproduction capture, its denials are the point
        if not (named or ours or repro):
            continue  # a denial unrelated to the install (another program, its own keys) proves nothing here
        g.score = 0.6 + (0.3 if named else 0.0) + (0.1 if ours else 0.0)
        g.owner = identify_module(facts, g.ref, g.driver)
    out = [g for g in groups.values() if g.score > 0 and not (g.owner and g.owner.microsoft)]
    out.sort(key=lambda g: (-g.score, -len(g.indexes)))
    return out


def build_finding(facts: Facts, g: DenialGroup, failures: list[FailureCand]) -> Finding:
    o = g.owner or identify(facts, g.driver)
    kinds = {k for k, _ in g.objects}
    kind = (
        "registry-write-denied"
        if kinds == {"registry"}
        else "file-write-denied"
        if kinds == {"file"}
        else "write-denied"
    )
    steps: list[Step] = []
    denied = {norm_path(p) for _k, p in g.objects}
    if any(f.source == "dism" for f in failures):
        for e in facts.events("dism:command_line"):
            if e.get("fields.parent"):
                steps.append(
                    Step(
                        f"DISM was started by: {str(e.get('fields.command_line'))[:200]}",
                        e.origin,
                        summary_zh=f"DISM 由以下命令启动：{str(e.get('fields.command_line'))[:200]}",
                    )
                )
                break
    mentions = _servicing_mentions(facts)
    cited: set[tuple[str, int | None]] = set()
    for key in sorted(denied):
        evs = mentions.get(key, [])
        for e in evs[:1] + evs[-1:] if len(evs) > 1 else evs:
            if (e.origin.artifact, e.origin.line) in cited:
                continue
            cited.add((e.origin.artifact, e.origin.line))
            steps.append(
                Step(
                    f"servicing log: the operation on {key} fails ({e.message[:120]})",
                    e.origin,
                    summary_zh=f"服务日志：对 {key} 的操作失败（{e.message[:120]}）",
                )
            )
    for f in failures[:3]:
        why = format_code(f.failure.code) or str(f.failure.extra.get("error") or "") or "?"
        steps.append(
            Step(
                f"{f.failure.target} failed ({why})",
                f.failure.origin,
                summary_zh=f"{f.failure.target} 失败（{why}）",
            )
        )
    for e in facts.events("msi:note"):
        key = e.get("fields.key")
        if e.get("fields.note") in (1402, 1406) and key and norm_path(str(key)) in denied:
            steps.append(
                Step(
                    f"Windows Installer: Note {e.get('fields.note')}: cannot open/write {key}, "
                    f"error {e.get('fields.win32')}",
                    e.origin,
                    summary_zh=f"Windows Installer：Note {e.get('fields.note')}，无法打开/写入 {key}，"
                    f"错误 {e.get('fields.win32')}",
                )
            )
            break
    for e in facts.events("msi:note"):
        f = _msi_file_error(e)
        if f and norm_path(f) in denied:
            steps.append(
                Step(
                    f"Windows Installer: Note {e.get('fields.note')}: error 5 writing {f}",
                    e.origin,
                    summary_zh=f"Windows Installer：Note {e.get('fields.note')}，写入 {f} 时出现错误 5（拒绝访问）",
                )
            )
            for x in facts.events("msi:error"):
                if x.get("fields.error") == e.get("fields.note") and x.origin.artifact == e.origin.artifact:
                    steps.append(
                        Step(
                            f"Error {x.get('fields.error')}: error writing to {f}, system error 5",
                            x.origin,
                            summary_zh=f"错误 {x.get('fields.error')}：写入 {f} 失败，系统错误 5",
                        )
                    )
                    break
            break
    for a in facts.events("msi:action"):
        if a.get("fields.first_failure"):
            steps.append(
                Step(
                    f"{a.get('fields.action')}: return value 3; rollback follows",
                    a.origin,
                    summary_zh=f"{a.get('fields.action')} 返回值 3，随后回滚",
                )
            )
            break
    for i in g.indexes[:3]:
        ev = g.ref.cap.event(i)
        op, path = ev.get("fields.operation"), ev.get("fields.path")
        steps.append(
            g.ref.step(
                i,
                f"Procmon: {g.process} {op} {path} ACCESS DENIED with {g.driver} frames on the stack",
                f"Procmon：{g.process} 执行 {op} {path} 被拒绝访问，调用栈中有 {g.driver} 的帧",
            )
        )
    for ev in facts.events("acl:object"):
        obj = norm_path(str(ev.get("fields.object")))
        if any(d == obj or d.startswith(obj + "\\") for d in denied):
            grants = ", ".join(str(x) for x in ev.get("fields.grants_write_to") or []) or "nobody"
            steps.append(
                Step(
                    f"the ACL of {ev.get('fields.object')} grants write access to {grants}, so the denial "
                    "is not the ACL's",
                    ev.origin,
                    summary_zh=f"{ev.get('fields.object')} 的 ACL 已授予 {grants} 写入权限，因此拒绝访问并非 ACL 造成",
                )
            )
            break
    for ev in o.evidence[:1]:
        steps.append(
            Step(
                f"{o.module} is loaded on this machine" + (f" ({o.product})" if o.product else ""),
                ev.origin,
                summary_zh=f"本机加载了 {o.module}" + (f"（{o.product}）" if o.product else ""),
            )
        )
    for e in facts.events("msi:note"):
        names = [str(a) for a in (e.get("fields.args") or [])[:2] if a]
        svc = next(
            (
                n
                for n in names
                if any(norm_path(p).endswith("\\services\\" + n.casefold()) for _k, p in g.objects)
            ),
            None,
        )
        if e.get("fields.note") in (1920, 1921, 1922, 1923) and svc:
            for op in facts.events("msi:op"):
                if (
                    op.get("fields.op") == "ServiceInstall"
                    and f"Name={svc}," in str(op.get("fields.args") or "")
                    and op.origin.artifact == e.origin.artifact
                ):
                    steps.insert(
                        1,
                        Step(
                            f"Windows Installer asks for the service {svc} (ServiceInstall)",
                            op.origin,
                            summary_zh=f"Windows Installer 请求安装服务 {svc}（ServiceInstall）",
                        ),
                    )
                    break
            steps.insert(
                2,
                Step(
                    f"Windows Installer: error {e.get('fields.note')}, service {svc} could not be installed",
                    e.origin,
                    summary_zh=f"Windows Installer：错误 {e.get('fields.note')}，服务 {svc} 无法安装",
                ),
            )
            break
    keys = tuple(p for k, p in g.objects if k == "registry")
    files = tuple(p for k, p in g.objects if k == "file")
    if files and basename(g.image_path).casefold() == "msiexec.exe":
        # the installer writes every file of the same folders, not only the first one denied
        folders = {norm_path(f).rsplit("\\", 1)[0] for f in files}
        more = [
            f
            for f in msi_script_files(facts)
            if norm_path(f).rsplit("\\", 1)[0] in folders
            and norm_path(f) not in {norm_path(x) for x in files}
        ]
        files = files + tuple(more)
    # Exchange Setup replaces files all over its installation folder: allow the folder, not one file
    note = note_zh = None
    for e in facts.events("exchangesetup:line"):
        d = e.get("fields.install_dir")
        if d and any(norm_path(f).startswith(norm_path(str(d)) + "\\") for f in files):
            files = (*files, str(d).rstrip("\\") + "\\*")
            note = (
                "Setup replaces files all over the installation folder its log names, not only the one denied"
            )
            note_zh = "安装程序会替换其日志所列安装目录中的各处文件，而不只是被拒绝的这一个"
            break
    from culprit.analysis.proctree import generalize

    pat = generalize(g.image_path)
    rules = [
        AllowRule(
            process=g.image_path,
            registry_keys=keys,
            files=files,
            pattern=pat if pat != g.image_path else None,
            note=note,
            note_zh=note_zh,
        )
    ]
    if basename(g.image_path).casefold() == "services.exe" and any(
        f.source in ("msi", "msi-ca") for f in failures
    ):
        rules.insert(
            0,
            AllowRule(
                process="C:\\Windows\\System32\\msiexec.exe",
                registry_keys=keys,
                files=files,
                note="the installer that asks the Service Control Manager for the service",
                note_zh="请求服务控制管理器创建服务的安装程序",
            ),
        )
    allow = tuple(rules)
    product = o.product or o.vendor or "the agent"
    role = "filesystem-filter" if kind == "file-write-denied" and o.altitude else "kernel-driver"
    what = (keys or files or ("its objects",))[0]
    title = f"{o.module} ({product}) denies {g.process} writing {what}"
    title_zh = f"{o.module}（{product}）拒绝 {g.process} 写入 {what}"
    wa = (
        f"Have the {product} vendor allow {basename(g.image_path)} to write these keys and files, or disable "
        f"{product}'s protection while the install runs; then install again."
    )
    wa_zh = (
        f"请 {product} 厂商将 {basename(g.image_path)} 加入白名单，允许其写入上述注册表键和文件，"
        f"或在安装期间临时关闭 {product} 的保护，然后重新安装。"
    )
    return Finding(
        kind,
        title,
        min(g.score, 0.95),
        o.culprit(role, {"evidence": "stack frame of the denied operation"}),
        tuple(steps),
        Remediation(allow, wa, workaround_zh=wa_zh),
        {"denied_events": len(g.indexes)},
        title_zh=title_zh,
    )


# --- files held open by another process (SHARING VIOLATION) ----------------------------------------


@dataclass
class Lock:
    """An installer process refused a file because another process holds it open without sharing."""

    ref: CaptureRef
    index: int  # the SHARING VIOLATION event
    path: str
    victim: str
    victim_image: str
    holder_pid: int
    holder: str
    holder_image: str
    holder_company: str | None
    open_index: int  # the holder's CreateFile that is still open
    score: float = 0.0
    owner: Owner | None = None


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def find_locks(facts: Facts, failures: list[FailureCand]) -> list[Lock]:
    """Sharing violations of install processes, with the process that held the file open."""
    installers = _install_processes(facts, failures)
    out: list[Lock] = []
    for ref in facts.captures("bad"):
        cap = ref.cap
        try:
            idx = np.asarray(cap.where("result = 'SHARING VIOLATION'"))
        except Exception:
            continue
        seen: set[tuple[str, str]] = set()
        for i in idx.tolist()[:2000]:
            ev = cap.event(i)
            victim = ev.process.name if ev.process and ev.process.name else "?"
            path = str(ev.get("fields.path") or "")
            if not path or (victim.casefold(), path.casefold()) in seen:
                continue
            seen.add((victim.casefold(), path.casefold()))
            ours = victim.casefold() in installers or any(
                w in victim.casefold() for w in ("setup", "install")
            )
            if not ours:
                continue
            holder = _holder(cap, path, i, ev.process.pid if ev.process else None)
            if holder is None:
                continue
            h_i, h_ev = holder
            hp = h_ev.process
            lock = Lock(
                ref,
                i,
                path,
                victim,
                str(ev.get("fields.image_path") or victim),
                hp.pid if hp else -1,
                hp.name if hp and hp.name else "?",
                str(h_ev.get("fields.image_path") or ""),
                str(h_ev.get("fields.company") or "") or None,
                h_i,
            )
            lock.owner = identify(facts, lock.holder_image or lock.holder, lock.holder_company)
            lock.score = 0.0 if lock.owner.microsoft else 0.9
            if lock.score:
                out.append(lock)
    out.sort(key=lambda x: -x.score)
    return out


def _holder(cap: object, path: str, before: int, victim_pid: int | None) -> tuple[int, object] | None:
    """The last successful open of ``path`` by another process that was not closed before ``before``."""
    try:
        idx = [int(i) for i in np.asarray(cap.where(f"path = {_q(path)}")) if int(i) < before]  # type: ignore[attr-defined]
    except Exception:
        return None
    open_by: dict[int, tuple[int, object]] = {}
    for i in idx:
        ev = cap.event(i)  # type: ignore[attr-defined]
        pid = ev.process.pid if ev.process else None
        if pid is None or pid == victim_pid:
            continue
        op = ev.get("fields.operation")
        if op == "CreateFile" and ev.get("fields.result") == "SUCCESS":
            open_by[pid] = (i, ev)
        elif op == "CloseFile":
            open_by.pop(pid, None)
    if not open_by:
        return None
    return max(open_by.values(), key=lambda t: t[0])


def lock_finding(
    facts: Facts, lk: Lock, failures: list[FailureCand], prefix: list[Step] | None = None
) -> Finding:
    o = lk.owner or identify(facts, lk.holder_image or lk.holder)
    steps: list[Step] = list(prefix or [])
    if not steps:
        for f in failures[:2]:
            steps.append(
                Step(
                    f"{f.failure.target} failed ({format_code(f.failure.code)})",
                    f.failure.origin,
                    summary_zh=f"{f.failure.target} 失败（{format_code(f.failure.code)}）",
                )
            )
    steps.append(
        lk.ref.step(
            lk.open_index,
            f"{lk.holder} (PID {lk.holder_pid}) opens {lk.path} and keeps it open",
            f"{lk.holder}（PID {lk.holder_pid}）打开 {lk.path} 且一直未关闭",
        )
    )
    steps.append(
        lk.ref.step(
            lk.index,
            f"Procmon: {lk.victim} cannot open {lk.path}: SHARING VIOLATION",
            f"Procmon：{lk.victim} 无法打开 {lk.path}：共享冲突（SHARING VIOLATION）",
        )
    )
    for ev in o.evidence[:1]:
        steps.append(
            Step(
                f"{o.module} is installed on this machine" + (f" ({o.product})" if o.product else ""),
                ev.origin,
                summary_zh=f"本机安装了 {o.module}" + (f"（{o.product}）" if o.product else ""),
            )
        )
    product = o.product or o.vendor or lk.holder
    role = "service"
    title = f"{lk.holder} ({product}) holds {basename(lk.path)} open, so {lk.victim} cannot replace it"
    title_zh = f"{lk.holder}（{product}）一直占用 {basename(lk.path)}，导致 {lk.victim} 无法替换该文件"
    from culprit.analysis.proctree import generalize

    pat = generalize(lk.victim_image)
    allow = (
        AllowRule(
            process=lk.victim_image,
            files=(lk.path,),
            pattern=pat if pat != lk.victim_image else None,
            note=f"exclude this file from {lk.holder}'s scanning/monitoring while the install runs",
            note_zh=f"安装期间请让 {lk.holder} 不要扫描或占用该文件",
        ),
    )
    wa = (
        f"Have the {product} vendor stop {lk.holder} holding {lk.path} (exclude it from scanning or monitoring), "
        f"or stop {product} while the install runs; then install again."
    )
    wa_zh = f"请 {product} 厂商让 {lk.holder} 不再占用 {lk.path}（将其排除在扫描/监控之外），或在安装期间临时停止 {product}，然后重新安装。"
    culprit = o.culprit(
        role,
        {
            "evidence": "holds the file open without sharing",
            "pid": lk.holder_pid,
            "process_path": lk.holder_image,
        },
    )
    return Finding(
        "file-locked",
        title,
        lk.score,
        culprit,
        tuple(steps),
        Remediation(allow, wa, workaround_zh=wa_zh),
        {"file": lk.path},
        title_zh=title_zh,
    )


# --- the pass -----------------------------------------------------------------------------------


def run(q: Inquiry) -> None:
    """Pass: denied writes (and held files) in the install's processes that no log chain explained."""
    if any(f.kind == "acl-denied" for f in q.findings):
        return  # the object's own ACL denies the writer: a driver on the stack is just the callback path
    if any(f.culprit for f in q.findings):
        return
    groups = find(q.facts, q.failures)
    if groups:
        q.findings.append(build_finding(q.facts, groups[0], q.failures))
        return
    locks = find_locks(q.facts, q.failures)
    if locks:
        prefix = list(q.servicing.steps) if q.servicing else None
        q.findings.append(lock_finding(q.facts, locks[0], q.failures, prefix))
        q.unresolved = [
            u for u in q.unresolved if u.get("kind") not in ("file-write-denied", "registry-write-denied")
        ]
        return
    likely = stackless_finding(q.facts, q.failures)
    if likely is not None:
        q.findings.append(likely)
        from culprit.analysis import missing

        proc = likely.remediation.allow[0].process.rsplit("\\", 1)[-1] if likely.remediation.allow else None
        q.missing.append(missing.request("procmon", q.lang, process=proc))


# --- denials without a stack (Procmon CSV exports) -----------------------------------------------------


def stackless_finding(facts: Facts, failures: list[FailureCand]) -> Finding | None:
    """A denied write the installer's log names, seen in a capture without stacks (a CSV export).

    Without a frame the blocker cannot be proven; a protection driver the knowledge base knows, loaded on the
    machine while the object's ACL grants the writer, makes it *likely* (confidence 0.5, title "Likely"), and
    the native capture that would prove it is requested.
    """
    from culprit.analysis.servicing import _aces_allow_writer, writer_allowed

    logged = _logged_objects(facts)
    installers = _install_processes(facts, failures)
    hit: tuple[CaptureRef, int, Event, str] | None = None
    for ref in facts.captures("bad"):
        try:
            idx = np.asarray(ref.cap.where("result = 'ACCESS DENIED'"))
        except Exception:
            continue
        for i in idx.tolist()[:5000]:
            ev = ref.cap.event(i)
            if ev.get("fields.stack"):
                continue  # with a stack, find() decides
            proc = ev.process.name if ev.process and ev.process.name else ""
            kind, obj = _object(str(ev.get("fields.operation") or ""), str(ev.get("fields.path") or ""))
            if proc.casefold() in installers and _names(norm_path(obj), logged):
                hit = (ref, i, ev, obj)
                break
        if hit:
            break
    if hit is None:
        return None
    ref, i, ev, obj = hit
    kind = "registry" if obj.upper().startswith(("HKLM", "HKCU", "HKCR", "HKU", "HKEY_")) else "file"
    acl = None
    for a in facts.events("acl:object"):
        o = norm_path(str(a.get("fields.object")))
        if norm_path(obj) == o or norm_path(obj).startswith(o + "\\"):
            acl = a
            break
    if acl is None:
        return None
    verdict = writer_allowed(str(acl.get("fields.sddl") or ""), str(acl.get("fields.object_type") or kind))
    if verdict is None:
        verdict = _aces_allow_writer(facts, acl)
    if not verdict:
        return None
    wanted = ("registry-callback", "filesystem-filter") if kind == "registry" else ("filesystem-filter",)
    owner: Owner | None = None
    evidence: Event | None = None
    for d in facts.events("fltmc:filter", "driverquery:driver"):
        name = (
            basename(str(d.get("fields.path") or ""))
            or f"{d.get('fields.filter') or d.get('fields.module')}.sys"
        )
        o = identify(facts, name)
        if o.product and not o.microsoft and (o.mechanism or "") in wanted:
            owner, evidence = o, d
            break
    if owner is None:
        return None
    steps: list[Step] = []
    for e in facts.events("msi:note"):
        key = e.get("fields.key") or _msi_file_error(e)
        if key and _names(norm_path(obj), {norm_path(str(key))}):
            steps.append(
                Step(
                    f"Windows Installer: Note {e.get('fields.note')}: cannot open/write {key}, error "
                    f"{e.get('fields.win32') or 5}",
                    e.origin,
                    summary_zh=f"Windows Installer：Note {e.get('fields.note')}，无法打开/写入 {key}，错误 5",
                )
            )
            break
    for f in failures[:1]:
        steps.append(
            Step(
                f"installation status {format_code(f.failure.code)}",
                f.failure.origin,
                summary_zh=f"安装结果状态 {format_code(f.failure.code)}",
            )
        )
    steps.append(
        ref.step(
            i,
            f"Procmon (no stacks in this export): {ev.process.name if ev.process else '?'} "
            f"{ev.get('fields.operation')} {ev.get('fields.path')} ACCESS DENIED",
            f"Procmon（此导出不含调用栈）：{ev.process.name if ev.process else '?'} 执行 "
            f"{ev.get('fields.operation')} {ev.get('fields.path')} 被拒绝访问",
        )
    )
    grants = ", ".join(str(x) for x in acl.get("fields.grants_write_to") or [])
    steps.append(
        Step(
            f"the ACL of {acl.get('fields.object')} grants write access to {grants}, so the denial is not "
            "the ACL's",
            acl.origin,
            summary_zh=f"{acl.get('fields.object')} 的 ACL 已授予 {grants} 写入权限，因此拒绝访问并非 ACL 造成",
        )
    )
    if evidence is not None:
        steps.append(
            Step(
                f"{owner.module} ({owner.product}) is loaded on this machine",
                evidence.origin,
                summary_zh=f"本机加载了 {owner.module}（{owner.product}）",
            )
        )
    image = str(ev.get("fields.image_path") or (ev.process.name if ev.process else ""))
    role = (
        "filesystem-filter" if owner.altitude or owner.mechanism == "filesystem-filter" else "kernel-driver"
    )
    product = owner.product or owner.vendor or "the agent"
    title = f"Likely: {owner.module} ({product}) denies {basename(image)} writing {obj}"
    title_zh = f"疑似：{owner.module}（{product}）拒绝 {basename(image)} 写入 {obj}"
    wa = (
        f"Ask the {product} vendor to let {basename(image)} write {obj} (or pause {product}'s protection while the "
        "install runs); confirm first with a native Procmon capture (.pml, with stacks)."
    )
    wa_zh = (
        f"请 {product} 厂商允许 {basename(image)} 写入 {obj}（或安装期间暂停 {product} 的防护）；"
        "请先用 Procmon 原生捕获（.pml，含调用栈）确认。"
    )
    allow = (
        AllowRule(
            process=image,
            registry_keys=(obj,) if kind == "registry" else (),
            files=(obj,) if kind == "file" else (),
        ),
    )
    culprit = owner.culprit(
        role,
        {
            "evidence": "known protection driver loaded while the ACL grants the writer "
            "(no stack in the capture)"
        },
    )
    return Finding(
        f"{kind}-write-denied",
        title,
        0.5,
        culprit,
        tuple(steps),
        Remediation(allow, wa, workaround_zh=wa_zh),
        {},
        title_zh=title_zh,
    )
