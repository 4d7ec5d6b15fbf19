"""Replays: re-deciding tickets from Zendesk (one ticket, a time range), and the policy diff."""
