"""The policy file: loads, is versioned by content, and fails with file + line when invalid."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from app.routing import Policy, PolicyError, default_policy_path, load_policy

SOURCE = default_policy_path().read_text()


def mutate(tmp_path: Path, anchor: str, replacement: str) -> tuple[Path, int]:
    """Replace the first line starting with `anchor`; return the file and that line's number."""
    lines = SOURCE.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(anchor))
    lines[index] = replacement
    path = tmp_path / "policy.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, index + 1


def insert_after(tmp_path: Path, anchor: str, extra: str) -> tuple[Path, int]:
    lines = SOURCE.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(anchor))
    lines.insert(index + 1, extra)
    path = tmp_path / "policy.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, index + 2


def test_default_policy_loads_and_is_stamped_with_its_hash() -> None:
    policy = load_policy(default_policy_path())
    digest = hashlib.sha256(default_policy_path().read_bytes()).hexdigest()
    assert policy.version == f"sha256:{digest}"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", policy.version)
    assert policy.name == "cs-mediation-playbook"


def test_default_policy_path_is_inside_the_package() -> None:
    assert default_policy_path().name == "default_policy.yaml"
    assert default_policy_path().parent.name == "routing"


def test_version_changes_when_content_changes(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    first.write_text(SOURCE)
    second = tmp_path / "b.yaml"
    second.write_text(SOURCE + "# a comment is a change too\n")
    assert load_policy(first).version == load_policy(default_policy_path()).version
    assert load_policy(second).version != load_policy(first).version


def test_policy_is_frozen() -> None:
    policy = load_policy(default_policy_path())
    with pytest.raises(ValueError):
        policy.name = "other"  # type: ignore[misc]


def test_contract_attributes() -> None:
    """docs/contracts.md: the attributes other packages code against."""
    policy = load_policy(default_policy_path())
    assert isinstance(policy, Policy)
    assert policy.queues["Mediation_Tier_1_CX420"].group == "Mediation_Tier_1_CX420"
    assert set(policy.macros) >= {"phone", "default"}
    assert policy.forms["dispute"] == "Dispute Ticket Form - Escalate from CS"
    assert policy.brands["help_center"] == "Upwork Help Center"
    assert set(policy.ticket_fields) == {
        "contract_id",
        "client_username",
        "fl_username",
        "dispute_type",
        "dispute_reasons",
        "dispute_ticket_process",
        "task_to_accomplish",
        "inquiry",
        "requester_role",
    }
    assert "triage_routed" in policy.service_tags
    assert policy.owns_tag("triage_path_mediation_escalation")
    assert not policy.owns_tag("vip")


def test_zendesk_names_match_the_sandbox_seed() -> None:
    names = load_policy(default_policy_path()).zendesk_names()
    assert set(names["groups"]) == {
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
    }
    assert names["macros"] == ["CS > Mediation Ticket", "CS > Phone - Mediation Ticket"]
    assert "Dispute Ticket Form - Escalate from CS" in names["forms"]
    assert names["brands"] == ["Upwork Help Center"]
    fields = dict(names["fields"])
    assert fields["Contract ID"] == []
    assert fields["Dispute Type"] == ["Hourly", "Fixed-Price", "Direct Contract", "Project Catalog"]
    assert fields["Dispute Ticket Process"] == ["Escalate to Mediation"]
    assert fields["Task to Accomplish"] == ["No further task", "Follow up"]
    assert len(fields["Dispute Reasons"]) == 11
    assert fields["Requester Role"] == ["client", "freelancer"]


INVALID = [
    pytest.param("  mediation: 30", "  mediation: thirty", "windows.mediation", id="wrong_type"),
    pytest.param(
        "  high_value: HV Mediation Tier 1",
        "  high_value: HV Mediaton",
        "unknown queue 'HV Mediaton'",
        id="unknown_queue_reference",
    ),
    pytest.param(
        "  high_value: HV Mediation Tier 1",
        "  high_value: Mediation T2",
        "routable: false",
        id="route_to_mediation_t2",
    ),
    pytest.param(
        "  mediation: Mediation_Tier_1_CX420",
        "  mediation: Client Retention Tier 2",
        "must point to a Mediation queue",
        id="mediation_route_not_mediation_queue",
    ),
    pytest.param(
        "    Contract ID: {{ contract_id }}\n",
        "    Contract ID: {{ contract_id }",
        "template syntax error",
        id="bad_template_syntax",
    ),
    pytest.param(
        "    Contract ID: {{ contract_id }}\n",
        "    Contract ID: {{ contract_number }}",
        "unknown variable(s) contract_number",
        id="unknown_template_variable",
    ),
    pytest.param(
        "    Contract ID: {{ contract_id }}\n",
        "    Contract ID: {{ contract_id.nope.deeper }}",
        "template fails",
        id="template_fails_on_sample",
    ),
    pytest.param(
        '    - "Mediation can take up to',
        '    - "Mediation can take up to {{ duration_days "',
        "template syntax error",
        id="bad_guidance_template",
    ),
    pytest.param(
        "  escalation_status: open",
        "  escalation_status: closed",
        "settings.escalation_status",
        id="setting_not_allowed",
    ),
    pytest.param(
        "  holiday_country: US",
        "  holiday_country: XX",
        "unknown holiday country",
        id="unknown_holiday_country",
    ),
    pytest.param(
        "  retention: 60", "  retention: 20", "mediation < retention", id="windows_out_of_order"
    ),
    pytest.param(
        "queue_precedence:",
        "queue_precedence: [high_value, mediation, enterprise]",
        "end with 'mediation'",
        id="precedence_without_fallback",
    ),
    pytest.param("name:", "name: a: b", "not valid YAML", id="yaml_syntax_error"),
    pytest.param(
        "  routed: triage_routed",
        "  routed: Triage Routed!",
        "tag_roles.routed",
        id="tag_not_a_tag",
    ),
]


@pytest.mark.parametrize(("anchor", "replacement", "message"), INVALID)
def test_invalid_policy_names_file_and_line(
    tmp_path: Path, anchor: str, replacement: str, message: str
) -> None:
    path, line = mutate(tmp_path, anchor.rstrip("\n"), replacement)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    error = caught.value
    assert (error.file, error.line) == (str(path), line)
    assert str(error).startswith(f"{path}:{line}: ")
    assert message in error.message


@pytest.mark.parametrize(
    ("anchor", "extra", "message"),
    [
        ("  mediation: 30", "  mediation: 31", "duplicate key 'mediation'"),
        ("description:", "colour: blue", "colour: Extra inputs are not permitted"),
        ("description:", "version: sha256:abc", "version is computed"),
    ],
    ids=["duplicate_key", "unknown_top_level_key", "version_is_not_configurable"],
)
def test_invalid_policy_extra_line(tmp_path: Path, anchor: str, extra: str, message: str) -> None:
    path, line = insert_after(tmp_path, anchor, extra)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.line == line
    assert message in caught.value.message


def test_missing_template_is_reported_at_its_section(tmp_path: Path) -> None:
    text = SOURCE.replace(
        "  merge_blocked: |\n    Do not merge", "  merge_blocker: |\n    Do not merge"
    )
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert "unknown notes template 'merge_blocker'" in caught.value.message
    assert "missing template(s): merge_blocked" in caught.value.message
    assert caught.value.line == text.splitlines().index("  merge_blocker: |") + 1


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.file == str(path)
    assert caught.value.line is None


def test_document_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(PolicyError, match=r"list.yaml:1: a policy must be a YAML mapping"):
        load_policy(path)
