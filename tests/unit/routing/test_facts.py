"""The facts model: every field but ticket.id optional, enums lenient on case, extras ignored."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.routing import TicketFacts
from app.routing.facts import Badge, Channel, ContractType, Segment, TicketStatus


@pytest.mark.parametrize(
    ("payload", "path", "expected"),
    [
        ({"ticket": {"id": 1, "status": "OPEN"}}, ("ticket", "status"), TicketStatus.OPEN),
        ({"ticket": {"id": 1, "channel": "Phone"}}, ("ticket", "channel"), Channel.PHONE),
        (
            {"ticket": {"id": 1}, "contract": {"type": "Fixed-Price"}},
            ("contract", "type"),
            ContractType.FIXED_PRICE,
        ),
        (
            {"ticket": {"id": 1}, "contract": {"type": "PROJECT CATALOG"}},
            ("contract", "type"),
            ContractType.PROJECT_CATALOG,
        ),
        (
            {"ticket": {"id": 1}, "client": {"segment": "vsb+"}},
            ("client", "segment"),
            Segment.VSB_PLUS,
        ),
        (
            {"ticket": {"id": 1}, "client": {"segment": "enterprise"}},
            ("client", "segment"),
            Segment.ENTERPRISE,
        ),
        (
            {"ticket": {"id": 1}, "freelancer": {"badge": "top_rated_plus"}},
            ("freelancer", "badge"),
            Badge.TOP_RATED_PLUS,
        ),
        (
            {"ticket": {"id": 1}, "freelancer": {"badge": "NONE"}},
            ("freelancer", "badge"),
            Badge.NONE,
        ),
        ({"ticket": {"id": 1}, "contract": {"id": 123}}, ("contract", "id"), "123"),
        ({"ticket": {"id": "42"}}, ("ticket", "id"), 42),
    ],
    ids=[
        "status_upper",
        "channel_title",
        "fixed_dash",
        "catalog_upper",
        "vsb_plus_lower",
        "enterprise_lower",
        "badge_snake",
        "badge_none_upper",
        "numeric_contract_id",
        "string_ticket_id",
    ],
)
def test_lenient_values(payload: dict[str, Any], path: tuple[str, str], expected: object) -> None:
    facts = TicketFacts.model_validate(payload)
    value = getattr(getattr(facts, path[0]), path[1])
    assert value == expected


def test_only_ticket_id_required() -> None:
    facts = TicketFacts.model_validate({"ticket": {"id": 7}})
    assert facts.contract is None and facts.inquiry is None


def test_ticket_id_required() -> None:
    with pytest.raises(ValidationError):
        TicketFacts.model_validate({"ticket": {}})


def test_extra_keys_ignored() -> None:
    facts = TicketFacts.model_validate({"ticket": {"id": 1, "priority": "high"}, "nonsense": True})
    assert not hasattr(facts, "nonsense")


def test_unknown_enum_value_rejected() -> None:
    with pytest.raises(ValidationError):
        TicketFacts.model_validate({"ticket": {"id": 1}, "client": {"segment": "Galactic"}})


def test_round_trip_json() -> None:
    payload = {
        "ticket": {"id": 5, "status": "new", "channel": "web"},
        "contract": {"payments": [{"date": "2024-05-13", "kind": "hourly", "amount": "250.00"}]},
    }
    facts = TicketFacts.model_validate(payload)
    assert TicketFacts.model_validate(facts.model_dump(mode="json")) == facts
