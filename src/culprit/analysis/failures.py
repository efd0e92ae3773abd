"""Pass 1: what failed — a KB/package, an MSI product, an Edge/Omaha install, a driver package.

Each failure keeps the event that proves it. Sources, strongest first: the servicing stack's own
log (CBS), the installer's own log (MSI, Edge Update), SetupAPI's section exit status, then the
summaries other components write (Windows Update, event logs), which only repeat a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from culprit.analysis.facts import Facts, basename
from culprit.kb import codes
from culprit.model import Event, Failure, Origin

_NOISE = ("SQM:", "Failed to get next element", "Unrecognized packageExtended")
_ROUTINE_SETUPAPI = {0, 0xE000020E, 0x103}


@dataclass
class FailureCand:
    """A failure with the events the later passes need to explain it."""

    failure: Failure
    source: (
        str  # cbs | msi | msi-ca | edgeupdate | setupapi | wu | evtx | crash | configmgr | exchange | burn
    )
    event: Event
    level: int  # 0 = what the user saw (KB, product), 1 = an inner step (custom action, driver package)
    related: dict[str, Any] = field(default_factory=dict)


# Processes whose crash is the install's failure.
INSTALLER_IMAGES = frozenset(
    {"msiexec.exe", "trustedinstaller.exe", "tiworker.exe", "wusa.exe", "dism.exe", "drvinst.exe"}
)


def crash_of(ev: Event) -> tuple[str, str, int | str | None, str | None] | None:
    """``(process, faulting module (path when known), exception code, process path)`` of a crash event
    (Application Error 1000, WER event 1001 or a Report.wer); None when the event names no module."""
    if ev.kind == "wer:report":
        module = ev.get("fields.fault_module_path") or ev.get("fields.fault_module")
        if not module:
            return None
        return (
            str(ev.get("fields.app_name") or ""),
            str(module),
            ev.get("fields.exception_code"),
            ev.get("fields.app_path") or None,
        )
    if not ev.get("fields.module"):
        return None
    return (
        str(ev.get("fields.process") or ""),
        str(ev.get("fields.module_path") or ev.get("fields.module")),
        ev.get("fields.exception"),
        ev.get("fields.path") or None,
    )


# Error-shaped codes that do not mean an install failed: WU_E_NOOP (nothing to do; Windows 10's agent logs
# it as *FAILED* when a COM client disconnects).
_NOT_FAILURES = frozenset({0x8024000C})


def _is_failure_code(code: int | None) -> bool:
    return code is not None and (code & 0x80000000) != 0 and code not in _NOT_FAILURES


def _symbol(ev: Event, code: int | None) -> str | None:
    sym = ev.get("fields.symbol")
    if sym:
        return str(sym)
    if code is None:
        return None
    try:
        return codes.symbol(code)
    except Exception:
        return None


def _kb(ev: Event) -> str | None:
    kb = ev.get("fields.kb")
    return str(kb) if kb else None


def cbs_failures(facts: Facts) -> list[FailureCand]:
    """The failing CBS operation: its first error line, attributed to the package that failed."""
    evs = _chronological(facts.events("cbs:*"))
    if not evs:
        return []
    evs = _last_failing_run(evs)
    pkg_events = [e for e in evs if e.get("fields.package")]
    failing_pkgs = [
        e
        for e in pkg_events
        if e.kind in ("cbs:wer", "cbs:exec", "cbs:startup", "cbs:package")
        and (_is_failure_code(e.code) or e.get("fields.rollback") or e.kind == "cbs:wer")
    ]
    errors = [
        e
        for e in evs
        if _is_failure_code(e.code) and str(e.severity) == "error" and not any(n in e.message for n in _NOISE)
    ]
    # CSI failure frames are the stack of the failure, CBS's own line is the failure: prefer it.
    cbs_own = [e for e in errors if str(e.get("fields.component") or "CBS").upper() != "CSI"]
    errors = cbs_own or errors
    if not errors:
        errors = [e for e in failing_pkgs if _is_failure_code(e.code)]
    if not errors:
        return []
    out: list[FailureCand] = []
    first = errors[0]
    pkg_ev = _nearest_package(first, failing_pkgs) or _nearest_package(first, pkg_events)
    package = str(pkg_ev.get("fields.package")) if pkg_ev else None
    kb = (_kb(pkg_ev) if pkg_ev else None) or (_kb_of_update(evs, package) if package else None)
    target = kb or package or "Windows servicing operation"
    extra: dict[str, Any] = {}
    if package:
        extra["package"] = package
    out.append(
        FailureCand(
            Failure(target, first.code, first.origin, _symbol(first, first.code), extra),
            "cbs",
            first,
            0,
            {"package_event": pkg_ev},
        )
    )
    return out


def _chronological(evs: list[Event]) -> list[Event]:
    """CBS history in time order: CbsPersist archives and CBS.log (each file keeps its own order)."""
    from datetime import datetime

    first: dict[str, datetime] = {}
    for e in evs:
        t = e.local_time or (e.time.replace(tzinfo=None) if e.time else None)
        if t is not None and e.origin.artifact not in first:
            first[e.origin.artifact] = t
    far = datetime.max  # noqa: DTZ901 - local wall-clock times, compared only with each other
    return sorted(
        evs, key=lambda e: (first.get(e.origin.artifact, far), e.origin.artifact, e.origin.line or 0)
    )


def _last_failing_run(evs: list[Event]) -> list[Event]:
    """The events of the last TrustedInstaller run that logged a real failure (older runs are history)."""
    runs: list[list[Event]] = [[]]
    for e in evs:
        if e.kind == "cbs:run" and e.get("fields.boundary") == "start" and runs[-1]:
            runs.append([])
        runs[-1].append(e)
    for run in reversed(runs):
        if any(
            _is_failure_code(e.code)
            and str(e.severity) == "error"
            and not any(n in e.message for n in _NOISE)
            for e in run
        ):
            # keep the earlier runs too, after it: package lines of the session may precede the failing run
            return run + [e for r in runs if r is not run for e in r]
    return evs


# Exec: Installing Package: Package_for_RollupFix~..., Update: 5035845-4432_neutral_LDR, ...
_UPDATE_KB = re.compile(r"\bUpdate: (\d{6,8})-\d+_")


def _kb_by_update(evs: list[Event]) -> dict[str, str]:
    """Update id -> KB, from the lines that name both (logs name the KB once and the id often)."""
    return {str(e.get("fields.update_id")): kb for e in evs if e.get("fields.update_id") and (kb := _kb(e))}


def _kb_of_update(evs: list[Event], package: str) -> str | None:
    """A cumulative update's KB: its package is Package_for_RollupFix, the update name carries the number."""
    for e in evs:
        text = e.origin.text or e.message
        if package in text:
            m = _UPDATE_KB.search(text)
            if m:
                return "KB" + m.group(1)
    return None


