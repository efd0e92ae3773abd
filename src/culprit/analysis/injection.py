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

from culprit.analysis.attribution import Owner, identify, is_foreign
from culprit.analysis.facts import CaptureRef, Facts, basename, norm_path
from culprit.analysis.failures import FailureCand
from culprit.analysis.proctree import Load, Proc, ProcessTree, generalize
from culprit.kb import codes
from culprit.model import AllowRule, Event, Finding, Origin, Remediation, Step

EARLY_EXIT_S = 5.0
INSTALLER_IMAGES = {"msiexec.exe", "trustedinstaller.exe", "tiworker.exe", "wusa.exe", "dism.exe", "drvinst.exe"}


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


def _install_roots(tree: ProcessTree, ca_paths: set[str]) -> list[Proc]:
    roots = []
    for p in tree.procs.values():
        if norm_path(p.image_path) in ca_paths or basename(p.image_path).casefold() in {basename(c) for c in ca_paths}:
            roots.append(p)
        elif p.name.casefold() in INSTALLER_IMAGES and (p.start_event is not None or p.create_event is not None):
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
    cands.sort(key=lambda q: (generalize(q.parent.image_path).casefold() != pk if q.parent else True,
                              -(q.lifetime or 0)))
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
    ca_paths = {norm_path(str(e.get("fields.path"))) for e in facts.events("msi:note") if e.get("fields.note") == 1722
                and e.get("fields.path")}
    early_pids = {e.get("fields.pid") for e in facts.events("edgeupdate:run") if e.get("fields.early_exit")}
    good_trees = [ProcessTree(r) for r in facts.captures("good")]
    out: list[Victim] = []
    for ref in facts.captures("bad"):
        tree = ProcessTree(ref)
        roots = _install_roots(tree, ca_paths)
        for p in tree.procs.values():
            if p.exit_event is None or not p.loads:
                continue
            nonzero = p.exit_status not in (None, 0)
            life = p.lifetime
            gp = next((c for t in good_trees if (c := _counterpart(p, t))), None)
            early = life is not None and (life < EARLY_EXIT_S or (gp is not None and gp.lifetime and life < 0.2 * gp.lifetime))
            if not (nonzero or early):
                continue
            own_dir = norm_path(p.image_path).rsplit("\\", 1)[0] + "\\"
            foreign = [ld for ld in p.loads if is_foreign(ld.path, ld.company, (own_dir,))
                       and (p.exit_event is None or ld.index < p.exit_event)]
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


