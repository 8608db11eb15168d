"""The checks of a strategy's ``preapproval:`` section that its schema cannot make.

Run by the strategy compiler with the rest of the document, so a problem in the section is
reported with its YAML line like any other.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from puhui.decision.strategy import _Compiler


def check_preapproval(compiler: _Compiler, grades: list[str]) -> None:
    """Problems of the section (none when the document has no section)."""
    spec = compiler.doc.preapproval
    if spec is None:
        return
    path = ("preapproval",)
    if not Decimal(0) <= spec.minimum_need_probability <= Decimal(1):
        compiler.problems.add(
            (*path, "minimum_need_probability"), "a probability is between 0 and 1"
        )
    seen: set[str] = set()
    allowed = compiler.preapproval_sources
    for index, name in enumerate(spec.sources_before_consent):
        if name in seen:
            compiler.problems.add((*path, "sources_before_consent", index), f"{name!r} twice")
        elif allowed is not None and name not in allowed:
            compiler.problems.add(
                (*path, "sources_before_consent", index),
                f"{name!r} may not be read before the enterprise consents"
                f" (allowed: {', '.join(sorted(allowed))})",
            )
        seen.add(name)
    _check_affordability(compiler, grades)
    if spec.product_cap_yuan is not None:
        cap = compiler.yuan((*path, "product_cap_yuan"), spec.product_cap_yuan)
        minimum = compiler.yuan(("limit", "minimum_yuan"), compiler.doc.limit.minimum_yuan)
        if cap < minimum:
            compiler.problems.add(
                (*path, "product_cap_yuan"), "is below the limit's minimum: nobody could qualify"
            )
    compiler.used_reasons.append(((*path, "need_unlikely_reason"), spec.need_unlikely_reason))
    _check_invited_grades(compiler, grades)


def _check_affordability(compiler: _Compiler, grades: list[str]) -> None:
    spec = compiler.doc.preapproval
    if spec is None:
        return
    for index, item in enumerate(spec.affordability):
        rule_path = ("preapproval", "affordability", index)
        compiler.fen_input((*rule_path, "basis"), item.basis)
        compiler.require_grades(
            (*rule_path, "multiple_by_grade"), item.multiple_by_grade, grades, lending=True
        )
        for grade, multiple in item.multiple_by_grade.items():
            if multiple < 0:
                compiler.problems.add((*rule_path, "multiple_by_grade", grade), "is negative")


def _check_invited_grades(compiler: _Compiler, grades: list[str]) -> None:
    spec = compiler.doc.preapproval
    if spec is None:
        return
    path = ("preapproval",)
    declined = set(compiler.doc.grading.declined_grades)
    for index, grade in enumerate(spec.invited_grades):
        if grade not in grades or grade in declined:
            compiler.problems.add(
                (*path, "invited_grades", index), f"{grade!r} is not a grade that lends"
            )
    if spec.invited_grades:
        if spec.grade_not_invited_reason is None:
            compiler.problems.add(
                (*path, "invited_grades"), "set grade_not_invited_reason with invited_grades"
            )
        else:
            compiler.used_reasons.append(
                ((*path, "grade_not_invited_reason"), spec.grade_not_invited_reason)
            )
