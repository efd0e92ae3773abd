"""A package or driver install that was denied writing a registry key or file: the servicing chain.

The walk a support engineer does by hand, in order:

1. the update failed (CBS; Windows Update and the event logs repeat the code);
2. CBS's driver operations queue names the INF whose install failed (``INSTALL ... result 5,
   inf: X``, ``Doqe: Recording result ... for Inf: X``);
3. SetupAPI's section for that INF in the same minute names what failed: a service it could not
   create or modify (→ the service's registry key) or a file it could not copy, with the Win32 error;
4. a Procmon capture (of the failure, or of a reproduction) shows the denied operation on that key
   or file and, in its stack, the third-party driver that denied it;
5. the object's ACL grants the writer access, so the denial is not the ACL's;
6. the allow-list is every key and file the INF installs — not only the first denial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from culprit.analysis import missing
from culprit.analysis.attribution import Owner, identify, identify_module
from culprit.analysis.facts import CaptureRef, Facts, basename, norm_path
from culprit.analysis.failures import FailureCand, configmgr_evidence, summary_evidence
from culprit.analysis.inquiry import Inquiry
from culprit.model import AllowRule, Event, Finding, Origin, Remediation, Step

SERVICES = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\"
WRITERS_OK = (
    "NT AUTHORITY\\SYSTEM",
    "BUILTIN\\Administrators",
    "NT SERVICE\\TrustedInstaller",
    "SYSTEM",
    "Administrators",
    "TrustedInstaller",
)


@dataclass
class DeniedObject:
    kind: str  # registry | file
    path: str  # the key or file, as Windows writes it
    win32: int | None
    event: Event  # the log line that names it
    service: str | None = None
    addservice: Event | None = None


@dataclass
class Denial:
    """A Procmon event that shows the denied operation."""

    ref: CaptureRef
    index: int
    event: Event
    frames: list[str]
    driver: str | None  # third-party kernel module in the stack


@dataclass
class ServicingCase:
    failure: FailureCand | None
    steps: list[Step] = field(default_factory=list)
    objects: list[DeniedObject] = field(default_factory=list)
    inf: str | None = None
    section: Event | None = None
    writer: str | None = None
    denials: list[Denial] = field(default_factory=list)
    acl: Event | None = None
    acl_grants_writer: bool | None = None
    owner: Owner | None = None
    evidence_level: int = 0  # 3 stack frame, 2 KB driver + ACL grants, 0 none
    allow: list[AllowRule] = field(default_factory=list)
    boot: bool = False
    inf_missing: bool = False
    includes_missing: list[str] = field(default_factory=list)  # INFs it includes sections of, not here
    driver_evidence: list[Event] = field(default_factory=list)


def _services_key(svc: str) -> str:
    return SERVICES + svc


def failing_infs(facts: Facts) -> list[Event]:
    """CBS driver-operation lines that record a failed INF install, in log order."""
    out = []
    for ev in facts.events("cbs:driver"):
        if not ev.get("fields.inf"):
            continue
        w = ev.get("fields.win32")
        hr = ev.get("fields.hresult")
        if (isinstance(w, int) and w != 0) or (isinstance(hr, int) and hr & 0x80000000):
            out.append(ev)
    return out


def _near(a: Event, b: Event, minutes: int = 5) -> bool:
    ta = a.local_time or a.time
    tb = b.local_time or b.time
    if ta is None or tb is None:
        return True
    ta, tb = ta.replace(tzinfo=None), tb.replace(tzinfo=None)
    return abs(ta - tb) <= timedelta(minutes=minutes)


def build(facts: Facts, failures: list[FailureCand]) -> ServicingCase | None:
    """Walk CBS → SetupAPI → the denied object → Procmon → ACL. None when no driver package failed."""
    cbs_fail = next((f for f in failures if f.source == "cbs"), None)
    doqe = failing_infs(facts)
    sections = [
        s
        for s in facts.events("setupapi:section")
        if isinstance(s.get("fields.exit_code"), int)
        and not str(s.get("fields.exit_status", "")).upper().startswith("SUCCESS")
    ]
    if not doqe and not sections:
        return None
    case = ServicingCase(cbs_fail)
    if cbs_fail is not None:
        kb = cbs_fail.failure.target if cbs_fail.failure.target.upper().startswith("KB") else None
        wu = summary_evidence(facts, cbs_fail.failure.code, kb)
        wu_pick = next((e for e in wu if "install" in e.message.lower()), wu[0] if wu else None)
        if wu_pick is not None:
            code = f"0x{(cbs_fail.failure.code or 0) & 0xFFFFFFFF:08X}"
            case.steps.append(
                Step(
                    f"Windows Update reports {cbs_fail.failure.target} failed {code}",
                    wu_pick.origin,
                    summary_zh=f"Windows Update 报告 {cbs_fail.failure.target} 安装失败，错误 {code}",
                )
            )
        cm = configmgr_evidence(facts, cbs_fail.failure.code, kb)
        if cm:
            code = f"0x{(cbs_fail.failure.code or 0) & 0xFFFFFFFF:08X}"
            case.steps.append(
                Step(
                    f"Configuration Manager reports the deployment of {cbs_fail.failure.target} failed {code}",
                    cm[0].origin,
                    summary_zh=f"Configuration Manager 报告 {cbs_fail.failure.target} 的部署失败，错误 {code}",
                )
            )
    inf = None
    if doqe:
        first = doqe[0]
        inf = str(first.get("fields.inf"))
        for ev in doqe:
            if str(ev.get("fields.inf")).casefold() != inf.casefold():
                continue
            if isinstance(ev.get("fields.win32"), int):
                w = ev.get("fields.win32")
                case.steps.append(
                    Step(
                        f"CBS driver operations queue: {inf} install result {w}",
                        ev.origin,
                        summary_zh=f"CBS 驱动操作队列：{inf} 安装结果 {w}",
                    )
                )
            elif isinstance(ev.get("fields.hresult"), int):
                hr = f"0x{ev.get('fields.hresult'):08X}"
                case.steps.append(
                    Step(
                        f"Doqe records {hr} for {inf}",
                        ev.origin,
                        summary_zh=f"驱动操作队列（Doqe）记录 {inf} 的结果为 {hr}",
                    )
                )
    if cbs_fail is not None:
        msg = cbs_fail.event.message
        case.boot = "Startup:" in msg or any(
            "Startup:" in e.message for e in facts.events("cbs:startup") if e.get("fields.failure")
        )
        rolled = any(e.get("fields.rollback") for e in facts.events("cbs:startup"))
        roll = " and the update is rolled back" if rolled else ""
        zh = ("重启后处理驱动操作队列失败" if case.boot else "CBS 处理失败") + (
            "，补丁被回滚" if rolled else ""
        )
        case.steps.append(
            Step(_short(msg) + roll, cbs_fail.event.origin, summary_zh=f"{zh}（{_short(msg)}）")
        )
    cands = [
        s for s in sections if inf is None or str(s.get("fields.inf") or "").casefold() == inf.casefold()
    ]
    if doqe:
        cands = [s for s in cands if _near(s, doqe[0], 10)] or cands
    if not cands:
        case.inf = inf
        _allow(facts, case)
        return case
    sec = cands[0]
    case.section = sec
    case.inf = inf or (str(sec.get("fields.inf")) if sec.get("fields.inf") else None)
    case.writer = str(sec.get("fields.command_line") or "") or None
    title = f"{sec.get('fields.title')} ({sec.get('fields.instance') or case.inf})"
    status = f"{sec.get('fields.exit_status')} ({sec.get('fields.exit_code')})"
    case.steps.append(
        Step(
            f"SetupAPI: {title} for {case.inf or 'the driver package'} ends in {status}",
            sec.origin,
            summary_zh=f"SetupAPI：{title} 安装 {case.inf or '驱动包'} 的结果为 {status}",
        )
    )
    if case.writer and isinstance(sec.get("fields.command_line_line"), int):
        exe = basename(case.writer.strip().strip('"').split('"', 1)[0].split(" ", 1)[0])
        case.steps.append(
            Step(
                f"SetupAPI: the install runs in {exe}",
                Origin(
                    sec.origin.artifact,
                    line=sec.get("fields.command_line_line"),
                    text=f"cmd: {case.writer}"[:300],
                ),
                summary_zh=f"SetupAPI：安装由 {exe} 执行",
            )
        )
    _objects(facts, case, sec)
    _procmon(facts, case)
    _acl(facts, case)
    _attribute(facts, case)
    _allow(facts, case)
    return case


def _short(msg: str) -> str:
    return msg.split(" [HRESULT", 1)[0].rstrip(".")


def _objects(facts: Facts, case: ServicingCase, sec: Event) -> None:
    art, line = sec.origin.artifact, sec.origin.line
    adds = {
        str(e.get("fields.service")).casefold(): e
        for e in facts.events("setupapi:addservice")
        if e.origin.artifact == art and e.get("fields.section_line") == line
    }
    fails = [
        e
        for e in facts.events("setupapi:service_failure", "setupapi:filequeue_failure", "setupapi:error")
        if e.origin.artifact == art and e.get("fields.section_line") == line
    ]
    copies = [
        e
        for e in facts.events("setupapi:copy")
        if e.origin.artifact == art and e.get("fields.section_line") == line
    ]
    for e in fails:
        svc = e.get("fields.service")
        w = e.get("fields.win32")
        if svc:
            add = adds.get(str(svc).casefold())
            if add is not None and not any(s.origin == add.origin for s in case.steps):
                src = add.get("fields.inf") or case.inf
                case.steps.append(
                    Step(
                        f"SetupAPI: AddService {add.get('fields.service')} from {src}",
                        add.origin,
                        summary_zh=f"SetupAPI：{src} 添加服务 {add.get('fields.service')}（AddService）",
                    )
                )
            err = f", error {w}" if w is not None else ""
            err_zh = f"，错误 {w}" if w is not None else ""
            case.steps.append(
                Step(
                    f"SetupAPI: {_verb(e)} service {svc}{err}",
                    e.origin,
                    summary_zh=f"SetupAPI：{_verb_zh(e)}服务 {svc} 失败{err_zh}",
                )
            )
            case.objects.append(DeniedObject("registry", _services_key(str(svc)), w, e, str(svc), add))
        elif e.kind == "setupapi:filequeue_failure" or e.get("fields.path") or e.get("fields.target"):
            path = str(e.get("fields.target") or e.get("fields.path") or "")
            if not path:  # the file being copied when the queue failed: the last copy line before it
                before = [c for c in copies if (c.origin.line or 0) < (e.origin.line or 0)]
                path = str(before[-1].get("fields.target")) if before else ""
            if not path or any(o.path.casefold() == path.casefold() for o in case.objects):
                continue
            err = f", error {w}" if w is not None else ""
            case.steps.append(
                Step(
                    f"SetupAPI: copying {basename(path)} failed{err}",
                    e.origin,
                    summary_zh=f"SetupAPI：复制 {basename(path)} 失败"
                    + (f"，错误 {w}" if w is not None else ""),
                )
            )
            case.objects.append(DeniedObject("file", path, w, e))
    if not case.objects and fails:
        e = fails[0]
        case.steps.append(
            Step(f"SetupAPI: {_short(e.message)}", e.origin, summary_zh=f"SetupAPI：{_short(e.message)}")
        )


def _verb_zh(e: Event) -> str:
    op = str(e.get("fields.operation") or "")
    return {"modify": "修改已有", "create": "创建", "open": "打开已有"}.get(op, "处理")


def _verb(e: Event) -> str:
    op = str(e.get("fields.operation") or "")
    return {
        "modify": "failed to modify existing",
        "create": "failed to create",
        "open": "failed to open existing",
    }.get(op, "failed on")


def _procmon(facts: Facts, case: ServicingCase) -> None:
    """Denied operations on the failing objects (or any key/file of the same INF) in any capture."""
    targets = {norm_path(o.path) for o in case.objects}
    inf_keys, inf_files = _inf_objects(facts, case.inf)
    targets |= {norm_path(k) for k in inf_keys} | {norm_path(f) for f in inf_files}
    if not targets:
        return
    for ref in facts.captures("bad"):
        cap = ref.cap
        try:
            idx = cap.where("result = 'ACCESS DENIED'")
        except Exception:
            continue
        for i in np.asarray(idx).tolist():
            path = norm_path(cap.path_of(i) if hasattr(cap, "path_of") else cap.event(i).get("fields.path"))
            path = path.replace("hklm\\system\\controlset001\\", "hklm\\system\\currentcontrolset\\")
            if not any(path == t or path.startswith(t + "\\") for t in targets):
                continue
            ev = cap.event(i)
            frames = list(ev.get("fields.stack") or [])
            driver = _third_party_frame(facts, frames)
            case.denials.append(Denial(ref, i, ev, frames, driver))
    case.denials.sort(
        key=lambda d: (
            d.driver is None,
            d.event.get("fields.operation") not in ("RegSetValue", "RegCreateKey"),
        )
    )


def _third_party_frame(facts: Facts, frames: list[str]) -> str | None:
    from culprit.kb import microsoft

    for f in frames:
        mod = f.split("+", 1)[0]
        if not mod or mod.startswith("0x") or "." not in mod:
            continue
        if not microsoft.is_microsoft(name=mod):
            return mod
    return None


def _acl(facts: Facts, case: ServicingCase) -> None:
    keys = {norm_path(o.path): o for o in case.objects}
    for ev in facts.events("acl:object"):
        if norm_path(str(ev.get("fields.object"))) in keys:
            case.acl = ev
            verdict = writer_allowed(
                str(ev.get("fields.sddl") or ""), str(ev.get("fields.object_type") or "registry")
            )
            if verdict is None:  # no SDDL (icacls text): the decoded ACEs decide, a deny for the token first
                verdict = _aces_allow_writer(facts, ev)
            case.acl_grants_writer = verdict
            return


# Principals every installer token holds (Everyone, Authenticated Users) or that the writer runs as.
WRITER_NAMES = {w.casefold() for w in WRITERS_OK} | {"everyone", "nt authority\\authenticated users",
                                                     "authenticated users", "nt authority\\system"}


def _aces_allow_writer(facts: Facts, obj: Event) -> bool:
    denies = [str(x).casefold() for x in obj.get("fields.denies_write_to") or []]
    if any(d in WRITER_NAMES or d.rsplit("\\", 1)[-1] in WRITER_NAMES for d in denies):
        return False
    for ace in facts.events("acl:ace"):
        if ace.origin.artifact != obj.origin.artifact or ace.get("fields.object") != obj.get("fields.object"):
            continue
        who = str(ace.get("fields.principal") or "").casefold()
        if ace.get("fields.ace_type") == "deny" and (who in WRITER_NAMES or ace.get("fields.sid") in WRITER_SIDS):
            rights = {str(r).upper() for r in ace.get("fields.rights") or []}
            if rights & {"W", "M", "F", "FILE_WRITE_DATA", "WRITE_DAC", "DELETE", "GENERIC_WRITE", "GENERIC_ALL",
                         "KEY_SET_VALUE", "KEY_ALL_ACCESS", "FILE_ALL_ACCESS", "WD"}:
                return False
    grants = [str(g) for g in obj.get("fields.grants_write_to") or []]
    return any(g.casefold() in {w.casefold() for w in WRITERS_OK} for g in grants)


# The installer's token: SYSTEM, Administrators, Everyone, Authenticated Users, TrustedInstaller.
WRITER_SIDS = frozenset(
    {
        "S-1-5-18",
        "S-1-5-32-544",
        "S-1-1-0",
        "S-1-5-11",
        "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
    }
)


def writer_allowed(sddl_text: str, object_type: str) -> bool | None:
    """Does the DACL let a SYSTEM/TrustedInstaller token write? None when the SDDL cannot be read.

    A deny ACE for any SID in the token (Everyone included) with a write right wins, as Windows
    evaluates explicit denies first; otherwise an effective allow ACE with a write right grants.
    """
    from culprit import sddl

    if not sddl_text:
        return None
    try:
        sd = sddl.parse_sddl(sddl_text)
    except Exception:
        return None
    if sd.dacl is None:
        return True  # a NULL DACL grants everyone everything
    aces = [a for a in sd.dacl if not a.inherit_only and a.sid in WRITER_SIDS]
    if any(a.ace_type == "deny" and sddl.can_write(a.mask, object_type) for a in aces):
        return False
    return any(a.ace_type == "allow" and sddl.can_write(a.mask, object_type) for a in aces)


def _attribute(facts: Facts, case: ServicingCase) -> None:
    d = next((d for d in case.denials if d.driver), None)
    if d is not None and d.driver:
        case.owner = identify_module(facts, d.ref, d.driver)
        case.evidence_level = 3
        return
    # No stack frame: a known registry-protection / file-system filter driver that is loaded,
    # while the ACL grants the writer access, is circumstantial evidence.
    if case.acl_grants_writer and case.objects:
        want = "registry-callback" if case.objects[0].kind == "registry" else "minifilter"
        for ev in facts.events("driverquery:driver", "fltmc:filter"):
            name = (
                basename(str(ev.get("fields.path") or ""))
                or f"{ev.get('fields.module') or ev.get('fields.filter')}.sys"
            )
            o = identify(facts, name)
            if o.product and not o.microsoft and (o.mechanism or "").startswith(want[:8]):
                case.owner = o
                case.evidence_level = 2
                return


def _inf_objects(facts: Facts, inf: str | None) -> tuple[list[str], list[str]]:
    """Every service key and driver file an INF installs (INF first, SetupAPI log as fallback), with what
    the sections it includes from other INFs (``Include=``/``Needs=``) install when those are here."""
    if not inf:
        return [], []
    d = facts.infs.get(inf.casefold())
    keys: list[str] = []
    files: list[str] = []
    if d:
        _add_objects(d, None, keys, files)
        for name, needs in _includes(facts, inf):
            inc = facts.infs.get(name)
            if inc is not None:
                _add_objects(inc, needs, keys, files)
        return keys, files
    for ev in facts.events("setupapi:addservice"):
        if str(ev.get("fields.inf") or "").casefold() == inf.casefold():
            k = _services_key(str(ev.get("fields.service")))
            if k.casefold() not in {x.casefold() for x in keys}:
                keys.append(k)
    return keys, files


def _add_objects(d: dict[str, Any], sections: set[str] | None, keys: list[str], files: list[str]) -> None:
    """Add an INF's service keys, files and AddReg keys (only those of ``sections`` when given)."""

    def wanted(ev: Event) -> bool:
        return sections is None or str(ev.get("fields.section") or "").casefold() in sections

    for ev in d["services"].values():
        if not wanted(ev):
            continue
        k = str(ev.get("fields.key") or _services_key(str(ev.get("fields.service"))))
        if k.casefold() not in {x.casefold() for x in keys}:
            keys.append(k)
        b = ev.get("fields.service_binary")
        if b and str(b).casefold() not in {f.casefold() for f in files}:
            files.append(str(b))
    for ev in d["files"].values():
        dest = str(ev.get("fields.destination") or "")
        if wanted(ev) and dest and dest.casefold() not in {f.casefold() for f in files}:
            files.append(dest)
    for ev in d.get("keys", {}).values():  # AddReg keys outside the device's own (HKR) key
        k = str(ev.get("fields.key"))
        if wanted(ev) and k.casefold() not in {x.casefold() for x in keys}:
            keys.append(k)