def _nearest_package(ev: Event, cands: list[Event]) -> Event | None:
    """The package event of the same log closest after (else before) ``ev``."""
    same = [c for c in cands if c.origin.artifact == ev.origin.artifact]
    pool = same or cands
    if not pool:
        return None
    line = ev.origin.line or 0
    after = [c for c in pool if (c.origin.line or 0) >= line and c.origin.artifact == ev.origin.artifact]
    if after:
        return min(after, key=lambda c: c.origin.line or 0)
    return max(pool, key=lambda c: (c.origin.artifact == ev.origin.artifact, c.origin.line or 0))


def msi_failures(facts: Facts) -> list[FailureCand]:
    out: list[FailureCand] = []
    for summ in facts.events("msi:summary"):
        status = summ.get("fields.status")
        if not isinstance(status, int) or status in (0, 1641, 3010):
            continue
        product = str(summ.get("fields.product") or summ.get("fields.package") or "Windows Installer package")
        status_ev = (
            _event_at(facts, "msi:status", summ.origin.artifact, summ.get("fields.status_line")) or summ
        )
        extra = {
            k: summ.get(f"fields.{f}")
            for k, f in (("package", "package"), ("product_version", "version"))
            if summ.get(f"fields.{f}")
        }
        out.append(
            FailureCand(
                Failure(
                    product,
                    status,
                    status_ev.origin,
                    _symbol(status_ev, status) or codes.symbol(status),
                    extra,
                ),
                "msi",
                status_ev,
                0,
                {"summary": summ},
            )
        )
        for note in _script_errors(facts, summ.origin.artifact):
            args = note.get("fields.args") or []
            action = str(args[0]) if args else "?"
            try:
                raw = int(str(args[1]).strip())
            except (IndexError, ValueError):
                raw = None
            code = raw & 0xFFFFFFFF if raw is not None else None
            out.append(
                FailureCand(
                    Failure(
                        product,
                        code,
                        note.origin,
                        codes.symbol(code) if code is not None else None,
                        {"action": action, "raw": str(raw)},
                    ),
                    "msi-ca",
                    note,
                    1,
                    {
                        "action": action,
                        "summary": summ,
                        "note": note.get("fields.note"),
                        "script": [str(a) for a in args[2:6]],
                    },
                )
            )
        for ca in summ.get("fields.ca_errors") or []:
            ca_ev = _event_at(facts, "msi:custom-action", summ.origin.artifact, ca.get("line"))
            if ca_ev is None:
                continue
            code = ca.get("code")
            out.append(
                FailureCand(
                    Failure(
                        product,
                        code,
                        ca_ev.origin,
                        _symbol(ca_ev, code),
                        {"action": ca.get("action"), "raw": str(ca.get("raw"))},
                    ),
                    "msi-ca",
                    ca_ev,
                    1,
                    {"action": ca.get("action"), "summary": summ},
                )
            )
    return out


