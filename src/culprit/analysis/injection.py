"""A foreign module loaded into an installer process that then quits: the injected-DLL chain.

Evidence, in the order a person would check it:

1. the failing install (MSI custom action, Edge Update failure) from the installer's own logs;
2. in a Procmon capture, the install's process tree: a process that exits early with a non-zero
   status, having loaded a module that is neither Windows' own nor shipped beside the program;
3. the thread that loaded it was created by another process (the injector), seen as a Thread Create
   in the victim carrying a thread id that belongs to that other process;
4. corroboration: the program's own log stops after its banner; the module is loaded in other
   processes too (tasklist /m); and, with a good machine's capture, the same process there runs
   long, starts the real installer, and the module appears nowhere.

Without a capture there is no culprit, only suspects and a precise request for one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from culprit.analysis import missing
from culprit.analysis.attribution import Owner, identify, is_foreign
from culprit.analysis.facts import CaptureRef, Facts, basename, norm_path
from culprit.analysis.failures import INSTALLER_IMAGES, FailureCand, crash_of
from culprit.analysis.inquiry import Inquiry
from culprit.analysis.proctree import Load, Proc, ProcessTree, generalize, tree_of
from culprit.kb import codes
from culprit.model import AllowRule, Event, Finding, Origin, Remediation, Step, format_code

EARLY_EXIT_S = 5.0


@dataclass
class Victim:
    ref: CaptureRef
    tree: ProcessTree
    proc: Proc
    load: Load
    owner: Owner
    score: float
    injector: list[Proc] = field(default_factory=list)
    injector_event: int | None = None
    reasons: list[str] = field(default_factory=list)


def _ms(a: datetime | None, b: datetime | None) -> int | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds() * 1000)


def _status_text(v: int | None) -> str:
    if v is None:
        return "unknown"
    return f"{v} (0x{v & 0xFFFFFFFF:08X})"


def _install_roots(tree: ProcessTree, ca_paths: set[str], pids: set[int] = frozenset()) -> list[Proc]:  # type: ignore[assignment]
    roots = []
    for p in tree.procs.values():
        started = p.start_event is not None or p.create_event is not None
        low = p.name.casefold()
        if p.pid in pids or (started and any(w in low for w in ("setup", "install", "update"))):
            roots.append(p)
            continue
        if (
            norm_path(p.image_path) in ca_paths
            or basename(p.image_path).casefold() in {basename(c) for c in ca_paths}
            or (
                p.name.casefold() in INSTALLER_IMAGES
                and (p.start_event is not None or p.create_event is not None)
            )
        ):
            roots.append(p)
    return roots


def _in_install_tree(p: Proc, roots: list[Proc]) -> bool:
    return any(p is r or r in p.ancestors() for r in roots)


def _counterpart(p: Proc, tree: ProcessTree | None) -> Proc | None:
    """The same program in another run: same generalized image path, parent image as tie-breaker."""
    if tree is None:
        return None
    key = generalize(p.image_path).casefold()
    cands = [q for q in tree.procs.values() if generalize(q.image_path).casefold() == key]
    if not cands:
        cands = [q for q in tree.procs.values() if q.name.casefold() == p.name.casefold()]
    if not cands:
        return None
    pk = generalize(p.parent.image_path).casefold() if p.parent else ""
    cands.sort(
        key=lambda q: (
            generalize(q.parent.image_path).casefold() != pk if q.parent else True,
            -(q.lifetime or 0),
        )
    )
    return cands[0]


def _module_anywhere(tree: ProcessTree, name: str) -> bool:
    n = name.casefold()
    for p in tree.procs.values():
        if any(basename(ld.path).casefold() == n for ld in p.loads):
            return True
        for m in getattr(p.record, "modules", None) or ():
            if basename(m.path).casefold() == n:
                return True
    return False


def find_victims(facts: Facts, failures: list[FailureCand]) -> list[Victim]:
    ca_paths = {
        norm_path(str(e.get("fields.path")))
        for e in facts.events("msi:note")
        if e.get("fields.note") == 1722 and e.get("fields.path")
    }
    early_pids = {e.get("fields.pid") for e in facts.events("edgeupdate:run") if e.get("fields.early_exit")}
    good_trees = [tree_of(r) for r in facts.captures("good")]
    out: list[Victim] = []
    for ref in facts.captures("bad"):
        tree = tree_of(ref)
        roots = _install_roots(
            tree,
            ca_paths,
            {
                int(e.get("fields.pid"))
                for e in facts.events("edgeupdate:run")
                if isinstance(e.get("fields.pid"), int)
            },
        )
        for p in tree.procs.values():
            if p.exit_event is None or not p.loads:
                continue
            nonzero = p.exit_status not in (None, 0)
            life = p.lifetime
            gp = next((c for t in good_trees if (c := _counterpart(p, t))), None)
            early = life is not None and (
                life < EARLY_EXIT_S or (gp is not None and gp.lifetime and life < 0.2 * gp.lifetime)
            )
            if not (nonzero or early):
                continue
            own_dir = norm_path(p.image_path).rsplit("\\", 1)[0] + "\\"
            foreign = [
                ld
                for ld in p.loads
                if is_foreign(ld.path, ld.company, (own_dir,))
                and (p.exit_event is None or ld.index < p.exit_event)
            ]
            if not foreign:
                continue
            for ld in foreign:
                reasons = []
                score = 0.3
                if nonzero:
                    score += 0.15
                    reasons.append("non-zero exit status")
                if early:
                    score += 0.1
                    reasons.append("early exit")
                if _in_install_tree(p, roots):
                    score += 0.1
                    reasons.append("part of the install's process tree")
                if p.pid in early_pids:
                    score += 0.1
                    reasons.append("its own log stops after the banner")
                injector, inj_ev = _injector(tree, p, ld)
                if injector:
                    score += 0.15
                    reasons.append("loaded on a thread created by another process")
                if good_trees:
                    if not any(_module_anywhere(t, basename(ld.path)) for t in good_trees):
                        score += 0.1
                        reasons.append("absent from the good run")
                    else:
                        score -= 0.2
                        reasons.append("also present in the good run")
                owner = identify(facts, ld.path, ld.company, ld.version, ld.description)
                if owner.microsoft:
                    continue
                if owner.product:
                    score += 0.05
                out.append(Victim(ref, tree, p, ld, owner, min(score, 0.99), injector, inj_ev, reasons))
    out.sort(key=lambda v: -v.score)
    return out


def _injector(tree: ProcessTree, p: Proc, ld: Load) -> tuple[list[Proc], int | None]:
    for ev_i, creator_tid, new_tid in p.thread_creates:
        if new_tid == ld.tid and ev_i <= ld.index:
            owners = [q for q in tree.owner_of_thread(creator_tid, exclude=p.key) if q.pid != p.pid]
            if owners:
                return owners, ev_i
    return [], None


def _configmgr_run(facts: Facts, f: FailureCand) -> Event | None:
    """The line where ConfigMgr started the installer whose exit code it then counted as a failure."""
    runs = [
        e
        for e in facts.events("cmtrace:line")
        if e.origin.artifact == f.event.origin.artifact
        and e.get("fields.command_line")
        and (e.origin.line or 0) < (f.event.origin.line or 0)
    ]
    executing = [e for e in runs if str(e.message).lstrip().lower().startswith("executing")]
    return (executing or runs or [None])[-1]


def build_finding(facts: Facts, v: Victim, failures: list[FailureCand], lang: str = "en") -> Finding:
    """The injected-module finding: chain (en + zh), culprit, injector and the no-injection allow-list."""
    ref, p, ld = v.ref, v.proc, v.load
    cap = ref.cap
    steps: list[Step] = []
    name = basename(ld.path)

    def pml(i: int | None, en: str, zh: str) -> None:
        if i is not None:
            steps.append(ref.step(int(i), en, zh))

    def log(origin: Origin, en: str, zh: str) -> None:
        steps.append(Step(en, origin, summary_zh=zh))

    cm = next((f for f in failures if f.source == "configmgr"), None)
    run = _configmgr_run(facts, cm) if cm is not None else None
    if run is not None:
        log(
            run.origin,
            f"Configuration Manager runs {run.get('fields.command_line')}",
            f"Configuration Manager 执行 {run.get('fields.command_line')}",
        )
    ca = next((f for f in failures if f.source == "msi-ca"), None)
    if ca is not None:
        action = ca.related.get("action")
        sched = [
            e
            for e in facts.events("msi:op")
            if e.get("fields.action") == action and e.origin.artifact == ca.event.origin.artifact
        ]
        if sched:
            log(
                sched[0].origin,
                f"Windows Installer runs the deferred custom action {action}",
                f"Windows Installer 执行延迟自定义操作 {action}",
            )
    chain_procs = list(
        reversed(
            [
                a
                for a in p.ancestors()
                if a.create_event is not None and a.name.casefold() not in INSTALLER_IMAGES
            ]
        )
    )
    for a in chain_procs[-2:]:
        if a.parent is not None:
            pml(
                a.create_event,
                f"{a.parent.name} (PID {a.parent.pid}) starts {a.name} (PID {a.pid})",
                f"{a.parent.name}（PID {a.parent.pid}）启动 {a.name}（PID {a.pid}）",
            )
    if p.parent is not None:
        bits = "64" if p.is64 else "32"
        folder = p.image_path.rsplit(chr(92), 1)[0]
        pml(
            p.create_event,
            f"{p.parent.name} (PID {p.parent.pid}) starts {p.name} (PID {p.pid}, {bits}-bit) from {folder}",
            f"{p.parent.name}（PID {p.parent.pid}）从 {folder} 启动 {p.name}（PID {p.pid}，{bits} 位）",
        )
    if v.injector and v.injector_event is not None:
        inj = v.injector[0]
        pml(
            v.injector_event,
            f"a thread is created in {p.name} by {inj.name} (PID {inj.pid})",
            f"{inj.name}（PID {inj.pid}）在 {p.name} 中创建了一个线程（远程线程注入）",
        )
    who = (
        f" (company {ld.company}" + (f", {ld.description})" if ld.description else ")") if ld.company else ""
    )
    who_zh = (
        f"（公司：{ld.company}" + (f"，{ld.description}）" if ld.description else "）") if ld.company else ""
    )
    pml(ld.index, f"that thread loads {ld.path}{who}", f"该线程加载了 {ld.path}{who_zh}")
    log(
        Origin(
            ref.artifact, text=f"{p.name} {p.pid}: {ld.path} {ld.company or ''} {ld.version or ''}".strip()
        ),
        f"the module list of {p.name} (PID {p.pid}) in the capture names {name}"
        + (f" from {ld.company}" if ld.company else ""),
        f"捕获中 {p.name}（PID {p.pid}）的模块列表包含 {name}" + (f"（{ld.company}）" if ld.company else ""),
    )
    after = _first_touch(cap, p, ld)
    pml(
        after,
        f"{p.name} opens {name} itself (its own module check), then quits",
        f"{p.name} 随即自行读取 {name}（自检进程模块），然后退出",
    )
    load_to_exit = _ms(ld.time, p.end)
    life = _ms(p.start, p.end)
    none_en = ", without starting any process" if not p.children else ""
    none_zh = "，未启动任何进程" if not p.children else ""
    pml(
        p.exit_event,
        f"{p.name} exits with {_status_text(p.exit_status)} {load_to_exit} ms after {name} loaded "
        f"({life} ms after it started){none_en}",
        f"{p.name} 在 {name} 加载后 {load_to_exit} 毫秒（启动后 {life} 毫秒）以状态 {_status_text(p.exit_status)} 退出{none_zh}",
    )
    for run in facts.events("edgeupdate:run"):
        if run.get("fields.pid") == p.pid and run.get("fields.early_exit"):
            log(
                _last_line(run, facts),
                f"MicrosoftEdgeUpdate.log: PID {p.pid} logs only its start-up banner",
                f"MicrosoftEdgeUpdate.log：PID {p.pid} 只写了启动信息就结束了",
            )
    if p.parent is not None:
        for e in facts.events("edgeupdate:*"):
            hr = e.get("fields.hresult")
            if (
                e.kind != "edgeupdate:run"
                and e.get("fields.pid") == p.parent.pid
                and isinstance(hr, int)
                and hr & 0x80000000
            ):
                log(
                    e.origin,
                    f"MicrosoftEdgeUpdate.log: {p.parent.name} (PID {p.parent.pid}) reports failure 0x{hr:08X}",
                    f"MicrosoftEdgeUpdate.log：{p.parent.name}（PID {p.parent.pid}）报告失败 0x{hr:08X}",
                )
                break
        if p.parent.exit_event is not None and p.parent.exit_status not in (None, 0):
            pml(
                p.parent.exit_event,
                f"{p.parent.name} exits with {_status_text(p.parent.exit_status)}",
                f"{p.parent.name} 以状态 {_status_text(p.parent.exit_status)} 退出",
            )
    for f in sorted(
        (f for f in failures if f.source in ("msi-ca", "msi")), key=lambda f: f.source != "msi-ca"
    ):
        if f.source == "msi-ca":
            act = f.related.get("action")
            for n in facts.events("msi:note"):
                if (
                    n.get("fields.note") == 1722
                    and n.get("fields.action") == act
                    and n.origin.artifact == f.event.origin.artifact
                ):
                    log(n.origin, f"Note 1722: {act} failed", f"Note 1722：自定义操作 {act} 失败")
                    break
            raw = f.failure.extra.get("raw")
            log(
                f.event.origin,
                f"CustomAction {act} returned actual error code {raw}",
                f"自定义操作 {act} 返回错误码 {raw}",
            )
        else:
            summ = f.related.get("summary")
            ff = _first_failure(facts, summ) if summ is not None else None
            if ff is not None:
                act = ff.get("fields.action")
                log(ff.origin, f"{act}: return value 3; rollback follows", f"{act} 返回值 3，随后回滚")
            log(f.event.origin, f"installation status {f.failure.code}", f"安装结果状态 {f.failure.code}")
    if cm is not None:
        log(
            cm.event.origin,
            f"Configuration Manager counts exit code {cm.failure.code} of {cm.failure.target} as a failure",
            f"Configuration Manager 将 {cm.failure.target} 的退出码 {cm.failure.code} 判定为失败",
        )
    tl = [
        e
        for e in facts.events("tasklist:process")
        if any(basename(str(m)).casefold() == name.casefold() for m in (e.get("fields.modules") or []))
    ]
    if tl:
        tl.sort(key=lambda e: str(e.get("fields.image")).casefold() != "explorer.exe")
        e = tl[0]
        mods = [basename(str(m)).casefold() for m in e.get("fields.modules") or []]
        lines = e.get("fields.module_lines") or []
        line = (
            lines[mods.index(name.casefold())]
            if name.casefold() in mods and len(lines) == len(mods)
            else e.origin.line
        )
        rest = sorted(
            {str(x.get("fields.image")) for x in tl} - {str(e.get("fields.image"))}, key=str.casefold
        )
        others = ", ".join([f"{e.get('fields.image')} PID {e.get('fields.pid')}", *rest[:3]]) + (
            f" and {len(rest) - 3} more" if len(rest) > 3 else ""
        )
        log(
            Origin(e.origin.artifact, line=line, text=facts.line_text(e.origin.artifact, line)),
            f"{name} is loaded in other processes too ({others})",
            f"{name} 也被加载到其他进程中（{others}）",
        )
    for ev in _product_drivers(facts, v.owner)[:1]:
        log(
            ev.origin,
            f"{ev.get('fields.module')}: {v.owner.product} is installed (vendor driver)",
            f"{ev.get('fields.module')}：本机安装了 {v.owner.product}（厂商驱动）",
        )
    steps.extend(_good_steps(facts, v))

    inj_extra: dict[str, object] = {}
    if v.injector:
        inj = v.injector[0]
        io = identify(facts, inj.image_path or inj.name, inj.company)
        inj_extra = {
            "process": inj.name,
            "path": inj.image_path,
            "pid": inj.pid,
            "role": "injector-process",
            "product": io.product,
            "evidence": f"the Thread Create in {p.name} that precedes the {name} load carries a "
            f"{inj.name} thread id",
        }
        sib = [
            q
            for q in v.tree.procs.values()
            if q is not inj and q.parent is not None and inj.parent is q.parent and q.company == inj.company
        ]
        if sib:
            inj_extra["also"] = [{"process": q.name, "path": q.image_path, "pid": q.pid} for q in sib]
    culprit = v.owner.culprit("injected-module", {"loaded_into": p.name, "load_to_exit_ms": load_to_exit})
    ca_f = next((f.failure for f in failures if f.source == "msi-ca"), None)
    msi = next((f.failure for f in failures if f.source == "msi"), None)
    prod = v.owner.product
    if prod:
        title = f"{prod} injects {name} into {p.name}, which quits at once"
        title_zh = f"{prod} 将 {name} 注入 {p.name}，该进程随即退出"
    else:
        title = f"{name} (from {ld.company or 'an unknown vendor'}) loads into {p.name}, which quits at once"
        title_zh = f"{name}（{ld.company or '未知厂商'}）被加载到 {p.name}，该进程随即退出"
    if ca_f is not None and ca_f.code is not None:
        act = ca_f.extra.get("action", "the custom action")
        title += f"; {act} fails (0x{ca_f.code & 0xFFFFFFFF:08X})"
        title_zh += f"；{act} 失败（0x{ca_f.code & 0xFFFFFFFF:08X}）"
    if msi is not None:
        title += f" and the MSI rolls back ({msi.code})"
        title_zh += f"，MSI 安装回滚（{msi.code}）"
    allow = allow_list(facts, v)
    agent = prod or ld.company or "the agent"
    agent_zh = prod or ld.company or "终端代理"
    injectors = ", ".join(sorted({q.name for q in v.injector}))
    workaround = (
        f"Until the vendor excludes these processes from {agent}'s injection"
        + (f" ({injectors})" if injectors else "")
        + f", install on this machine with {agent}'s injecting policy switched off (or {agent} "
        "temporarily uninstalled), then restore it."
    )
    workaround_zh = (
        f"在厂商将上述进程加入 {agent_zh} 的注入白名单"
        + (f"（{injectors}）" if injectors else "")
        + f"之前，可先临时关闭 {agent_zh} 触发注入的策略（或临时卸载 {agent_zh}）后安装，安装完成后再恢复。"
    )
    extra: dict[str, object] = {"injector": inj_extra} if inj_extra else {}
    extra["reasons"] = v.reasons
    extra["processes"] = _lifetimes(facts, v)
    return Finding(
        "injected-module",
        title,
        v.score,
        culprit,
        tuple(steps),
        Remediation(tuple(allow), workaround, workaround_zh=workaround_zh),
        extra,
        title_zh=title_zh,
    )


def _lifetimes(facts: Facts, v: Victim) -> dict[str, list[dict[str, object]]]:
    """The install's processes in each run (name, pid, start, end, exit status) for timelines."""

    def rows(root: Proc | None) -> list[dict[str, object]]:
        if root is None:
            return []
        return [
            {
                "name": q.name,
                "pid": q.pid,
                "parent_pid": q.parent_pid,
                "start": q.start,
                "end": q.end,
                "exit_status": q.exit_status,
                "image_path": q.image_path,
            }
            for q in [root, *root.descendants()]
        ][:40]

    bad_root = _ca_root(v.proc)
    good_tree = next((tree_of(r) for r in facts.captures("good")), None)
    return {"bad": rows(bad_root), "good": rows(_counterpart(bad_root, good_tree) if good_tree else None)}


