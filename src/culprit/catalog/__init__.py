"""The artifact catalog: every piece of evidence culprit reads, and how to collect it.

The data lives in ``artifacts.yaml`` beside this module. Two things are generated from it so
they cannot drift apart: the Windows collector script (:mod:`culprit.collector`) and the
``missing`` evidence requests an analysis writes (:func:`request`).

Usage::

    from culprit import catalog
    catalog.get("acl").collect.method            # 'acl'
    why, how = catalog.request("acl", lang="zh", services=["AmdK8", "AmdPPM"])

The file is validated when first loaded; a malformed catalog raises :class:`CatalogError`
naming the entry and field, never a bare ``KeyError``.
"""

from __future__ import annotations

import builtins
import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from culprit.errors import CulpritError

__all__ = [
    "METHODS",
    "Artifact",
    "Catalog",
    "CatalogError",
    "Collect",
    "all",
    "get",
    "ids",
    "load",
    "match",
    "request",
]

SCHEMA = "culprit.catalog/1"
LANGS = ("en", "zh")
METHODS = ("copy", "eventlog", "command", "wu-render", "acl", "procmon")
SERVICES_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\"
COLLECTOR_NAME = "Collect-CulpritBundle.ps1"

# Fields each collection method needs (beyond ``method``).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "copy": ("paths",),
    "eventlog": ("channel", "output"),
    "command": ("exe", "args", "output"),
    "wu-render": ("output",),
    "acl": ("output",),
    "procmon": ("output", "boot_output"),
}
_PER = ("service", "inf", "file")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class CatalogError(CulpritError):
    """The catalog file is malformed, or a request names an unknown artifact."""


@dataclass(frozen=True, slots=True)
class Collect:
    """How the collector script gathers one artifact.

    Attributes:
        method: one of :data:`METHODS`.
        paths: Windows paths/globs for ``copy`` (environment variables allowed).
        per: ``service``, ``inf`` or ``file``: repeat the step for every service key, INF, or file
            (driver files of ``-Inf`` and files of ``-AclPaths``).
        newest: keep only the N newest matching files (``copy``).
        channel: event log channel (``eventlog``).
        exe: program to run (``command``).
        args: its arguments; ``{service}``, ``{file}``, ``{key}``, ``{name}`` are filled in, and
            ``{output}`` with the output file when the tool writes it itself.
        keys: fixed ``{name, key}`` pairs a ``command`` runs once each.
        output: bundle path of the result (backslashes, relative to the bundle root).
        boot_output: bundle path of a converted Procmon boot log (``procmon``).
    """

    method: str
    paths: tuple[str, ...] = ()
    per: str | None = None
    newest: int | None = None
    channel: str | None = None
    exe: str | None = None
    args: tuple[str, ...] = ()
    keys: tuple[tuple[str, str], ...] = ()
    output: str | None = None
    boot_output: str | None = None


@dataclass(frozen=True, slots=True)
class Artifact:
    """One catalog entry.

    Attributes:
        id: stable name (``cbs``, ``evtx-system``, ``acl``...).
        title: ``{'en': ..., 'zh': ...}``.
        reads: parser kinds that read what the collection produces.
        proves: what the artifact proves, per language (text may hold ``{param}`` placeholders).
        how: how to collect it by hand, per language.
        how_if: alternative ``how`` texts used when a request parameter is true (``boot``).
        params: request parameters the texts use.
        collect: how the script collects it (None for requests that are not a file).
        matches: extra bundle-path globs (``/``-separated) that identify the artifact.
    """

    id: str
    title: Mapping[str, str]
    reads: tuple[str, ...]
    proves: Mapping[str, str]
    how: Mapping[str, str]
    how_if: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    params: tuple[str, ...] = ()
    collect: Collect | None = None
    matches: tuple[str, ...] = ()

    def globs(self) -> tuple[str, ...]:
        """Bundle-path globs (lowercase, ``/``) of what this artifact looks like in a bundle.

        Copy paths are mapped the way the collector lays files out (``%WINDIR%\\X`` ->
        ``windows/x``); outputs keep their bundle path; placeholders become ``*``.
        """
        pats: list[str] = []
        c = self.collect
        if c is not None:
            for p in (*c.paths, *(o for o in (c.output, c.boot_output) if o)):
                if c.keys and "{name}" in p:
                    pats.extend(_bundle_glob(p.replace("{name}", name)) for name, _key in c.keys)
                else:
                    pats.append(_bundle_glob(p))
        pats.extend(m.lower() for m in self.matches)
        return tuple(dict.fromkeys(pats))


