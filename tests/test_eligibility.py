"""Eligibility as plain functions: no degree unless the association says so; evidence has alternatives."""

from __future__ import annotations

import pytest

from bot.services.eligibility import (
    DEGREE,
    EVIDENCE,
    Answers,
    Option,
    Rules,
    assess,
    document_required,
    evidence_options,
)
from db.models import Association

OWNER, HOME = "business_owner", "home_business"


def test_no_rules_anyone_qualifies_without_a_degree() -> None:
    verdict = assess(Rules(), Answers(OWNER, experience_years=0, education="no_degree"))
    assert verdict.eligible and verdict.shortfalls == ()


@pytest.mark.parametrize(
    "education", ["no_degree", "diploma", "associate", "bachelor", "master", "doctorate"]
)
def test_education_never_matters_unless_the_association_requires_a_degree(education: str) -> None:
    rules = Rules(min_experience_years=2)
    assert assess(rules, Answers(HOME, experience_years=2, education=education)).eligible


def test_degree_required_by_the_association_own_rule() -> None:
    rules = Rules(degree_required=True)
    verdict = assess(rules, Answers(OWNER, experience_years=10, education="diploma"))
    assert not verdict.eligible
    assert verdict.shortfalls[0].need == DEGREE
    assert assess(rules, Answers(OWNER, experience_years=0, education="associate")).eligible


def test_missing_experience_lists_what_would_qualify_instead() -> None:
    rules = Rules(min_experience_years=3)
    verdict = assess(rules, Answers(OWNER, experience_years=1, education="no_degree"))
    assert not verdict.eligible
    (shortfall,) = verdict.shortfalls
    assert shortfall.need == EVIDENCE
    assert shortfall.options == (Option("experience", 3), Option("business_licence"))


def test_a_licence_document_stands_in_for_experience() -> None:
    rules = Rules(min_experience_years=3)
    verdict = assess(rules, Answers(OWNER, experience_years=0, education="no_degree", documents=1))
    assert verdict.eligible and verdict.satisfied_by == ("business_licence",)


def test_a_home_permit_number_alone_is_evidence_for_a_home_business() -> None:
    rules = Rules(min_experience_years=5)
    assert assess(rules, Answers(HOME, experience_years=0, permit_number="KR1234")).eligible
    # "" means "I have none": not evidence.
    verdict = assess(rules, Answers(HOME, experience_years=0, permit_number=""))
    assert verdict.shortfalls[0].options == (Option("experience", 5), Option("home_permit"))


def test_evidence_required_with_no_minimum_years_one_year_is_enough() -> None:
    rules = Rules(evidence_required=True)
    assert not assess(rules, Answers(OWNER, experience_years=0)).eligible
    assert assess(rules, Answers(OWNER, experience_years=1)).eligible


def test_experience_not_accepted_means_a_document_is_needed() -> None:
    rules = Rules(accepted_evidence=("business_licence",), evidence_required=True)
    answers = Answers(OWNER, experience_years=20)
    assert not assess(rules, answers).eligible
    assert document_required(rules, answers)
    assert not document_required(rules, Answers(OWNER, experience_years=20, documents=1))


def test_document_is_optional_when_experience_already_qualifies() -> None:
    rules = Rules(min_experience_years=3, evidence_required=True)
    assert not document_required(rules, Answers(OWNER, experience_years=4))
    assert document_required(rules, Answers(OWNER, experience_years=2))


def test_options_for_a_type_that_no_kind_fits_list_every_accepted_kind() -> None:
    rules = Rules(accepted_evidence=("home_permit",), evidence_required=True)
    assert evidence_options(rules, OWNER) == (Option("home_permit"),)
    # A business owner cannot supply a home permit document: no point in making the upload compulsory.
    assert not document_required(rules, Answers(OWNER, experience_years=0))


def test_rules_from_an_association_row() -> None:
    association = Association(
        name="x",
        name_key="x",
        degree_required=False,
        accepted_evidence="experience,home_permit,bogus",
        min_experience_years=2,
        evidence_required=False,
    )
    rules = Rules.of(association)
    assert rules.accepted_evidence == ("experience", "home_permit")
    assert rules.needs_evidence and rules.experience_bar == 2 and not rules.degree_required
