"""The Zendesk account the sandbox starts with (docs/contracts.md, to the letter).

Ids come from the sequences in `context.ID_STARTS`, in the order below, so they
are the same on every start and after every reset: groups 360000001..360000011,
macros 360100001..2, forms 360200001..2, brand 360300001, the service user
361000001, ticket fields 900000001..900000009 then the policy's agent fields from
900000010, field options from 900100001.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.sandbox.context import Ids, Json

GROUPS = [
    "Customer Support",
    "Mediation_Tier_1_CX420",
    "HV Mediation Tier 1",
    "Catalog_Mediation_CX420",
    "Dispute_Enterprise_CX420",
    "Mediation_ Direct_Contracts_CX420",
    "Mediation T2",
    "Client Retention Tier 2",
    "Hourly Job Abuse Queue",
    "Client Retention - NDF Daily",
    "Content_Engagement_Tier_1_TS425",
]

MACROS = [
    ("CS > Phone - Mediation Ticket", "cs_mediation_ticket cs_phone_mediation"),
    ("CS > Mediation Ticket", "cs_mediation_ticket"),
]

FORMS = ["Default Ticket Form", "Dispute Ticket Form - Escalate from CS"]

BRANDS = ["Upwork Help Center"]

# (title, type, option names); option tag = f"{slug(title)}__{slug(name)}".
TICKET_FIELDS: list[tuple[str, str, list[str]]] = [
    ("Contract ID", "text", []),
    ("Client Username", "text", []),
    ("FL Username", "text", []),
    ("Dispute Type", "tagger", ["Hourly", "Fixed-Price", "Direct Contract", "Project Catalog"]),
    (
        "Dispute Reasons",
        "multiselect",
        [
            "Manual Time",
            "Unauthorized Hours",
            "Excessive Hours",
            "Non-Work Related Hours",
            "Fraudulent Activity",
            "Contractor Unresponsive",
            "No Deliverable / Performance",
            "Poor Deliverable / Performance",
            "Missed Deadlines",
            "Poor Communication Skills",
            "Abusive Communication",
        ],
    ),
    ("Dispute Ticket Process", "tagger", ["Escalate to Mediation"]),
    ("Task to Accomplish", "tagger", ["No further task", "Follow up"]),
    (
        "Inquiry Type",
        "tagger",
        [
            "dispute",
            "follow_up",
            "change_terms",
            "payment_refusal",
            "chargeback_threat",
            "uir",
            "account_suspended",
            "abuse_report",
            "merge_requested",
        ],
    ),
    ("Requester Role", "tagger", ["client", "freelancer"]),
]


def agent_fields() -> list[tuple[str, str, list[str]]]:
    """The shipped policy's `agent_fields` (facts only an agent can establish), as an account
    that ran `install-zendesk` has them: appended after the fields above."""
    from app.routing import default_policy_path, load_policy

    policy = load_policy(default_policy_path())
    return [(s.title, s.type, list(s.options)) for s in policy.agent_fields.values()]


SERVICE_USER_NAME = "Triage Service"
SERVICE_USER_EMAIL = "triage@example.com"
SERVICE_USER_ID = 361000001  # the first user id: the seed creates it first


def slug(text: str) -> str:
    """Lowercase, every non-alphanumeric character to `_` (no collapsing)."""
    return re.sub(r"[^a-z0-9]", "_", text.lower())


def option_tag(field_title: str, option_name: str) -> str:
    return f"{slug(field_title)}__{slug(option_name)}"


@dataclass
class Seed:
    """Records per directory kind (plural, as in the list endpoints), plus macros."""

    records: dict[str, list[Json]] = field(default_factory=dict)
    macros: list[Json] = field(default_factory=list)


def build_seed(ids: Ids, now: str) -> Seed:
    stamps = {"created_at": now, "updated_at": now}
    fields = [
        _ticket_field(ids, i, title, kind, names, stamps)
        for i, (title, kind, names) in enumerate(TICKET_FIELDS + agent_fields())
    ]
    field_ids = [f["id"] for f in fields]
    forms = [_form(ids, i, name, field_ids, stamps) for i, name in enumerate(FORMS)]
    return Seed(
        records={
            "groups": [_group(ids, i, name, stamps) for i, name in enumerate(GROUPS)],
            "ticket_fields": fields,
            "ticket_forms": forms,
            "brands": [_brand(ids, name, [f["id"] for f in forms], stamps) for name in BRANDS],
            "users": [service_user(ids, stamps)],
            "organizations": [],
            "user_fields": [],
            "organization_fields": [],
        },
        macros=[_macro(ids, i, title, tags, stamps) for i, (title, tags) in enumerate(MACROS)],
    )


def service_user(ids: Ids, stamps: Json) -> Json:
    return new_user(ids.next("user"), SERVICE_USER_NAME, SERVICE_USER_EMAIL, "agent", stamps)


def new_user(user_id: int, name: str, email: str | None, role: str, stamps: Json) -> Json:
    return {
        "id": user_id,
        "name": name,
        "email": email,
        "role": role,
        "role_type": None,
        "active": True,
        "verified": True,
        "suspended": False,
        "shared": False,
        "moderator": role != "end-user",
        "only_private_comments": False,
        "organization_id": None,
        "default_group_id": None,
        "external_id": None,
        "phone": None,
        "time_zone": "UTC",
        "locale": "en-US",
        "tags": [],
        "user_fields": {},
        **stamps,
    }


def _group(ids: Ids, position: int, name: str, stamps: Json) -> Json:
    return {
        "id": ids.next("group"),
        "name": name,
        "description": "",
        "default": position == 0,
        "deleted": False,
        "is_public": True,
        **stamps,
    }


def _ticket_field(
    ids: Ids, position: int, title: str, kind: str, names: list[str], stamps: Json
) -> Json:
    record: Json = {
        "id": ids.next("ticket_field"),
        "type": kind,
        "title": title,
        "raw_title": title,
        "description": "",
        "raw_description": "",
        "agent_description": None,
        "position": position + 1,
        "active": True,
        "required": False,
        "collapsed_for_agents": False,
        "regexp_for_validation": None,
        "title_in_portal": title,
        "raw_title_in_portal": title,
        "visible_in_portal": True,
        "editable_in_portal": False,
        "required_in_portal": False,
        "tag": None,
        "removable": True,
        "key": None,
        **stamps,
    }
    if names:
        record["custom_field_options"] = [
            {
                "id": ids.next("field_option"),
                "name": name,
                "raw_name": name,
                "value": option_tag(title, name),
                "default": False,
            }
            for name in names
        ]
    return record


def _form(ids: Ids, position: int, name: str, field_ids: list[int], stamps: Json) -> Json:
    return {
        "id": ids.next("ticket_form"),
        "name": name,
        "raw_name": name,
        "display_name": name,
        "raw_display_name": name,
        "end_user_visible": True,
        "position": position + 1,
        "ticket_field_ids": list(field_ids),
        "active": True,
        "default": position == 0,
        "in_all_brands": True,
        "restricted_brand_ids": [],
        **stamps,
    }


def _brand(ids: Ids, name: str, form_ids: list[int], stamps: Json) -> Json:
    subdomain = slug(name).replace("_", "")
    return {
        "id": ids.next("brand"),
        "name": name,
        "brand_url": f"https://{subdomain}.zendesk.com",
        "subdomain": subdomain,
        "host_mapping": None,
        "has_help_center": True,
        "help_center_state": "enabled",
        "active": True,
        "default": True,
        "is_deleted": False,
        "logo": None,
        "ticket_form_ids": list(form_ids),
        "signature_template": "{{agent.signature}}",
        **stamps,
    }


def _macro(ids: Ids, position: int, title: str, tags: str, stamps: Json) -> Json:
    return new_macro(
        ids.next("macro"), title, [{"field": "current_tags", "value": tags}], position + 1, stamps
    )


def new_macro(macro_id: int, title: str, actions: list[Json], position: int, stamps: Json) -> Json:
    return {
        "id": macro_id,
        "title": title,
        "raw_title": title,
        "description": None,
        "active": True,
        "position": position,
        "restriction": None,
        "default": False,
        "actions": actions,
        **stamps,
    }