_ENV_LAYOUT = {
    "%windir%": "windows",
    "%systemroot%": "windows",
    "%programdata%": "programdata",
    "%systemdrive%": "",
    "%programfiles%": "program files",
    "%programfiles(x86)%": "program files (x86)",
}
_TOO_GENERIC = {"*", "*.txt", "*.log", "*.inf", "*.csv"}  # file names that say nothing alone
_FILL_GLOB = {"{inf}": "*.inf", "{service}": "*", "{name}": "*", "{key}": "*", "{file}": "*"}


def _bundle_glob(path: str) -> str:
    p = path.replace("\\", "/").lower()
    for var, repl in _ENV_LAYOUT.items():
        if p.startswith(var):
            p = repl + p[len(var) :]
    for ph, repl in _FILL_GLOB.items():
        p = p.replace(ph, repl)
    return p.lstrip("/")


@dataclass(frozen=True, slots=True)
class Param:
    """A request parameter: its description, the collector switch that carries it, a placeholder."""

    name: str
    label: Mapping[str, str]
    switch: str | None
    placeholder: Mapping[str, str]


@dataclass(frozen=True)
class Catalog:
    """The loaded catalog: artifacts (collected by the script), requests and parameters."""

    artifacts: tuple[Artifact, ...]
    requests: tuple[Artifact, ...]
    params: Mapping[str, Param]

    def get(self, artifact_id: str) -> Artifact:
        """The artifact or request named ``artifact_id``.

        Raises:
            CatalogError: no such entry (the message lists the known ids).
        """
        for a in (*self.artifacts, *self.requests):
            if a.id == artifact_id:
                return a
        known = ", ".join(a.id for a in (*self.artifacts, *self.requests))
        raise CatalogError(f"unknown artifact {artifact_id!r}; the catalog has: {known}")

    def match(self, bundle_path: str) -> Artifact | None:
        """The artifact a file of a bundle is, from its path (case-insensitive).

        The whole glob is tried against every tail of the path first
        (``bad/Windows/Logs/CBS/CBS.log`` -> ``cbs``), then the glob's file name alone against
        the file name. Returns None when nothing fits.
        """
        parts = [x for x in bundle_path.replace("\\", "/").lower().split("/") if x]
        if not parts:
            return None
        tails = ["/".join(parts[k:]) for k in range(len(parts))]
        best: tuple[int, Artifact | None] = (-1, None)
        for a in self.artifacts:
            for g in a.globs():
                if any(fnmatch.fnmatchcase(t, g) for t in tails):
                    literal = len(g) - sum(g.count(ch) for ch in "*?[]")  # the most specific glob wins
                    if literal > best[0]:
                        best = (literal, a)
        if best[1] is not None:
            return best[1]
        for a in self.artifacts:
            for g in a.globs():
                name = g.rsplit("/", 1)[-1]
                if name not in _TOO_GENERIC and fnmatch.fnmatchcase(parts[-1], name):
                    return a
        return None

    def present(self, bundle_paths: Iterable[str]) -> set[str]:
        """Ids of the artifacts found among ``bundle_paths``."""
        out: set[str] = set()
        for p in bundle_paths:
            a = self.match(p)
            if a is not None:
                out.add(a.id)
        return out

    def for_kind(self, kind: str) -> list[Artifact]:
        """Artifacts whose output is read by the parser ``kind`` (e.g. ``evtx``)."""
        return [a for a in self.artifacts if kind in a.reads]