def _script_errors(facts: Facts, artifact: str) -> list[Event]:
    """``Note: 1: 1720/1721 2: <action> 3: <error> ...``: a script or program custom action failed."""
    return [
        e
        for e in facts.events("msi:note")
        if e.origin.artifact == artifact and e.get("fields.note") in (1720, 1721)
    ]


def _event_at(facts: Facts, kind: str, artifact: str, line: Any) -> Event | None:
    if not isinstance(line, int):
        return None
    for e in facts.events(kind):
        if e.origin.artifact == artifact and e.origin.line == line:
            return e
    return None


_DISM_OBJECT = re.compile(r"(?:capability|package|feature|driver)\s+(\S+?)\.?\s*(?:-|$)", re.I)


def dism_failures(facts: Facts) -> list[FailureCand]:
    """The DISM operation that failed: the first error line that names what it was adding or removing."""
    errors = [e for e in facts.events("dism:line") if str(e.severity) == "error" and _is_failure_code(e.code)]
    for e in errors:
        m = _DISM_OBJECT.search(e.message.split(" - ", 1)[0] + " -")
        if (m and "~" in m.group(1)) or (m and "." in m.group(1)):
            return [FailureCand(Failure(m.group(1), e.code, e.origin, _symbol(e, e.code)), "dism", e, 1, {})]
    if errors:
        e = errors[0]
        return [FailureCand(Failure("DISM", e.code, e.origin, _symbol(e, e.code)), "dism", e, 1, {})]
    return []


def setupapi_failures(facts: Facts) -> list[FailureCand]:
    out = []
    for sec in facts.events("setupapi:section"):
        code = sec.get("fields.exit_code")
        if not isinstance(code, int) or code in _ROUTINE_SETUPAPI:
            continue
        if str(sec.get("fields.exit_status", "")).upper().startswith("SUCCESS"):
            continue
        inf = sec.get("fields.inf")
        target = str(inf or sec.get("fields.instance") or sec.get("fields.title"))
        out.append(
            FailureCand(
                Failure(target, code, sec.origin, _symbol(sec, code), {"title": sec.get("fields.title")}),
                "setupapi",
                sec,
                1,
                {"inf": inf},
            )
        )
    return out


def edgeupdate_failures(facts: Facts) -> list[FailureCand]:
    out = []
    for ev in facts.events("edgeupdate:*"):
        code = ev.get("fields.hresult")
        if ev.kind == "edgeupdate:run" or not _is_failure_code(code if isinstance(code, int) else None):
            continue
        out.append(
            FailureCand(
                Failure("Microsoft Edge Update", code, ev.origin, _symbol(ev, code)), "edgeupdate", ev, 1, {}
            )
        )
    return out