def _includes(facts: Facts, inf: str, depth: int = 3) -> list[tuple[str, set[str]]]:
    """``(included INF, the sections of it that run)`` for an INF, following includes of includes."""
    out: list[tuple[str, set[str]]] = []
    todo = [(inf.casefold(), None, depth)]
    seen: set[tuple[str, frozenset[str] | None]] = set()
    while todo:
        name, only, left = todo.pop()
        d = facts.infs.get(name)
        if d is None or left <= 0:
            continue
        for ev in d.get("includes", []):
            if only is not None and str(ev.get("fields.section") or "").casefold() not in only:
                continue
            needs = {str(n).casefold() for n in ev.get("fields.needs") or []}
            if not needs:
                continue  # Include= alone only makes sections available
            for inc in ev.get("fields.includes") or []:
                key = (str(inc), frozenset(needs))
                if key in seen:
                    continue
                seen.add(key)
                out.append((str(inc), needs))
                todo.append((str(inc), needs, left - 1))
    return out


def _allow(facts: Facts, case: ServicingCase) -> None:
    keys, files = _inf_objects(facts, case.inf)
    case.inf_missing = bool(case.inf) and case.inf.casefold() not in facts.infs
    unresolved: dict[str, set[str]] = {}
    if case.inf and not case.inf_missing:
        for n, needs in _includes(facts, case.inf):
            if n not in facts.infs:
                unresolved.setdefault(n, set()).update(needs)
        case.includes_missing = sorted(unresolved)
    note = note_zh = None
    if unresolved:
        parts = "; ".join(f"{n} [{', '.join(sorted(v))}]" for n, v in sorted(unresolved.items()))
        note = f"plus what the included sections install ({parts}): those INFs are not in the bundle"
        note_zh = f"另需加上所包含节安装的内容（{parts}）：这些 INF 不在日志包中"
    for o in case.objects:
        if o.kind == "registry" and o.path.casefold() not in {k.casefold() for k in keys}:
            keys.insert(0, o.path)
        if o.kind == "file" and o.path.casefold() not in {f.casefold() for f in files}:
            files.insert(0, o.path)
    # Files the section copied (flq lines) when the INF itself is not in the bundle.
    if not files and case.section is not None:
        for ev in facts.events("setupapi:copy"):
            if (
                ev.origin.artifact == case.section.origin.artifact
                and ev.get("fields.section_line") == case.section.origin.line
            ):
                t = ev.get("fields.target")
                if t:
                    files.append(str(t))
    from culprit.analysis.proctree import generalize

    for p in _writers(case):
        pat = generalize(p)
        case.allow.append(
            AllowRule(
                process=p,
                registry_keys=tuple(keys),
                files=tuple(files),
                pattern=pat if pat != p else None,
                note=note,
                note_zh=note_zh,
            )
        )


