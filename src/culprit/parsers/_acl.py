"""Building ``acl:object`` / ``acl:ace`` events, shared by the Get-Acl and icacls parsers.

The event shapes are documented in ``docs/events/getacl.md``; the decoding itself lives in
:mod:`culprit.sddl`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from culprit import sddl
from culprit.model import Event, Origin
from culprit.parsers._tables import abbreviate_key, clip

SERVICE_PREFIX = "service::"  # marks a service name (from ``sc sdshow <name>``) given as a path


def object_name(path: str) -> tuple[str, str]:
    """``(object, object_type)``: registry paths abbreviated (``HKLM\\...``), provider prefixes dropped;
    ``service::<name>`` is the service ``<name>``."""
    p = path.strip().strip("\"'")
    if p.casefold().startswith(SERVICE_PREFIX):
        return p[len(SERVICE_PREFIX) :], "service"
    otype = sddl.object_type_of(p)
    if "::" in p:
        p = p.split("::", 1)[1]
    if otype == "registry":
        return abbreviate_key(p), otype
    return p, otype


def ace_events(
    aces: Sequence[sddl.Ace],
    obj: str,
    otype: str,
    origin: Origin,
    names: dict[str, str] | None = None,
    rights_text: Sequence[str] | None = None,
) -> Iterator[Event]:
    """One ``acl:ace`` event per ACE (all with the same origin: the line that holds them)."""
    names = names or {}
    for i, a in enumerate(aces):
        principal = names.get(a.sid) or sddl.sid_name(a.sid) or a.sid
        fields: dict[str, Any] = {
            "object": clip(obj),
            "object_type": otype,
            "index": i,
            "principal": principal,
            "sid": a.sid if a.sid.upper().startswith("S-1-") else None,
            "ace_type": a.ace_type,
            "rights": sddl.ace_rights(a, otype),
            "mask": a.mask,
            "inherited": a.inherited,
            "inherit_only": a.inherit_only,
            "flags": list(a.flags),
        }
        if rights_text is not None and i < len(rights_text):
            fields["rights_text"] = rights_text[i]
        verb = {"allow": "allows", "deny": "denies"}.get(a.ace_type, a.ace_type)
        yield Event(
            kind="acl:ace",
            origin=origin,
            fields=fields,
            message=f"{obj}: {verb} {principal} {'/'.join(fields['rights'])}",
        )


def object_event(
    obj: str,
    otype: str,
    origin: Origin,
    aces: Sequence[sddl.Ace] | None,
    *,
    sd: sddl.SecurityDescriptor | None = None,
    owner: str | None = None,
    group: str | None = None,
    names: dict[str, str] | None = None,
    repeat_of: int | None = None,
) -> Event:
    """The ``acl:object`` event: owner, SDDL and the computed write/full-control summary."""
    names = names or {}
    summary = sddl.summarize(aces, otype, names)
    owner_sid = sd.owner if sd else (sddl.sid_for_name(owner) if owner else None)
    group_sid = sd.group if sd else (sddl.sid_for_name(group) if group else None)
    fields: dict[str, Any] = {
        "object": clip(obj),
        "object_type": otype,
        "owner": owner or (sddl.sid_name(owner_sid) or owner_sid if owner_sid else None),
        "owner_sid": owner_sid,
        "group": group or (sddl.sid_name(group_sid) or group_sid if group_sid else None),
        "group_sid": group_sid,
        "sddl": clip(sd.sddl) if sd else None,
        "dacl_flags": list(sd.dacl_flags) if sd else [],
        "protected": bool(sd and "P" in sd.dacl_flags),
        "ace_count": len(aces) if aces is not None else None,
        "grants_write_to": summary.grants_write_to,
        "full_control_to": summary.full_control_to,
        "denies_write_to": summary.denies_write_to,
        "repeat_of": repeat_of,
    }
    writers = ", ".join(summary.grants_write_to) or "nobody"
    return Event(
        kind="acl:object", origin=origin, fields=fields, message=f"{obj}: write allowed to {writers}"
    )
