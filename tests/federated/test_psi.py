"""PSI finds exactly the intersection and shows the bank nothing of the owner's other ids."""

from __future__ import annotations

from puhui.risk.federated import psi


def _ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


def test_blinding_commutes() -> None:
    a, b = psi.PsiKey(), psi.PsiKey()
    point = psi.hash_to_point("91110105MA0000000X")
    assert a.blind(b.blind(point)) == b.blind(a.blind(point))


def test_psi_finds_exactly_the_intersection() -> None:
    shared = _ids("S", 50)
    bank_ids = shared + _ids("B", 30)
    owner_ids = _ids("O", 40) + shared
    bank_key, owner_key = psi.PsiKey(), psi.PsiKey()

    answer, owner_order = psi.owner_answer(owner_key, bank_key.blind_ids(bank_ids), owner_ids)
    found, positions = psi.bank_intersection(bank_key, bank_ids, answer)

    assert found == shared
    assert sorted(owner_order[p] for p in positions) == sorted(shared)


def test_owner_messages_for_other_ids_match_nothing_the_bank_can_compute() -> None:
    owner_only = _ids("O", 40)
    bank_ids = _ids("S", 20)
    bank_key, owner_key = psi.PsiKey(), psi.PsiKey()
    answer, _ = psi.owner_answer(owner_key, bank_key.blind_ids(bank_ids), owner_only + bank_ids)

    # Everything the bank can compute from any id it might guess: plain hashes, its own
    # blinding, and its blinding of the owner's points.
    guesses = owner_only + bank_ids + _ids("X", 40)
    computable = {psi.hash_to_point(i) for i in guesses} | set(bank_key.blind_ids(guesses))
    computable |= set(answer.double_blinded)
    owner_only_points = set(owner_key.blind_ids(owner_only))
    assert owner_only_points <= set(answer.owner_blinded)
    assert not owner_only_points & computable
    # Once blinded by the bank, only the shared ids meet its own double-blinded points.
    rebinded = set(bank_key.blind_all(answer.owner_blinded))
    assert len(rebinded & set(answer.double_blinded)) == len(bank_ids)


def test_owner_order_is_not_its_id_order() -> None:
    owner_ids = _ids("O", 200)
    _, order = psi.owner_answer(psi.PsiKey(), [], owner_ids)
    assert sorted(order) == owner_ids
    assert order != owner_ids