def _writers(case: ServicingCase) -> list[str]:
    """The process that writes the keys/files: the servicing stack's for CBS-driven installs."""
    out: list[str] = []
    w = case.writer
    if w:
        exe = w.strip().strip('"').split('"', 1)[0].split(" -", 1)[0].strip()
        out.append(exe)
    if case.failure is not None and case.failure.source == "cbs":
        ti = "C:\\Windows\\servicing\\TrustedInstaller.exe"
        if ti.casefold() not in {o.casefold() for o in out}:
            out.append(ti)
    return out or ["C:\\Windows\\System32\\drvinst.exe"]


def denial_steps(case: ServicingCase) -> list[Step]:
    out = []
    for d in case.denials[:1]:
        op = d.event.get("fields.operation")
        path = d.event.get("fields.path")
        who = d.event.process.name if d.event.process else "a process"
        frames = (
            f" with {d.driver} frames on the stack" if d.driver else " (no third-party frame on the stack)"
        )
        frames_zh = f"，调用栈中有 {d.driver} 的帧" if d.driver else "（调用栈中没有第三方模块）"
        out.append(
            d.ref.step(
                d.index,
                f"Procmon: {who} {op} {path} ACCESS DENIED{frames}",
                f"Procmon：{who} 执行 {op} {path} 被拒绝访问（ACCESS DENIED）{frames_zh}",
            )
        )
    return out


