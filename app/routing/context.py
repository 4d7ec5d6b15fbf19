"""What one `decide` call works with: the facts, the policy, the day and the trace."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .decision import Deadline, Note
from .facts import (
    Abuse,
    Account,
    Client,
    Contract,
    ContractType,
    Dispute,
    Freelancer,
    Inquiry,
    LinkedTicket,
    Role,
    TicketFacts,
)
from .policy import Policy
from .trace import Trace


@dataclass(frozen=True)
class Context:
    facts: TicketFacts
    policy: Policy
    now: dt.date
    trace: Trace = field(default_factory=Trace)
    clocks: dict[str, Deadline] = field(default_factory=dict)  # deadlines.track, by kind

    # Absent parts read as empty ones: every field of an empty part is unknown (None).
    @property
    def contract(self) -> Contract:
        return self.facts.contract or Contract()

    @property
    def client(self) -> Client:
        return self.facts.client or Client()

    @property
    def freelancer(self) -> Freelancer:
        return self.facts.freelancer or Freelancer()

    @property
    def dispute(self) -> Dispute:
        return self.facts.dispute or Dispute()

    @property
    def account(self) -> Account:
        return self.facts.account or Account()

    @property
    def abuse(self) -> Abuse:
        return self.facts.abuse or Abuse()

    @property
    def linked(self) -> LinkedTicket:
        return self.facts.linked_mediation_ticket or LinkedTicket()

    @property
    def ticket_id(self) -> int:
        return self.facts.ticket.id

    @property
    def role(self) -> Role | None:
        return self.facts.requester_role

    @property
    def inquiry(self) -> Inquiry | None:
        return self.facts.inquiry

    @property
    def contract_type(self) -> ContractType | None:
        return self.contract.type

    def is_fixed_price(self) -> bool:
        return self.contract_type in self.policy.payments.fixed_price_types

    def note(self, body: str, kind: str = "") -> Note:
        """An internal note on this ticket; `kind` names the template (part of the marker)."""
        return Note(ticket_id=self.ticket_id, body=body, kind=kind)

    def ticket_url(self, ticket_id: int) -> str:
        """The user's help-centre link to a ticket."""
        return self.policy.render(("links", "ticket"), {"ticket_id": ticket_id})

    def agent_url(self, ticket_id: int) -> str:
        """The agent's link, https://<subdomain>.zendesk.com/agent/tickets/<id> ('YOUR ZD ticket
        link'); without a known subdomain, the ticket number."""
        subdomain = self.facts.zendesk_subdomain
        if not subdomain:
            return f"#{ticket_id}"
        values: dict[str, object] = {"subdomain": subdomain, "ticket_id": ticket_id}
        return self.policy.render(("links", "agent_ticket"), values)
