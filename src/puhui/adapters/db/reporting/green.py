"""Green loans (docs/green.md): outstanding loans by the green label and catalogue category
their application's decision read (``origination_applications.green_label``, migration 0032)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, text

from puhui.services.reporting.green import NO_CATEGORY, UNLABELLED, GreenLoanLine

# Plain SQL over the servicing and origination tables, as the snapshot does (this package may
# not import the servicing adapters, which import it).
_GREEN_BOOK = text(
    """
    SELECT a.green_label AS label,
           a.green_category AS category,
           COUNT(*) AS loans,
           SUM(l.outstanding_principal_fen) AS outstanding
    FROM loans l
    LEFT JOIN origination_applications a ON a.credit_line_id = l.line_id
    WHERE l.outstanding_principal_fen > 0
    GROUP BY a.green_label, a.green_category
    """
)


def green_loan_book(engine: Engine) -> list[GreenLoanLine]:
    """Loans with principal outstanding, counted and summed (exact fen) by green label and
    category; green rows first, then by label and category."""
    with engine.connect() as connection:
        rows = connection.execute(_GREEN_BOOK).all()
    lines = [
        GreenLoanLine(
            UNLABELLED if r.label is None else str(r.label),
            NO_CATEGORY if r.category is None else str(r.category),
            int(r.loans),
            int(r.outstanding),
        )
        for r in rows
    ]
    return sorted(lines, key=lambda x: (x.label != "green", x.label, x.category))


_OFFERS_BY_LABEL = text(
    """
    SELECT COALESCE(a.green_label, 'none') AS label,
           COUNT(*) AS offers,
           AVG(o.annual_rate) AS rate,
           COALESCE(SUM(o.limit_fen), 0) AS limit_fen
    FROM origination_offers o
    JOIN origination_applications a ON a.application_id = o.application_id
    GROUP BY COALESCE(a.green_label, 'none')
    ORDER BY 1
    """
)


def offers_by_green_label(engine: Engine) -> list[tuple[str, int, Decimal | None, int]]:
    """(label, offers, average annual rate to 1e-6, limits in fen) of the offers made, by the
    green label recorded at assessment (``none``: the screen did not cover the applicant)."""
    with engine.connect() as connection:
        rows = connection.execute(_OFFERS_BY_LABEL).all()
    return [
        (
            str(row.label),
            int(row.offers),
            None if row.rate is None else Decimal(str(row.rate)).quantize(Decimal("0.000001")),
            int(row.limit_fen),
        )
        for row in rows
    ]
