"""Loading a policy: read, validate with file and line, compile its templates.

`policy.py` is the validated model; `policy_checks.py` the cross-field checks;
this module runs them in order and turns every problem into a `PolicyError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from . import policy_checks
from .calendar import BusinessCalendar
from .policy import Policy, PolicyError
from .yaml_lines import Loc, compose, content_line, duplicate_keys, line_of


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