_UPDATE_COMPONENTS = frozenset({"wuahandler", "updateshandler", "updatesdeployment", "updatesstore"})


def configmgr_failures(facts: Facts) -> list[FailureCand]:
    """Configuration Manager deployments: an application whose installer's exit code ConfigMgr counted as
    a failure (AppEnforce / execmgr), named after the deployment type it enforced."""
    out = []
    app: dict[str, str] = {}  # artifact -> the app being enforced
    command: dict[str, Event] = {}
    for ev in facts.events("cmtrace:line"):
        art = ev.origin.artifact
        if ev.get("fields.app"):
            app[art] = str(ev.get("fields.app"))
        if ev.get("fields.command_line"):
            command[art] = ev
        code = ev.get("fields.exit_code")
        if str(ev.severity) != "error" or not isinstance(code, int) or code == 0:
            continue
        target = app.get(art) or _command_target(command.get(art)) or "ConfigMgr deployment"
        related = {"command_line": command[art].get("fields.command_line")} if art in command else {}
        sym = _symbol(ev, code)
        out.append(FailureCand(Failure(target, code, ev.origin, sym), "configmgr", ev, 0, related))
    return out


def burn_failures(facts: Facts) -> list[FailureCand]:
    """WiX Burn bundles (setup.exe wrappers of MSI/EXE packages): a run whose package or apply phase failed,
    named after the bundle, citing the first error line; the package and its own log go with it."""
    out = []
    for ev in facts.events("burn:summary"):
        code = next(
            (c for c in (ev.get(f"fields.{k}") for k in ("failed_result", "apply_result", "hresult")) if c),
            None,
        )
        if not isinstance(code, int) or not code & 0x80000000:
            continue
        line = ev.get("fields.first_error_line") or ev.get("fields.failed_line")
        at = next(
            (
                e
                for e in facts.events("burn:line")
                if e.origin.artifact == ev.origin.artifact and e.origin.line == line
            ),
            ev,
        )
        name = (
            ev.get("fields.bundle_name") or basename(str(ev.get("fields.bundle_path") or "")) or "Burn bundle"
        )
        extra = {
            k: v
            for k, v in (
                ("version", ev.get("fields.bundle_version")),
                ("package", ev.get("fields.failed_package")),
                ("package_log", ev.get("fields.child_log")),
            )
            if v
        }
        out.append(
            FailureCand(Failure(str(name), code, at.origin, _symbol(at, code), extra), "burn", at, 0, {})
        )
    return out


def exchange_failures(facts: Facts) -> list[FailureCand]:
    """Exchange Server setup (a CU or an install): the first error of each run of ExchangeSetup.log, named
    after the product and version the banner states; the line itself says what went wrong."""
    out = []
    banner: dict[str, dict[str, Any]] = {}
    done: set[tuple[str, int]] = set()
    for ev in facts.events("exchangesetup:line"):
        art = ev.origin.artifact
        b = banner.setdefault(art, {"run": 0})
        if ev.get("fields.product"):
            b.update(run=b["run"] + 1, product=ev.get("fields.product"), version=None, mode=None)
        for k, f in (("version", "fields.setup_version"), ("mode", "fields.mode")):
            if ev.get(f):
                b[k] = ev.get(f)
        if str(ev.severity) != "error" or (art, b["run"]) in done:
            continue
        done.add((art, b["run"]))
        code = ev.get("fields.error_code")
        code = code if isinstance(code, int) else ev.get("fields.hresult")
        code = code if isinstance(code, int) else None
        target = f"{b.get('product') or 'Exchange Server'} setup"
        extra = {k: v for k, v in (("version", b.get("version")), ("mode", b.get("mode"))) if v}
        for k in ("exception", "rule", "path"):
            if ev.get(f"fields.{k}"):
                extra[k] = ev.get(f"fields.{k}")
        said = " ".join(str(ev.get("fields.rule_failure") or ev.get("fields.log_text") or "").split())
        said = re.sub(r"^(?:\[(?:ERROR|WARNING)\]\s*|\d+\.\s+ErrorRecord:\s*)", "", said)
        if said:
            extra["error"] = said[:160] + ("…" if len(said) > 160 else "")
        sym = None if code is None else _symbol(ev, code)
        out.append(FailureCand(Failure(target, code, ev.origin, sym, extra), "exchange", ev, 0, {}))
    return out


