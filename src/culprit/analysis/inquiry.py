"""What an analysis knows so far: the state every pass reads and adds to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from culprit.analysis.facts import Facts
from culprit.model import Finding, Missing

if TYPE_CHECKING:
    from culprit.analysis.failures import FailureCand
    from culprit.analysis.servicing import ServicingCase


@dataclass
class Inquiry:
    facts: Facts
    lang: str = "en"
    failures: list[FailureCand] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    unresolved: list[dict[str, Any]] = field(default_factory=list)
    servicing: ServicingCase | None = None
    diff: dict[str, Any] | None = None