def build_finding(facts: Facts, v: Victim, failures: list[FailureCand], lang: str = "en") -> Finding:
    ref, p, ld = v.ref, v.proc, v.load
    cap = ref.cap
    steps: list[Step] = []

    def pml(i: int | None, summary: str) -> None:
        if i is None:
            return
        steps.append(ref.step(int(i), summary))

    ca = next((f for f in failures if f.source == "msi-ca"), None)
    if ca is not None:
        action = ca.related.get("action")
        sched = [e for e in facts.events("msi:op") if e.get("fields.action") == action
                 and e.origin.artifact == ca.event.origin.artifact]
        if sched:
            steps.append(Step(f"Windows Installer runs the deferred custom action {action}", sched[0].origin))
    chain_procs = list(reversed([a for a in p.ancestors() if a.create_event is not None
                                 and a.name.casefold() not in INSTALLER_IMAGES]))
    for a in chain_procs[-2:]:
        if a.parent is not None:
            pml(a.create_event, f"{a.parent.name} (PID {a.parent.pid}) starts {a.name} (PID {a.pid})")
    if p.parent is not None:
        pml(p.create_event, f"{p.parent.name} (PID {p.parent.pid}) starts {p.name} (PID {p.pid}, "
                            f"{'64' if p.is64 else '32'}-bit) from {p.image_path.rsplit(chr(92), 1)[0]}")
    if v.injector and v.injector_event is not None:
        inj = v.injector[0]
        pml(v.injector_event, f"a thread is created in {p.name} by {inj.name} (PID {inj.pid})")
    pml(ld.index, f"that thread loads {ld.path}" + (f" (company {ld.company}" + (f", {ld.description})" if ld.description else ")") if ld.company else ""))
    steps.append(Step(f"the module list of {p.name} (PID {p.pid}) in the capture names {basename(ld.path)}"
                      + (f" from {ld.company}" if ld.company else ""),
                      Origin(ref.artifact, text=f"{p.name} {p.pid}: {ld.path} {ld.company or ''} {ld.version or ''}".strip())))
    after = _first_touch(cap, p, ld)
    if after is not None:
        pml(after, f"{p.name} opens {basename(ld.path)} itself, then quits")
    load_to_exit = _ms(ld.time, p.end)
    pml(p.exit_event, f"{p.name} exits with {_status_text(p.exit_status)} {load_to_exit} ms after {basename(ld.path)} "
                      f"loaded ({_ms(p.start, p.end)} ms after it started)"
                      + (", without starting any process" if not p.children else ""))
    for run in facts.events("edgeupdate:run"):
        if run.get("fields.pid") == p.pid and run.get("fields.early_exit"):
            steps.append(Step(f"MicrosoftEdgeUpdate.log: PID {p.pid} logs only its start-up banner", _last_line(run)))
    if p.parent is not None:
        for e in facts.events("edgeupdate:*"):
            if e.kind != "edgeupdate:run" and e.get("fields.pid") == p.parent.pid and isinstance(e.get("fields.hresult"), int) \
                    and e.get("fields.hresult") & 0x80000000:
                hr = e.get("fields.hresult")
                steps.append(Step(f"MicrosoftEdgeUpdate.log: {p.parent.name} (PID {p.parent.pid}) reports failure "
                                  f"0x{hr:08X}", e.origin))
                break
        if p.parent.exit_event is not None and p.parent.exit_status not in (None, 0):
            pml(p.parent.exit_event, f"{p.parent.name} exits with {_status_text(p.parent.exit_status)}")
    for f in sorted((f for f in failures if f.source in ("msi-ca", "msi")), key=lambda f: f.source != "msi-ca"):
        if f.source == "msi-ca":
            for n in facts.events("msi:note"):
                if n.get("fields.note") == 1722 and n.get("fields.action") == f.related.get("action") \
                        and n.origin.artifact == f.event.origin.artifact:
                    steps.append(Step(f"Note 1722: {f.related.get('action')} failed", n.origin))
                    break
            steps.append(Step(f"CustomAction {f.related.get('action')} returned actual error code "
                              f"{f.failure.extra.get('raw')}", f.event.origin))
        else:
            summ = f.related.get("summary")
            ff = _first_failure(facts, summ) if summ is not None else None
            if ff is not None:
                steps.append(Step(f"{ff.get('fields.action')}: return value 3; rollback follows", ff.origin))
            steps.append(Step(f"installation status {f.failure.code}", f.event.origin))
    name = basename(ld.path)
    tl = [e for e in facts.events("tasklist:process")
          if any(basename(str(m)).casefold() == name.casefold() for m in (e.get("fields.modules") or []))]
    if tl:
        tl.sort(key=lambda e: str(e.get("fields.image")).casefold() != "explorer.exe")
        e = tl[0]
        mods = [basename(str(m)).casefold() for m in e.get("fields.modules") or []]
        lines = e.get("fields.module_lines") or []
        line = lines[mods.index(name.casefold())] if name.casefold() in mods and len(lines) == len(mods) else e.origin.line
        others = ", ".join(sorted({str(x.get("fields.image")) for x in tl})[:4])
        steps.append(Step(f"{name} is loaded in other processes too ({others})",
                          Origin(e.origin.artifact, line=line, text=f"{e.get('fields.image')} {e.get('fields.pid')}: {name}")))
    for ev in _product_drivers(facts, v.owner):
        steps.append(Step(f"{ev.get('fields.module')}: {v.owner.product} is installed (vendor driver)", ev.origin))
        break
    steps.extend(_good_steps(facts, v))

    inj_extra = {}
    if v.injector:
        inj = v.injector[0]
        io = identify(facts, inj.image_path or inj.name, inj.company)
        inj_extra = {"process": inj.name, "path": inj.image_path, "pid": inj.pid, "role": "injector-process",
                     "product": io.product,
                     "evidence": f"the Thread Create in {p.name} that precedes the {name} load carries a "
                                 f"{inj.name} thread id"}
        sib = [q for q in v.tree.procs.values() if q is not inj and q.parent is not None and inj.parent is q.parent
               and q.company == inj.company]
        if sib:
            inj_extra["also"] = [{"process": q.name, "path": q.image_path, "pid": q.pid} for q in sib]
    culprit = v.owner.culprit("injected-module", {"loaded_into": p.name, "load_to_exit_ms": load_to_exit})
    ca_code = next((f.failure for f in failures if f.source == "msi-ca"), None)
    msi = next((f.failure for f in failures if f.source == "msi"), None)
    title = (f"{v.owner.product + ' injects ' if v.owner.product else ''}{name} into {p.name}, which quits at once"
             if v.owner.product else f"{name} (from {ld.company or 'an unknown vendor'}) loads into {p.name}, which quits at once")
    if ca_code is not None and ca_code.code is not None:
        title += f"; {ca_code.extra.get('action', 'the custom action')} fails (0x{ca_code.code & 0xFFFFFFFF:08X})"
    if msi is not None:
        title += f" and the MSI rolls back ({msi.code})"
    allow = allow_list(facts, v)
    product = v.owner.product or ld.company or "the agent"
    workaround = (f"Until the vendor excludes these processes from {product}'s injection"
                  + (f" ({', '.join(sorted({q.name for q in v.injector}))})" if v.injector else "")
                  + f", install on this machine with {product}'s injecting policy switched off (or {product} "
                  "temporarily uninstalled), then restore it.")
    extra = {"injector": inj_extra} if inj_extra else {}
    extra["reasons"] = v.reasons
    return Finding("injected-module", title, v.score, culprit, tuple(steps), Remediation(tuple(allow), workaround), extra)


