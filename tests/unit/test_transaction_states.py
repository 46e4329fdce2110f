import pytest

from app.domain.transaction import TRANSITIONS, IllegalTransition, TxnKind, TxnState, check_transition


def _reachable_from_pending():
    seen, todo = {TxnState.PENDING}, [TxnState.PENDING]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_state_is_reachable_from_the_intent():
    assert _reachable_from_pending() == set(TxnState)


def test_every_state_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(TxnState)


def test_only_pending_and_reversal_pending_are_in_flight():
    assert {s for s in TxnState if s.in_flight} == {TxnState.PENDING, TxnState.REVERSAL_PENDING}


def test_from_every_in_flight_state_a_final_state_is_reachable_without_approval():
    # An unknown outcome must be able to end without ever being shown as approved.
    for start in (TxnState.PENDING, TxnState.REVERSAL_PENDING):
        assert TxnState.REVERSED in TRANSITIONS[start] or TxnState.REVERSAL_PENDING in TRANSITIONS[start]
    assert TxnState.APPROVED not in TRANSITIONS[TxnState.REVERSAL_PENDING]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (TxnState.DECLINED, TxnState.APPROVED),
        (TxnState.REVERSED, TxnState.APPROVED),
        (TxnState.REVERSAL_PENDING, TxnState.APPROVED),
        (TxnState.APPROVED, TxnState.REVERSED),
        (TxnState.VOIDED, TxnState.APPROVED),
        (TxnState.PENDING, TxnState.REVERSED),
    ],
)
def test_illegal_moves_are_refused(current, target):
    with pytest.raises(IllegalTransition):
        check_transition(current, target)


def test_only_a_balance_inquiry_moves_no_money():
    assert [k for k in TxnKind if not k.moves_money] == [TxnKind.BALANCE]