def _last_line(run: Event, facts: Facts | None = None) -> Origin:
    """The run's last line, quoted as written (the run summary itself quotes its first line)."""
    last = run.get("fields.last_line")
    if not isinstance(last, int):
        return run.origin
    if facts is not None:
        for e in facts.events("edgeupdate:*"):
            if (
                e.kind != "edgeupdate:run"
                and e.origin.artifact == run.origin.artifact
                and e.origin.line == last
            ):
                return e.origin
    return Origin(run.origin.artifact, line=last)


def _first_failure(facts: Facts, summ: Event) -> Event | None:
    line = summ.get("fields.first_failure_line")
    for e in facts.events("msi:action"):
        if e.origin.artifact == summ.origin.artifact and e.origin.line == line:
            return e
    return None


def _first_touch(cap: object, p: Proc, ld: Load) -> int | None:
    """The victim's own file access to the injected module after it loaded (its self-check)."""
    if p.first_event is None or p.exit_event is None:
        return None
    import numpy as np

    pidx = np.asarray(cap.process_index)  # type: ignore[attr-defined]
    ops = np.asarray(cap.operation)  # type: ignore[attr-defined]
    rng = np.arange(ld.index + 1, p.exit_event)
    sel = rng[(pidx[rng] == p.key) & np.isin(ops[rng], ["CreateFile", "ReadFile", "QueryOpen"])]
    want = norm_path(ld.path)
    for i in sel.tolist():
        if norm_path(cap.path_of(i) if hasattr(cap, "path_of") else cap.event(i).get("fields.path")) == want:  # type: ignore[attr-defined]
            return int(i)
    return None