def _command_target(ev: Event | None) -> str | None:
    if ev is None:
        return None
    m = re.search(r'"([^"]+\.msi)"|(\S+\.msi)\b', str(ev.get("fields.command_line")), re.I)
    return (m.group(1) or m.group(2)) if m else None


def _configmgr_update(ev: Event) -> bool:
    """A ConfigMgr software-update log line (WUAHandler, UpdatesHandler...) that reports a failed update."""
    return str(ev.get("fields.component") or "").casefold() in _UPDATE_COMPONENTS or bool(
        ev.get("fields.kb") or ev.get("fields.update_id")
    )


_PROVIDERS = {
    "windowsupdateclient": "Windows Update",
    "servicing": "Windows servicing",
    "msiinstaller": "Windows Installer package",
    "service control manager": "service",
}


def _what_failed(ev: Event) -> str:
    """A name a customer understands for an event-log failure: the update, the service, the component."""
    if ev.kind == "wer:report":  # a crash names the program; a failure report names what failed
        app = str(ev.get("fields.app_name") or "")
        return app if ev.get("fields.fault_module") else f"{ev.get('fields.event_type')} ({app or '?'})"
    for k in ("fields.update_title", "fields.updateTitle", "fields.service", "fields.param1", "fields.app"):
        if ev.get(k):
            return str(ev.get(k))
    prov = str(ev.get("fields.provider") or "").casefold()
    for key, name in _PROVIDERS.items():
        if key in prov:
            return name
    return str(ev.get("fields.provider") or "Windows component")


def capture_failures(facts: Facts) -> list[FailureCand]:
    """An installer whose only record is a capture: the first install process that exits with an error.

    Install processes are those whose image name says so (setup, install, update) and what they start.
    """
    from culprit.analysis.proctree import tree_of

    out: list[FailureCand] = []
    for ref in facts.captures("bad"):
        tree = tree_of(ref)
        roots = [
            p
            for p in tree.procs.values()
            if any(w in p.name.casefold() for w in ("setup", "install", "update"))
            and (p.start_event is not None or p.create_event is not None)
        ]
        members = {id(p): p for r in roots for p in (r, *r.descendants())}
        failed = [p for p in members.values() if p.exit_event is not None and p.exit_status not in (None, 0)]
        if not failed:
            continue
        p = min(failed, key=lambda x: x.exit_event or 0)
        code = p.exit_status & 0xFFFFFFFF if p.exit_status is not None else None
        ev = ref.cap.event(int(p.exit_event))  # type: ignore[arg-type]
        origin = Origin(
            ref.artifact,
            line=ev.origin.line,
            record=int(p.exit_event),  # type: ignore[arg-type]
            text=(ev.origin.text or ev.message)[:300],
        )
        rec = p.record
        product = (
            " ".join(x for x in (getattr(rec, "description", None), getattr(rec, "version", None)) if x)
            or None
        )
        extra = {"product": product} if product else {}
        out.append(
            FailureCand(
                Failure(p.name, code, origin, codes.symbol(code) if code is not None else None, extra),
                "capture",
                ev,
                0,
                {"pid": p.pid},
            )
        )
        break
    return out


