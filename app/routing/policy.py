"""The routing policy: the playbook's names, windows, settings and templates as data.

`load_policy(path)` reads a YAML file, validates it and compiles its templates.
Its `version` is `sha256:<hex>` of the file bytes. Any problem raises
`PolicyError(file, line, message)` naming the line in the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Template
from pydantic import PrivateAttr, ValidationError

from . import policy_checks
from .calendar import BusinessCalendar
from .policy_schema import (
    AbuseSpec,
    ArbitrationSpec,
    CalendarSpec,
    DeadlineSpec,
    FieldOptions,
    Links,
    MergeGuard,
    Part,
    Payments,
    QueueRule,
    QueueSpec,
    Routes,
    Segments,
    Settings,
    TagRoles,
    Teams,
    Timeframes,
    Windows,
)
from .templates import render
from .yaml_lines import Loc, compose, content_line, duplicate_keys, line_of

ZendeskNames = dict[str, list[Any]]


class PolicyError(Exception):
    """An invalid policy: `file`, 1-based `line` (None when unknown) and what is wrong."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {message}")


class Policy(Part):
    """A validated, frozen policy. Build it with `load_policy`."""

    name: str
    version: str
    description: str | None = None
    calendar: CalendarSpec
    windows: Windows
    timeframes: Timeframes
    payments: Payments
    segments: Segments
    abuse: AbuseSpec
    arbitration: ArbitrationSpec
    queues: dict[str, QueueSpec]
    routes: Routes
    queue_precedence: list[QueueRule]
    settings: Settings
    macros: dict[str, str]
    forms: dict[str, str]
    brands: dict[str, str]
    ticket_fields: dict[str, str]
    field_options: FieldOptions
    service_tags: list[str]
    tag_roles: TagRoles
    merge_guard: MergeGuard
    teams: Teams
    links: Links
    notes: dict[str, str]
    guidance: dict[str, list[str]]
    deadlines: dict[str, DeadlineSpec]

    _templates: dict[tuple[str | int, ...], Template] = PrivateAttr(default_factory=dict)
    _business: BusinessCalendar | None = PrivateAttr(default=None)

    @property
    def business_calendar(self) -> BusinessCalendar:
        if self._business is None:  # only for a Policy built without load_policy
            self._business = BusinessCalendar(
                self.calendar.holiday_country, self.calendar.holiday_subdivision
            )
        return self._business

    def render(self, loc: tuple[str | int, ...], values: dict[str, object]) -> str:
        """Render the compiled template at `loc`, e.g. ("notes", "forwarding")."""
        return render(self._templates[loc], values)

    def guidance_lines(self, key: str, values: dict[str, object]) -> list[str]:
        lines = (self.render(("guidance", key, i), values) for i in range(len(self.guidance[key])))
        return [line for line in lines if line]

    def is_mediation_queue(self, queue: str | None) -> bool:
        spec = self.queues.get(queue) if queue is not None else None
        return spec is not None and spec.mediation

    def is_routable(self, queue: str | None) -> bool:
        spec = self.queues.get(queue) if queue is not None else None
        return spec is not None and spec.routable

    def mediation_groups(self) -> set[str]:
        return {spec.group for spec in self.queues.values() if spec.mediation}

    def path_tag(self, path: str) -> str:
        return f"{self.tag_roles.path_prefix}{path}"

    def owns_tag(self, tag: str) -> bool:
        """True for the tags this service sets and removes by itself."""
        if tag in self.service_tags or tag.startswith(self.tag_roles.path_prefix):
            return True
        return any(spec.tag == tag for spec in self.deadlines.values())

    def zendesk_names(self) -> ZendeskNames:
        """Every Zendesk name the policy relies on, for `check-config`."""
        return {
            "groups": sorted({spec.group for spec in self.queues.values()}),
            "macros": sorted(set(self.macros.values())),
            "forms": sorted(set(self.forms.values())),
            "brands": sorted(set(self.brands.values())),
            "fields": [(title, self._options(key)) for key, title in self.ticket_fields.items()],
        }

    def _options(self, field_key: str) -> list[str]:
        options = self.field_options.model_dump().get(field_key)
        return list(options.values()) if isinstance(options, dict) else []