def _product_drivers(facts: Facts, owner: Owner) -> list[Event]:
    if not owner.product:
        return []
    from culprit.kb import products

    prod = products.get(owner.product)
    names = {m.name.casefold() for m in (prod.modules if prod else ()) if m.name.lower().endswith(".sys")}
    out = []
    for ev in facts.events("driverquery:driver"):
        p = basename(str(ev.get("fields.path") or "")).casefold()
        if p in names or f"{str(ev.get('fields.module') or '').casefold()}.sys" in names:
            out.append(ev)
    return out


def _good_steps(facts: Facts, v: Victim) -> list[Step]:
    steps: list[Step] = []
    name = basename(v.load.path)
    for ref in facts.captures("good"):
        tree = tree_of(ref)
        gp = _counterpart(v.proc, tree)
        if gp is None:
            continue
        absent = not _module_anywhere(tree, name)
        life = gp.lifetime
        en = (
            f"good machine: the same {gp.name} runs {life:.1f} s"
            if life is not None
            else f"good machine: {gp.name} runs"
        )
        zh = (
            f"正常机器：同一个 {gp.name} 运行了 {life:.1f} 秒"
            if life is not None
            else f"正常机器：{gp.name} 正常运行"
        )
        if gp.children:
            kids = ", ".join(sorted({c.name for c in gp.children}))
            en += f" and starts {kids}"
            zh += f"，并启动了 {kids}"
        if absent:
            en += f"; {name} appears nowhere in the good capture"
            zh += f"；正常机器的捕获中完全没有 {name}"
        i = gp.exit_event if gp.exit_event is not None else gp.start_event
        if i is not None:
            steps.append(ref.step(i, en, zh))
        installers = [
            d
            for d in gp.descendants()
            if d.exit_status == 0 and d.children == [] and d.exit_event is not None
        ]
        if installers:
            last = max(installers, key=lambda d: d.exit_event or 0)
            names = ", ".join(sorted({d.name for d in installers})[:3])
            steps.append(
                ref.step(
                    last.exit_event,
                    f"good machine: {names} run and exit 0",
                    f"正常机器：{names} 运行并以 0 退出",
                )
            )
        break
    for e in facts.events("edgeupdate:installer-result", role="good"):
        if str(e.get("fields.result")) == "0":
            steps.append(
                Step(
                    "good machine: [InstallerResult] ... [0]",
                    e.origin,
                    summary_zh="正常机器：[InstallerResult] ... [0]（安装成功）",
                )
            )
            break
    return steps


