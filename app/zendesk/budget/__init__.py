"""One Zendesk rate budget shared by every process on one PostgreSQL database.

    budget = budget_for(settings, requests_per_minute=700)  # None on SQLite
    client = ZendeskClient(url, auth, budget=budget)        # a `RateBudget`
    ...
    await budget.aclose()

See `postgres.py` for how the budget is shared, `policy.py` for when a call
may go, `schema.py` for the tables.
"""

from app.zendesk.budget.policy import DEFAULT_REQUESTS_PER_MINUTE, WindowState, verdict
from app.zendesk.budget.postgres import BudgetSettings, PostgresRateBudget, budget_for
from app.zendesk.budget.schema import PostgresTarget, postgres_target
from app.zendesk.ratelimit import Observation, read_headers  # the one header parser

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "BudgetSettings",
    "Observation",
    "PostgresRateBudget",
    "PostgresTarget",
    "WindowState",
    "budget_for",
    "postgres_target",
    "read_headers",
    "verdict",
]
