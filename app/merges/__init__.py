"""Merges: the guarded merge endpoint, the merge log and the metrics of repairs.

A merge cannot be undone and closes the source ticket, and Zendesk cannot
forbid merging particular tickets. So `POST /merges` refuses merges that touch
a Dispute / Mediation ticket (and names the follow-up flow to use instead),
and `app/worker/merge_repair.py` repairs merges made anyway in Zendesk's UI.
`GET /admin/merges` reports both.
"""