def allow_list(facts: Facts, v: Victim) -> list[AllowRule]:
    """Every process of the install that the injector must leave alone.

    The install's tree is taken from the good run when there is one (it shows the processes the
    install needs once it gets past the failing step), else from the failing run. Paths are the
    failing machine's where that process ran there; names that change every run get a pattern.
    """
    bad_root = _ca_root(v.proc)
    procs: list[Proc] = [v.proc]
    good_tree = next((tree_of(r) for r in facts.captures("good")), None)
    gp_root = _counterpart(bad_root, good_tree) if good_tree is not None else None
    tree_procs = (
        [gp_root, *gp_root.descendants()] if gp_root is not None else [bad_root, *bad_root.descendants()]
    )
    for q in tree_procs:
        if q is None:
            continue
        bad = _counterpart(q, v.tree) if gp_root is not None else q
        procs.append(
            bad
            if bad is not None
            and generalize(bad.image_path).casefold() == generalize(q.image_path).casefold()
            else q
        )
    out: list[AllowRule] = []
    seen: set[str] = set()
    for q in procs:
        path = q.image_path or q.name
        key = generalize(path).casefold()
        if key in seen or q.name.casefold() in INSTALLER_IMAGES:
            continue
        seen.add(key)
        pat = generalize(path)
        out.append(
            AllowRule(
                process=path,
                pattern=pat if pat != path else None,
                no_injection=True,
                note="the process that quit" if q is v.proc else None,
                note_zh="提前退出的进程" if q is v.proc else None,
            )
        )
    return out


