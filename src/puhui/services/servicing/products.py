"""Use case: create a loan product."""

from __future__ import annotations

from collections.abc import Callable

from puhui.domain.errors import Conflict
from puhui.domain.ids import ProductId, new_id
from puhui.domain.lending.integer_interest import check_rate_places
from puhui.domain.lending.product import LoanProduct
from puhui.services.audit import record
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.records import ProductRecord

UowFactory = Callable[[], ServicingUnitOfWork]


def create_product(uow_factory: UowFactory, product: LoanProduct, *, actor: str) -> ProductId:
    """Register a product under a new id; its code must be new."""
    check_rate_places(product.min_annual_rate)
    check_rate_places(product.max_annual_rate)
    with uow_factory() as uow:
        if uow.products.get_by_code(product.code) is not None:
            raise Conflict(f"a product with code {product.code!r} exists already")
        product_id = ProductId(new_id("prod"))
        uow.products.add(ProductRecord(product_id=product_id, product=product))
        record(
            uow,
            actor=actor,
            action="product.created",
            entity="product",
            entity_id=product_id,
            payload={
                "code": product.code,
                "method": product.method.value,
                "basis": product.basis.value,
                "rounding": product.rounding.value,
                "penalty_uplift": str(product.penalty_uplift),
                "settlement_day": product.settlement_day,
            },
        )
        uow.commit()
    return product_id
