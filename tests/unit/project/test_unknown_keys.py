"""Unknown keys of facts are named, with the key that was meant, never dropped in silence."""

from __future__ import annotations

import pytest

from app.routing import TicketFacts
from app.routing.unknown_keys import describe_unknown, unknown_keys, with_unknown_keys
from tests.unit.routing.factories import facts_factory, run

make = facts_factory()


@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        ({"ticket": {"id": 1}}, []),
        ({"ticket": {"id": 1}, "contracts": {}}, ["contracts"]),
        ({"ticket": {"id": 1, "chanel": "web"}}, ["ticket.chanel"]),
        (
            {"ticket": {"id": 1}, "contract": {"payments": [{"kind": "hourly"}, {"knid": "x"}]}},
            ["contract.payments[1].knid"],
        ),
        ({"ticket": {"id": 1}, "contract": None, "client": "acme"}, []),
    ],
)
def test_unknown_keys_are_found_at_any_depth(raw: dict[str, object], keys: list[str]) -> None:
    assert unknown_keys(raw, TicketFacts) == keys


def test_the_description_names_the_key_that_was_meant() -> None:
    text = describe_unknown(["contracts", "ticket.chanel", "zzz"], TicketFacts)
    assert text == (
        'ignored unknown keys: "contracts" (did you mean "contract"?), '
        '"ticket.chanel" (did you mean "ticket.channel"?), "zzz"'
    )


def test_the_warning_is_one_more_trace_step_and_nothing_else_changes() -> None:
    decision = run(make())
    warned = with_unknown_keys(decision, ["contracts"], TicketFacts)
    assert warned.trace[:-1] == decision.trace
    assert (warned.trace[-1].step, warned.trace[-1].outcome) == ("facts", "unknown_keys")
    assert warned.model_dump(exclude={"trace"}) == decision.model_dump(exclude={"trace"})
    assert with_unknown_keys(decision, [], TicketFacts) is decision