def _last_line(run: Event) -> Origin:
    last = run.get("fields.last_line")
    if isinstance(last, int):
        return Origin(run.origin.artifact, line=last, text=run.origin.text)
    return run.origin


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
    for ref in facts.captures("good"):
        tree = ProcessTree(ref)
        gp = _counterpart(v.proc, tree)
        if gp is None:
            continue
        name = basename(v.load.path)
        absent = not _module_anywhere(tree, name)
        life = gp.lifetime
        desc = f"good machine: the same {gp.name} runs {life:.1f} s" if life is not None else f"good machine: {gp.name} runs"
        if gp.children:
            desc += f" and starts {', '.join(sorted({c.name for c in gp.children}))}"
        if absent:
            desc += f"; {name} appears nowhere in the good capture"
        i = gp.exit_event if gp.exit_event is not None else gp.start_event
        if i is not None:
            steps.append(ref.step(i, desc))
        installers = [d for d in gp.descendants() if d.exit_status == 0 and d.children == [] and d.exit_event is not None]
        if installers:
            last = max(installers, key=lambda d: d.exit_event or 0)
            steps.append(ref.step(last.exit_event,
                                  f"good machine: {', '.join(sorted({d.name for d in installers})[:3])} run and exit 0"))
        break
    for e in facts.events("edgeupdate:*", role="good"):
        if "InstallerResult" in (e.message or "") and str(e.get("fields.code", e.get("fields.result", ""))) in ("0", "None"):
            steps.append(Step("good machine: [InstallerResult] ... [0]", e.origin))
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
    good_tree = next((ProcessTree(r) for r in facts.captures("good")), None)
    gp_root = _counterpart(bad_root, good_tree) if good_tree is not None else None
    tree_procs = [gp_root, *gp_root.descendants()] if gp_root is not None else [bad_root, *bad_root.descendants()]
    for q in tree_procs:
        if q is None:
            continue
        bad = _counterpart(q, v.tree) if gp_root is not None else q
        procs.append(bad if bad is not None and generalize(bad.image_path).casefold() == generalize(q.image_path).casefold() else q)
    out: list[AllowRule] = []
    seen: set[str] = set()
    for q in procs:
        path = q.image_path or q.name
        key = generalize(path).casefold()
        if key in seen or q.name.casefold() in INSTALLER_IMAGES:
            continue
        seen.add(key)
        pat = generalize(path)
        out.append(AllowRule(process=path, pattern=pat if pat != path else None, no_injection=True,
                             note="the process that quit" if q is v.proc else None))
    return out


def _ca_root(p: Proc) -> Proc:
    """The topmost ancestor below the installer engine (msiexec/TrustedInstaller), or the process itself."""
    root = p
    for a in p.ancestors():
        if a.name.casefold() in INSTALLER_IMAGES or a.create_event is None:
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