def _text(entry: str, name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or any(not isinstance(value.get(lang), str) for lang in LANGS):
        raise CatalogError(f"catalog entry {entry!r}: {name} needs a text for each of {', '.join(LANGS)}")
    return {lang: str(value[lang]) for lang in LANGS}


def _strs(entry: str, name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not builtins.all(isinstance(v, (str, int)) for v in value):
        raise CatalogError(f"catalog entry {entry!r}: {name} must be a list of strings")
    return tuple(str(v) for v in value)


def _ascii(entry: str, name: str, value: str) -> str:
    if not value.isascii():
        raise CatalogError(f"catalog entry {entry!r}: collect.{name} must be ASCII (the script is ASCII)")
    if "\n" in value or "\r" in value:
        raise CatalogError(f"catalog entry {entry!r}: collect.{name} must be one line")
    return value


def _collect(entry: str, raw: Any) -> Collect:
    if not isinstance(raw, Mapping):
        raise CatalogError(f"catalog entry {entry!r}: collect must be a mapping")
    method = raw.get("method")
    if not isinstance(method, str) or method not in _REQUIRED:
        raise CatalogError(
            f"catalog entry {entry!r}: collect.method {method!r} is not one of {', '.join(METHODS)}"
        )
    for name in _REQUIRED[method]:
        if not raw.get(name):
            raise CatalogError(f"catalog entry {entry!r}: collect.{name} is required for method {method}")
    for name in ("channel", "exe", "output", "boot_output"):
        if raw.get(name) is not None and not isinstance(raw[name], str):
            raise CatalogError(f"catalog entry {entry!r}: collect.{name} must be a string")
    unknown = set(raw) - {
        "method",
        "paths",
        "per",
        "newest",
        "channel",
        "exe",
        "args",
        "keys",
        "output",
        "boot_output",
    }
    if unknown:
        raise CatalogError(f"catalog entry {entry!r}: unknown collect field(s) {', '.join(sorted(unknown))}")
    per = raw.get("per")
    if per is not None and (not isinstance(per, str) or per not in _PER):
        raise CatalogError(f"catalog entry {entry!r}: collect.per must be one of {', '.join(_PER)}")
    newest = raw.get("newest")
    if newest is not None and (not isinstance(newest, int) or isinstance(newest, bool) or newest < 1):
        raise CatalogError(f"catalog entry {entry!r}: collect.newest must be a positive integer")
    keys: list[tuple[str, str]] = []
    if not isinstance(raw.get("keys") or [], list):
        raise CatalogError(f"catalog entry {entry!r}: collect.keys must be a list")
    for k in raw.get("keys") or ():
        if (
            not isinstance(k, Mapping)
            or not isinstance(k.get("name"), str)
            or not isinstance(k.get("key"), str)
        ):
            raise CatalogError(f"catalog entry {entry!r}: collect.keys items need a name and a key")
        keys.append((_ascii(entry, "keys", k["name"]), _ascii(entry, "keys", k["key"])))
    c = Collect(
        method=method,
        paths=tuple(_ascii(entry, "paths", p) for p in _strs(entry, "collect.paths", raw.get("paths"))),
        per=per,
        newest=newest,
        channel=_ascii(entry, "channel", str(raw["channel"])) if raw.get("channel") else None,
        exe=_ascii(entry, "exe", str(raw["exe"])) if raw.get("exe") else None,
        args=tuple(_ascii(entry, "args", a) for a in _strs(entry, "collect.args", raw.get("args"))),
        keys=tuple(keys),
        output=_ascii(entry, "output", str(raw["output"])) if raw.get("output") else None,
        boot_output=_ascii(entry, "boot_output", str(raw["boot_output"])) if raw.get("boot_output") else None,
    )
    for out in (c.output, c.boot_output):
        if out and (out.startswith(("\\", "/")) or ":" in out or ".." in out.replace("/", "\\").split("\\")):
            raise CatalogError(
                f"catalog entry {entry!r}: collect output {out!r} must be a relative bundle path"
            )
    return c


def _artifact(raw: Any, *, with_collect: bool, params: Mapping[str, Param]) -> Artifact:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not _ID.match(raw["id"]):
        raise CatalogError(f"catalog entry without a valid id (lowercase letters, digits, '-'): {raw!r:.80}")
    aid = raw["id"]
    how_if: dict[str, dict[str, str]] = {}
    raw_if = raw.get("how_if") or {}
    if not isinstance(raw_if, Mapping):
        raise CatalogError(f"catalog entry {aid!r}: how_if must map a parameter to texts")
    for cond, texts in raw_if.items():
        if cond not in params:
            raise CatalogError(f"catalog entry {aid!r}: how_if.{cond} is not a declared parameter")
        how_if[str(cond)] = _text(aid, f"how_if.{cond}", texts)
    declared = _strs(aid, "params", raw.get("params"))
    for p in declared:
        if p not in params:
            raise CatalogError(f"catalog entry {aid!r}: parameter {p!r} is not declared under params:")
    a = Artifact(
        id=aid,
        title=_text(aid, "title", raw.get("title")),
        reads=_strs(aid, "reads", raw.get("reads")),
        proves=_text(aid, "proves", raw.get("proves")),
        how=_text(aid, "how", raw.get("how")),
        how_if=how_if,
        params=declared,
        collect=_collect(aid, raw.get("collect")) if with_collect else None,
        matches=_strs(aid, "matches", raw.get("matches")),
    )
    if with_collect and not a.reads:
        raise CatalogError(f"catalog entry {aid!r}: reads (the parser kinds) is required")
    for lang in LANGS:
        texts = [a.proves[lang], a.how[lang], *(t[lang] for t in a.how_if.values())]
        for used in (m for t in texts for m in _PLACEHOLDER.findall(t)):
            if used not in a.params and used in params:
                raise CatalogError(f"catalog entry {aid!r}: text uses {{{used}}} but params does not list it")
    return a


def parse(data: Any) -> Catalog:
    """Validate the decoded YAML document and build a :class:`Catalog`.

    Raises:
        CatalogError: the document is malformed (the message names entry and field).
    """
    if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
        raise CatalogError(f"not an artifact catalog (expected schema: {SCHEMA})")
    params: dict[str, Param] = {}
    raw_params = data.get("params") or {}
    if not isinstance(raw_params, Mapping):
        raise CatalogError("catalog params must be a mapping")
    for name, raw in raw_params.items():
        if not isinstance(raw, Mapping):
            raise CatalogError(f"catalog parameter {name!r} must be a mapping")
        params[str(name)] = Param(
            name=str(name),
            label=_text(f"params.{name}", "label", raw),
            switch=str(raw["switch"]) if raw.get("switch") else None,
            placeholder=_text(f"params.{name}", "placeholder", raw.get("placeholder")),
        )
    for section in ("artifacts", "requests"):
        if not isinstance(data.get(section) or [], list):
            raise CatalogError(f"catalog {section} must be a list")
    arts = tuple(_artifact(r, with_collect=True, params=params) for r in data.get("artifacts") or ())
    reqs = tuple(_artifact(r, with_collect=False, params=params) for r in data.get("requests") or ())
    seen: set[str] = set()
    for a in (*arts, *reqs):
        if a.id in seen:
            raise CatalogError(f"catalog entry {a.id!r} appears twice")
        seen.add(a.id)
    if not arts:
        raise CatalogError("the catalog lists no artifacts")
    return Catalog(arts, reqs, params)


def load(path: str | Path | None = None) -> Catalog:
    """Load and validate a catalog file (the packaged ``artifacts.yaml`` by default)."""
    if path is None:
        return _default()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CatalogError(f"cannot read catalog {path}: {e}") from None
    return _parse_text(text, str(path))


def _parse_text(text: str, where: str) -> Catalog:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CatalogError(f"{where}: not valid YAML: {e}") from None
    return parse(data)


@lru_cache(maxsize=1)
def _default() -> Catalog:
    text = resources.files(__name__).joinpath("artifacts.yaml").read_text(encoding="utf-8")
    return _parse_text(text, "artifacts.yaml")


def get(artifact_id: str) -> Artifact:
    """The packaged catalog's entry ``artifact_id`` (an artifact or a request).

    Raises:
        CatalogError: unknown id.
    """
    return _default().get(artifact_id)


def all() -> tuple[Artifact, ...]:
    """Every artifact of the packaged catalog (the ones the collector script gathers)."""
    return _default().artifacts


def match(bundle_path: str) -> Artifact | None:
    """The packaged catalog's artifact for a file of a bundle (see :meth:`Catalog.match`)."""
    return _default().match(bundle_path)


def ids() -> list[str]:
    """Ids of every artifact and request in the packaged catalog."""
    c = _default()
    return [a.id for a in (*c.artifacts, *c.requests)]


def _as_list(value: Any) -> list[str]:
    if value is None or value is False:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _normalise(params: Mapping[str, Any]) -> dict[str, Any]:
    """Fill derived parameters: service names give their keys; keys under Services give services."""
    p = dict(params)
    for single, plural in (("service", "services"), ("key", "keys"), ("path", "keys")):
        if single in p and plural not in p:
            p[plural] = p.pop(single)
    services = _as_list(p.get("services"))
    keys = _as_list(p.get("keys"))
    if services and not keys:
        keys = [SERVICES_KEY + s for s in services]
    p["services"], p["keys"] = services, keys
    if isinstance(p.get("inf"), (list, tuple)):
        p["inf"] = _as_list(p["inf"])
    return p


def _fill(text: str, params: Mapping[str, Any], declared: Mapping[str, Param], lang: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in declared:
            return m.group(0)
        value = params.get(name)
        items = _as_list(value) if not isinstance(value, bool) else []
        return ", ".join(items) if items else declared[name].placeholder[lang]

    return _PLACEHOLDER.sub(one, text)


def collector_command(params: Mapping[str, Any], lang: str = "en", procmon: bool = False) -> str:
    """The collector command line that gathers everything, with the switches ``params`` imply.

    Args:
        params: request parameters (``services``, ``inf``, ``keys``, ``boot``...).
        lang: ``en`` or ``zh`` (only the placeholder text differs).
        procmon: add ``-Procmon`` (the request needs a capture).
    """
    p = _normalise(params)
    parts = ["powershell -ExecutionPolicy Bypass -File", COLLECTOR_NAME]
    if p["services"]:
        parts += ["-ServiceKeys", ",".join(p["services"])]
    infs = _as_list(p.get("inf"))
    if infs:
        parts += ["-Inf", ",".join(infs)]
    extra = [
        k
        for k in p["keys"]
        if not (k.upper().startswith(SERVICES_KEY.upper()) and k[len(SERVICES_KEY) :] in p["services"])
    ]
    if extra:
        parts += ["-AclPaths", ",".join(f"'{k}'" for k in extra)]
    if procmon or p.get("boot"):
        parts += ["-Procmon", "<procmon.exe>" if lang == "en" else "<procmon.exe 路径>"]
        if p.get("boot"):
            parts.append("-ProcmonBoot")
    return " ".join(parts)


def request(artifact_id: str, lang: str = "en", **params: Any) -> tuple[str, str]:
    """The ``(why, how)`` text of a ``missing`` evidence request, from the catalog.

    Args:
        artifact_id: catalog id (``acl``, ``procmon``, ``setupapi``, ``good-machine``...).
        lang: ``en`` or ``zh``.
        **params: what the request is about: ``services`` (names, list or comma string),
            ``keys`` (registry keys or files), ``inf`` (``cpu.inf``), ``process``
            (``MicrosoftEdgeUpdate.exe``), ``boot`` (True: the failure happens during a restart).
            Missing parameters are shown as placeholders; unknown ones are ignored.

    Returns:
        ``why`` (what the evidence proves) and ``how`` (how to collect it by hand, followed by the
        collector command that gathers it together with everything else).

    Raises:
        CatalogError: unknown id or language.
    """
    if lang not in LANGS:
        raise CatalogError(f"unknown language {lang!r} (use {' or '.join(LANGS)})")
    cat = _default()
    a = cat.get(artifact_id)
    p = _normalise(params)
    how_text = a.how[lang]
    for cond, texts in a.how_if.items():
        if p.get(cond):
            how_text = texts[lang]
            break
    why = _fill(a.proves[lang], p, cat.params, lang)
    how = _fill(how_text, p, cat.params, lang)
    cmd = collector_command(p, lang, procmon=a.collect is not None and a.collect.method == "procmon")
    if lang == "zh":
        how += f"。或者以管理员身份运行 culprit 收集脚本，一次收集此项及其他全部证据：{cmd}"
    else:
        how += (". Or run the culprit collector as administrator; it gathers this and all other evidence"
                f" in one go: {cmd}")
    return why, how
