"""Webhook intake: the Zendesk signature check, payload parsing and the hot-path endpoint."""