def _ca_root(p: Proc) -> Proc:
    """The topmost ancestor of the install below the installer engine (msiexec/TrustedInstaller).

    An ancestor belongs to the install when the capture saw it start or its name says it installs
    (a downloaded ``*Setup*.exe`` bootstrapper started before the capture began).
    """
    root = p
    for a in p.ancestors():
        low = a.name.casefold()
        if low in INSTALLER_IMAGES:
            break
        if a.create_event is None and not any(w in low for w in ("setup", "install", "update")):
            break
        root = a
    return root


def suspects_without_capture(facts: Facts) -> list[str]:
    """Third-party modules seen loaded in processes (tasklist /m) — suspects, never culprits."""
    names: dict[str, int] = {}
    for e in facts.events("tasklist:process"):
        for m in e.get("fields.modules") or []:
            n = basename(str(m))
            if not is_foreign(n, None):
                continue
            names[n] = names.get(n, 0) + 1
    return [n for n, _ in sorted(names.items(), key=lambda kv: -kv[1])[:5]]


def explain_code(code: int | None) -> str:
    if code is None:
        return ""
    try:
        return codes.meaning(code) or ""
    except Exception:
        return ""


def _cited(e: Event, key: str) -> Origin:
    """The line of a crash report a step cites (``fields.<key>`` = ``{line, offset, text}``), else the
    report's own line."""
    at = e.get(f"fields.{key}")
    if isinstance(at, dict) and at.get("line"):
        return Origin(e.origin.artifact, line=at["line"], offset=at.get("offset"), text=at.get("text"))
    return e.origin