def acl_step(case: ServicingCase) -> Step | None:
    if case.acl is None:
        return None
    grants = ", ".join(str(g) for g in case.acl.get("fields.grants_write_to") or []) or "nobody"
    obj = case.acl.get("fields.object")
    if case.acl_grants_writer:
        return Step(
            f"the ACL of {obj} grants write access to {grants}, so the denial is not the ACL's",
            case.acl.origin,
            summary_zh=f"{obj} 的 ACL 已授予 {grants} 写入权限，因此拒绝访问并非 ACL 造成",
        )
    return Step(
        f"the ACL of {obj} grants write access only to {grants}: the ACL itself denies the installer",
        case.acl.origin,
        summary_zh=f"{obj} 的 ACL 只授予 {grants} 写入权限：是 ACL 本身拒绝了安装程序",
    )


def driver_steps(facts: Facts, case: ServicingCase) -> list[Step]:
    if case.owner is None:
        return []
    out = []
    for ev in case.owner.evidence[:1]:
        o = case.owner
        if o.product:
            out.append(
                Step(
                    f"{o.module} is a {o.product} driver",
                    ev.origin,
                    summary_zh=f"{o.module} 是 {o.product} 的驱动",
                )
            )
        else:
            what = ev.get("fields.display_name") or ev.get("fields.altitude") or ""
            out.append(
                Step(
                    f"{o.module} is loaded ({what})", ev.origin, summary_zh=f"本机加载了 {o.module}（{what}）"
                )
            )
    return out


