"""The worker: claim an event, gather facts, decide, plan and apply the Zendesk writes."""