def default_policy_path() -> Path:
    """The policy shipped with the package."""
    return Path(str(resources.files(__package__).joinpath("default_policy.yaml")))


def load_policy(path: str | Path) -> Policy:
    """Read, validate and compile a policy file; raise PolicyError naming file and line."""
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise PolicyError(file, None, f"cannot read the policy: {error.strerror}") from error
    return parse_policy(data, file)


def parse_policy(data: bytes, file: str = "<policy>") -> Policy:
    """Validate policy bytes; `file` names them in errors."""
    root = _compose(data, file)
    raw = _mapping(data, root, file)
    version = "sha256:" + hashlib.sha256(data).hexdigest()
    try:
        policy = Policy.model_validate({**raw, "version": version})
    except ValidationError as error:
        raise _validation_error(error, root, file) from None
    _raise_problems(policy_checks.references(policy), root, file)
    templates, problems = policy_checks.compile_templates(policy)
    _raise_problems(problems, root, file, templates=True)
    policy._templates = templates
    policy._business = _business_calendar(policy, root, file)
    return policy


def _compose(data: bytes, file: str) -> yaml.Node | None:
    try:
        root = compose(data)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(file, line, f"not valid YAML: {error}") from None
    for line, key in duplicate_keys(root):
        raise PolicyError(file, line, f"duplicate key {key!r}")
    return root


def _mapping(data: bytes, root: yaml.Node | None, file: str) -> dict[str, Any]:
    raw = yaml.safe_load(data)
    if not isinstance(raw, dict):
        raise PolicyError(file, 1, "a policy must be a YAML mapping")
    if "version" in raw:
        line = line_of(root, ("version",))
        raise PolicyError(file, line, "version is computed from the file content; remove it")
    return raw


def _validation_error(error: ValidationError, root: yaml.Node | None, file: str) -> PolicyError:
    problems = [(tuple(item["loc"]), str(item["msg"])) for item in error.errors()]
    return _policy_error(problems, root, file)


def _raise_problems(
    problems: list[policy_checks.Problem],
    root: yaml.Node | None,
    file: str,
    templates: bool = False,
) -> None:
    if not problems:
        return
    if templates:
        located = [(loc, msg, content_line(root, loc, rel)) for loc, msg, rel in problems]
    else:
        located = [(loc, msg, line_of(root, loc)) for loc, msg, _ in problems]
    raise _located_error(located, file)


def _policy_error(
    problems: Sequence[tuple[Loc, str]], root: yaml.Node | None, file: str
) -> PolicyError:
    return _located_error([(loc, msg, line_of(root, loc)) for loc, msg in problems], file)


def _located_error(located: Sequence[tuple[Loc, str, int | None]], file: str) -> PolicyError:
    lines = [f"line {line}: {_dotted(loc)}: {msg}" for loc, msg, line in located]
    first_loc, first_msg, first_line = located[0]
    message = f"{_dotted(first_loc)}: {first_msg}"
    if len(lines) > 1:
        message += "\n" + "\n".join(lines[1:])
    return PolicyError(file, first_line, message)


def _dotted(loc: Loc) -> str:
    return ".".join(str(part) for part in loc if part != "[key]") or "(document)"


def _business_calendar(policy: Policy, root: yaml.Node | None, file: str) -> BusinessCalendar:
    spec = policy.calendar
    try:
        return BusinessCalendar(spec.holiday_country, spec.holiday_subdivision)
    except NotImplementedError as error:
        line = line_of(root, ("calendar", "holiday_country"))
        raise PolicyError(file, line, f"calendar: unknown holiday country: {error}") from None