# --- the pass -----------------------------------------------------------------------------------


def run(q: Inquiry) -> None:
    """Pass: the servicing chain, as a finding (culprit, ACL) or as unresolved with what is missing."""
    case = build(q.facts, q.failures)
    q.servicing = case
    if case is None:
        return
    steps = list(case.steps)
    steps += denial_steps(case)
    acl = acl_step(case)
    if acl is not None:
        steps.append(acl)
    steps += driver_steps(q.facts, case)
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
        denied_to = ", ".join(str(x) for x in case.acl.get("fields.denies_write_to") or []) if case.acl else ""
        deny = f" (its deny entry for {denied_to})" if denied_to else ""
        deny_zh = f"（其中拒绝 {denied_to} 写入的条目）" if denied_to else ""
        fix = (
            f"Remove what blocks the installer from the ACL of {what}{deny} or restore its default ACL "
            f"(SYSTEM, Administrators and TrustedInstaller full control), then reinstall {target}."
        )
        fix_zh = (f"从 {what} 的 ACL 中去掉阻止安装程序的设置{deny_zh}，或恢复其默认 ACL（SYSTEM、Administrators 与 "
                  f"TrustedInstaller 完全控制），然后重新安装 {target}。")
        confidence = 0.8
    elif case.owner is not None and case.evidence_level >= 2:
        o = case.owner
        role = "filesystem-filter" if kind == "file-write-denied" and o.altitude else "kernel-driver"
        culprit = o.culprit(
            role,
            {
                "evidence": "stack frame of the denied operation"
                if case.evidence_level == 3
                else "known registry/file protection driver loaded while the ACL grants access"
            },
        )
        confidence = 0.95 if case.evidence_level == 3 else 0.5
        owner = o.product or o.vendor or "third party"
        title = f"{o.module} ({owner}) denies the {pkg} update writing {what}"
        title_zh = f"{o.module}（{owner}）拒绝 {pkg} 驱动更新写入 {what}"
        if case.evidence_level < 3:
            title, title_zh = "Likely: " + title, "疑似：" + title_zh
        product = o.product or o.vendor or "the agent"
        writers = ", ".join(basename(a.process) for a in case.allow)
        workaround = (
            f"Have the {product} vendor allow {writers} to write these service keys and driver files "
            f"(or disable {product} self-protection) while {target} installs; then reinstall {target}."
        )
        workaround_zh = (
            f"请 {product} 厂商将 {writers} 加入白名单，允许其在安装 {target} 期间写入上述服务注册表键和驱动文件"
            f"（或临时关闭 {product} 的自我保护），然后重新安装 {target}。"
        )
    else:
        title = f"{target}: {pkg} was denied writing {what}"
        title_zh = f"{target}：{pkg} 写入 {what} 被拒绝"
    remediation = Remediation(tuple(case.allow), workaround, fix, workaround_zh, fix_zh)
    if culprit is None and kind != "acl-denied":
        q.unresolved.append(
            {
                "kind": kind,
                "title": title,
                "title_zh": title_zh,
                "chain": [s.to_dict() for s in steps],
                "remediation": remediation.to_dict(),
            }
        )
    else:
        q.findings.append(
            Finding(
                kind,
                title,
                confidence,
                culprit,
                tuple(steps),
                remediation,
                {"inf": case.inf} if case.inf else {},
                title_zh=title_zh,
            )
        )
    _servicing_missing(q, case)


def _servicing_missing(q: Inquiry, case: ServicingCase) -> None:
    lang = q.lang
    svcs = [o.service for o in case.objects if o.service]
    keys = [o.path for o in case.objects]
    if case.section is None and q.facts.events("cbs:driver"):
        q.missing.append(missing.request("setupapi", lang, inf=case.inf))
    if case.evidence_level < 3 and not case.denials and case.acl_grants_writer is not False:
        proc = basename(case.allow[0].process) if case.allow else None
        q.missing.append(
            missing.request("procmon", lang, process=proc, boot=case.boot, keys=keys, services=svcs)
        )
    if case.acl is None and keys:
        q.missing.append(missing.request("acl", lang, services=svcs, keys=keys))
    if case.inf_missing:
        q.missing.append(missing.request("inf", lang, inf=case.inf))
    for inc in case.includes_missing:  # the allow-list lacks what the included sections install
        q.missing.append(missing.request("inf", lang, inf=inc))
    if not q.facts.events("driverquery:driver"):
        q.missing.append(missing.request("driverquery", lang))