def summary_failures(facts: Facts) -> list[FailureCand]:
    """Windows Update and event-log failures: they name the update and repeat the code.

    The line that names the failing package (``Post-reboot status for package X: 0x...``) is the failure;
    lines that only repeat the code (FATAL, REPORT EVENT) lend it the KB when the package name has none.
    """
    evs = [e for k in ("windowsupdate:*", "reportingevents:*", "evtx:*") for e in facts.events(k)]
    evs += [e for e in facts.events("wer:report") if _install_report(e)]
    evs += [e for e in facts.events("cmtrace:line") if _configmgr_update(e)]
    coded = [
        e
        for e in evs
        if isinstance(c := (e.code if e.code is not None else e.get("fields.hresult")), int)
        and _is_failure_code(c)
    ]
    named = [e for e in coded if e.get("fields.package")]
    loud = [
        e for e in coded if str(e.severity) == "error" or e.get("fields.outcome") in ("failure", "Failure")
    ]
    kb_of_update = _kb_by_update(evs)
    out = []
    for ev in named[:1] or loud:
        code = ev.code if ev.code is not None else ev.get("fields.hresult")
        kb = (
            _kb(ev)
            or kb_of_update.get(str(ev.get("fields.update_id")))
            or next((_kb(e) for e in coded if _kb(e) and (e.code or e.get("fields.hresult")) == code), None)
        )
        target = (
            kb
            or ev.get("fields.package")
            or ev.get("fields.title")
            or ev.get("fields.product")
            or _what_failed(ev)
        )
        extra = {"package": ev.get("fields.package")} if ev.get("fields.package") else {}
        source = "crash" if crash_of(ev) else "wu"
        out.append(
            FailureCand(Failure(str(target), code, ev.origin, _symbol(ev, code), extra), source, ev, 0, {})
        )
    named_codes = {c.failure.code for c in out if _KB_TARGET.match(c.failure.target)}
    if named_codes:  # lines that only repeat a named update's code, or say "all updates failed", add nothing
        out = [
            c
            for c in out
            if _KB_TARGET.match(c.failure.target)
            or c.failure.code not in named_codes | {WU_E_ALL_UPDATES_FAILED}
        ]
    return out


_KB_TARGET = re.compile(r"KB\d+$")
WU_E_ALL_UPDATES_FAILED = 0x80240022


def _install_report(ev: Event) -> bool:
    """A WER report about installing: a servicing/store failure with its HRESULT, or an installer's crash
    (the archive also holds every unrelated application's crashes)."""
    if ev.get("fields.hresult") is not None and not ev.get("fields.fault_module"):
        return True
    return str(ev.get("fields.app_name") or "").casefold() in INSTALLER_IMAGES | {"microsoftedgeupdate.exe"}


def find(facts: Facts) -> list[FailureCand]:
    """All failures, the one the user saw first; duplicates of the same target and code merged."""
    primary = cbs_failures(facts) + msi_failures(facts)
    inner = (setupapi_failures(facts) + dism_failures(facts)) if primary else []
    cands = primary + inner
    if not primary:
        cands += (
            setupapi_failures(facts)
            + dism_failures(facts)
            + edgeupdate_failures(facts)
            + configmgr_failures(facts)
            + exchange_failures(facts)
            + burn_failures(facts)
        )
    summaries = summary_failures(facts)
    if not cands:
        cands = summaries
    if not cands:
        cands = capture_failures(facts)
    seen: set[tuple[str, int | None, int]] = set()
    out = []
    for c in sorted(cands, key=lambda c: c.level):
        key = (c.failure.target.casefold(), c.failure.code, c.level)
        if key in seen:
            continue
        seen.add(key)
        out.append(c)
    return out


def summary_evidence(facts: Facts, code: int | None, kb: str | None) -> list[Event]:
    """Lines elsewhere that report the same failure (WU log, ReportingEvents, event logs)."""
    out = []
    evs = [e for k in ("windowsupdate:*", "reportingevents:*", "evtx:*") for e in facts.events(k)]
    for ev in evs:
        c = ev.code if ev.code is not None else ev.get("fields.hresult")
        if (
            code is not None
            and c == code
            and str(ev.severity) == "error"
            and (kb is None or _kb(ev) in (None, kb))
        ):
            out.append(ev)
    return out


def configmgr_evidence(facts: Facts, code: int | None, kb: str | None) -> list[Event]:
    """ConfigMgr software-update lines that report the same update failing with the same code (the KB found
    through the update id when the line itself does not name it)."""
    evs = [e for e in facts.events("cmtrace:line") if _configmgr_update(e)]
    kb_of = _kb_by_update(evs)
    out = []
    for ev in evs:
        c = ev.code if ev.code is not None else ev.get("fields.hresult")
        their = _kb(ev) or kb_of.get(str(ev.get("fields.update_id")))
        if code is not None and c == code and str(ev.severity) == "error" and (kb is None or their == kb):
            out.append(ev)
    return out


def run(q: Any) -> None:
    """Pass: what failed."""
    q.failures = find(q.facts)