def crash_finding(facts: Facts, failures: list[FailureCand]) -> Finding | None:
    """An installer process that crashed in a third-party module (Application Error 1000 / WER APPCRASH).

    The event log names the faulting module; that is as decisive as a capture when the crashing
    process is part of the failing install.
    """
    crashes = [(e, c) for e in facts.events("evtx:app-crash", "evtx:wer", "wer:report") if (c := crash_of(e))]
    install_names = {
        basename(str(e.get("fields.path") or "")).casefold()
        for e in facts.events("msi:note")
        if e.get("fields.note") == 1722
    }
    install_names |= {
        f"{str(e.get('fields.process')).casefold()}.exe" for e in facts.events("edgeupdate:run")
    }
    install_names |= INSTALLER_IMAGES
    for e, crash in crashes:
        proc, module, exc, app_path = crash
        if proc.casefold() not in install_names and not failures:
            continue
        if not is_foreign(module, None):
            continue
        owner = identify(facts, module)
        if owner.microsoft:
            continue
        name = basename(module)
        exc_s = f"0x{exc & 0xFFFFFFFF:08X}" if isinstance(exc, int) else str(exc or "?")
        steps = [
            Step(
                f"{f.failure.target} failed ({format_code(f.failure.code)})",
                f.failure.origin,
                summary_zh=f"{f.failure.target} 失败（{format_code(f.failure.code)}）",
            )
            for f in failures[:1]
            if f.event is not e  # a crash report that is itself the failure is told once
        ]
        steps.append(
            Step(
                f"{proc} crashes with exception {exc_s} in {name}",
                _cited(e, "fault_module_line"),
                summary_zh=f"{proc} 在 {name} 中崩溃，异常 {exc_s}",
            )
        )
        if e.get("fields.fault_module_path_line"):
            steps.append(
                Step(
                    f"the crash report's module list names {module}",
                    _cited(e, "fault_module_path_line"),
                    summary_zh=f"崩溃报告的模块列表中有 {module}",
                )
            )
        for ev in owner.evidence[:1]:
            steps.append(
                Step(
                    f"{owner.module} is present on this machine",
                    ev.origin,
                    summary_zh=f"本机存在 {owner.module}",
                )
            )
        path = app_path or proc
        prod = owner.product or owner.vendor or "the agent"
        allow = (
            AllowRule(
                process=path,
                pattern=(generalize(path) if generalize(path) != path else None),
                no_injection=True,
                note="the process that crashed",
                note_zh="崩溃的进程",
            ),
        )
        return Finding(
            "injected-module",
            f"{proc} crashes in {name}"
            + (f" ({owner.product})" if owner.product else "")
            + "; the install fails",
            0.85,
            owner.culprit(
                "injected-module", {"loaded_into": proc, "evidence": "faulting module of the crash"}
            ),
            tuple(steps),
            Remediation(
                allow,
                f"Have the {prod} vendor stop injecting {name} into {proc}, or install with {prod}'s "
                "injecting policy switched off; then restore it.",
                workaround_zh=f"请 {prod} 厂商停止向 {proc} 注入 {name}，或在临时关闭 {prod} 注入策略的情况下安装，"
                "安装完成后再恢复。",
            ),
            title_zh=f"{proc} 在 {name} 中崩溃"
            + (f"（{owner.product}）" if owner.product else "")
            + "，导致安装失败",
        )
    return None


