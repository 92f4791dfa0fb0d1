"""Who may join an association: pure functions over its rule set and an applicant's answers.

The chamber eased membership: a university degree is never needed unless the association's own rule
says so, and experience, a business licence or a home-business permit count as evidence. When
something is missing the verdict lists what would qualify instead; nothing here says a flat "no".
"""

from __future__ import annotations

from dataclasses import dataclass

from db.models import Application, Association
from db.models.applications import BUSINESS_OWNER, HOME_BUSINESS, UNIVERSITY_DEGREES
from db.models.associations import (
    EVIDENCE_BUSINESS_LICENCE,
    EVIDENCE_EXPERIENCE,
    EVIDENCE_HOME_PERMIT,
    EVIDENCE_KINDS,
)

DEGREE = "degree"
EVIDENCE = "evidence"

# Which uploaded document counts as which evidence, by applicant type.
DOCUMENT_EVIDENCE = {BUSINESS_OWNER: EVIDENCE_BUSINESS_LICENCE, HOME_BUSINESS: EVIDENCE_HOME_PERMIT}


@dataclass(frozen=True)
class Rules:
    """An association's membership rules."""

    degree_required: bool = False
    accepted_evidence: tuple[str, ...] = EVIDENCE_KINDS
    min_experience_years: int = 0
    evidence_required: bool = False

    @classmethod
    def of(cls, association: Association) -> Rules:
        """The rules stored on an association row."""
        return cls(
            degree_required=bool(association.degree_required),
            accepted_evidence=tuple(k for k in association.evidence_kinds if k in EVIDENCE_KINDS),
            min_experience_years=max(0, association.min_experience_years or 0),
            evidence_required=bool(association.evidence_required),
        )

    @property
    def needs_evidence(self) -> bool:
        """Some evidence is asked for: explicitly, or by a minimum years of experience."""
        return self.evidence_required or self.min_experience_years > 0

    @property
    def experience_bar(self) -> int:
        """Years of experience that count as evidence on their own."""
        return max(self.min_experience_years, 1)


@dataclass(frozen=True)
class Answers:
    """The answers eligibility looks at."""

    applicant_type: str | None = None
    experience_years: int | None = None
    education: str | None = None
    permit_number: str | None = None
    documents: int = 0

    @classmethod
    def of(cls, application: Application, documents: int) -> Answers:
        """The answers on an application row, with its number of uploaded documents."""
        return cls(
            applicant_type=application.applicant_type,
            experience_years=application.experience_years,
            education=application.education,
            permit_number=application.permit_number,
            documents=documents,
        )


@dataclass(frozen=True)
class Option:
    """One way to meet a requirement: `kind` is an evidence kind or DEGREE; `years` for experience."""

    kind: str
    years: int = 0


@dataclass(frozen=True)
class Shortfall:
    """A requirement not met yet (`need`: DEGREE or EVIDENCE) and what would meet it."""

    need: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Verdict:
    """The outcome: eligible, or the shortfalls with what would qualify instead."""

    shortfalls: tuple[Shortfall, ...] = ()
    satisfied_by: tuple[str, ...] = ()

    @property
    def eligible(self) -> bool:
        """Nothing is missing."""
        return not self.shortfalls


def evidence_met(rules: Rules, answers: Answers) -> tuple[str, ...]:
    """The accepted evidence kinds these answers already show."""
    met: list[str] = []
    accepted = rules.accepted_evidence
    if EVIDENCE_EXPERIENCE in accepted and (answers.experience_years or 0) >= rules.experience_bar:
        met.append(EVIDENCE_EXPERIENCE)
    if (
        EVIDENCE_BUSINESS_LICENCE in accepted
        and answers.applicant_type == BUSINESS_OWNER
        and answers.documents > 0
    ):
        met.append(EVIDENCE_BUSINESS_LICENCE)
    if (
        EVIDENCE_HOME_PERMIT in accepted
        and answers.applicant_type == HOME_BUSINESS
        and (answers.documents > 0 or bool(answers.permit_number))
    ):
        met.append(EVIDENCE_HOME_PERMIT)
    return tuple(met)


def evidence_options(rules: Rules, applicant_type: str | None) -> tuple[Option, ...]:
    """What would count as evidence for this kind of applicant (every accepted kind if none fits)."""

    def option(kind: str) -> Option:
        return Option(kind, rules.experience_bar if kind == EVIDENCE_EXPERIENCE else 0)

    fitting = [
        kind
        for kind in rules.accepted_evidence
        if kind == EVIDENCE_EXPERIENCE
        or (kind == EVIDENCE_BUSINESS_LICENCE and applicant_type == BUSINESS_OWNER)
        or (kind == EVIDENCE_HOME_PERMIT and applicant_type == HOME_BUSINESS)
    ]
    return tuple(option(kind) for kind in (fitting or rules.accepted_evidence))


def assess(rules: Rules, answers: Answers) -> Verdict:
    """Whether the answers meet the rules; if not, what would."""
    shortfalls: list[Shortfall] = []
    # A degree is asked for only when the association's own rule says so.
    if rules.degree_required and answers.education not in UNIVERSITY_DEGREES:
        shortfalls.append(Shortfall(DEGREE, (Option(DEGREE),)))
    met = evidence_met(rules, answers)
    if rules.needs_evidence and not met:
        shortfalls.append(Shortfall(EVIDENCE, evidence_options(rules, answers.applicant_type)))
    return Verdict(tuple(shortfalls), met)


def document_required(rules: Rules, answers: Answers) -> bool:
    """Evidence is still missing and an uploaded licence or permit would supply it: the document
    step cannot be skipped (the applicant may instead change an answer, e.g. their experience)."""
    if not rules.needs_evidence or evidence_met(rules, answers):
        return False
    kind = DOCUMENT_EVIDENCE.get(answers.applicant_type or "")
    return kind is not None and kind in rules.accepted_evidence
