"""Pure routing core: ticket facts + policy + today -> decision, with its trace.

    from app.routing import TicketFacts, Decision, Policy, load_policy, default_policy_path, decide
    policy = load_policy(default_policy_path())
    decision = decide(TicketFacts.model_validate(facts_json), policy, today)

No I/O, no settings, no clock: `decide` is deterministic. docs/playbook.md maps
every playbook rule to the code and tests here.
"""

from .decision import Decision
from .engine import decide
from .facts import TicketFacts
from .policy import Policy, PolicyError
from .policy_loader import default_policy_path, load_policy

__all__ = [
    "Decision",
    "Policy",
    "PolicyError",
    "TicketFacts",
    "decide",
    "default_policy_path",
    "load_policy",
]