# --- the pass -----------------------------------------------------------------------------------

# failures of an installer process (not of the servicing stack)
INSTALLER_SOURCES = ("msi", "msi-ca", "edgeupdate", "capture", "crash", "configmgr", "burn")


def run(q: Inquiry) -> None:
    """Pass: an installer process that quit after a foreign module loaded (or crashed in one)."""
    if any(f.kind == "custom-action-failed" for f in q.findings) and not q.facts.captures("bad"):
        return  # the package's own script failed: nothing to suspect without a capture
    installer = [f for f in q.failures if f.source in INSTALLER_SOURCES]
    early = [e for e in q.facts.events("edgeupdate:run") if e.get("fields.early_exit")]
    if not installer and not early:
        return
    if not q.facts.captures("bad"):
        crash = crash_finding(q.facts, q.failures)
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
        sus = suspects_without_capture(q.facts)
        if sus:
            q.unresolved.append(
                {
                    "kind": "injected-module",
                    "suspects": sus,
                    "title": "An installer process quits early; third-party modules loaded on this machine "
                    "are suspects until a capture shows which one loads into it",
                }
            )
        return
    victims = find_victims(q.facts, q.failures)
    if not victims:
        crash = crash_finding(q.facts, q.failures)
        if crash is not None:
            q.findings.append(crash)
        return
    q.findings.append(build_finding(q.facts, victims[0], q.failures, q.lang))
    if not q.facts.captures("good"):
        q.missing.append(missing.request("good-machine", q.lang, process=victims[0].proc.name))
