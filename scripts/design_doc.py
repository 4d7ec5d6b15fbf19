"""Write docs/design.md from the code: the packages (their docstrings), the facts and the
decision schemas (the pydantic models) and one example per routing path (decided by the
real `decide` on the examples of scripts/design_examples.json under the default policy).

    .venv/bin/python scripts/design_doc.py           # rewrite docs/design.md
    .venv/bin/python scripts/design_doc.py --check   # exit 1 when docs/design.md is stale

tests/unit/project/test_design_doc.py fails when the committed file is stale.
"""

from __future__ import annotations

import ast
import datetime as dt
import enum
import json
import sys
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.routing import Decision, TicketFacts, decide, default_policy_path, load_policy  # noqa: E402
from app.routing.outcome import Path as RoutingPath  # noqa: E402

DOC = ROOT / "docs" / "design.md"
EXAMPLES = ROOT / "scripts" / "design_examples.json"
SCALARS = {
    str: "string",
    int: "integer",
    bool: "boolean",
    Decimal: 'decimal (`"250.00"`)',
    dt.date: "date (`YYYY-MM-DD`)",
    dt.datetime: "date-time (ISO 8601, UTC)",
}

FLOW = """\
## Flow

```
Zendesk ──POST /webhooks/zendesk──▶ webhooks   verify the signature, parse, store (dedupe key)
                                     │          and answer 200 only once it is committed
                                     ▼
                                   store      inbox: leases, retries, dead letters, decision log
                                     ▼
                                   worker     claim → facts (the ticket from Zendesk + the
                                     │          marketplace directory) → decide(facts, policy,
                                     │          today) → one ticket update (or none) → Zendesk
                                     ▼
                                   Zendesk    group, status, form, fields, tags, internal note
```

`decide` (app/routing) is pure: the same facts, policy and day give the same decision,
with the trace of every rule it applied. Everything else is the shell around it: intake,
storage, the clients of Zendesk and of the directory, retries, the admin API.
"""


def _packages() -> str:
    lines = ["## Packages", "", "| package | what it owns |", "|---|---|"]
    for init in sorted((ROOT / "app").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        summary = " ".join(doc.split("\n\n")[0].split())
        lines.append(f"| `app/{init.parent.name}/` | {summary} |")
    return "\n".join(lines) + "\n"


def _type(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = [_type(a) for a in args if a is not type(None)]
        return " or ".join(kinds + (["null"] if type(None) in args else []))
    if origin is list:
        return f"list of {_type(args[0])}"
    if origin is dict:
        return f"object: {_type(args[0])} → {_type(args[1])}"
    if origin is typing.Literal:
        return " or ".join(f'`"{a}"`' for a in args)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return SCALARS.get(annotation, str(annotation))


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """`root` and every model reachable from its fields, in order of first mention."""
    found, queue = [root], [root]
    while queue:
        for field in queue.pop(0).model_fields.values():
            for inner in _inner_models(field.annotation):
                if inner not in found:
                    found.append(inner)
                    queue.append(inner)
    return found


def _inner_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _inner_models(arg)]


def _schema(title: str, intro: str, root: type[BaseModel]) -> str:
    parts = [f"## {title}", "", intro, ""]
    for model in _models(root):
        parts += [f"### {model.__name__}", ""]
        if model.__doc__ and model.__doc__ != BaseModel.__doc__:
            parts += [" ".join(model.__doc__.split()), ""]
        parts += ["| key | type | required |", "|---|---|---|"]
        for name, field in model.model_fields.items():
            required = "yes" if field.is_required() else ""
            parts.append(f"| `{name}` | {_type(field.annotation)} | {required} |")
        parts.append("")
    return "\n".join(parts)


def _decided(example: dict[str, Any]) -> Decision:
    policy = load_policy(default_policy_path())
    facts = TicketFacts.model_validate(example["facts"])
    return decide(facts, policy, dt.date.fromisoformat(example["today"]))


def _summary(decision: Decision) -> str:
    shown = {
        "queue": decision.queue,
        "status": decision.status,
        "macro": decision.macro,
        "eligibility": decision.eligibility.code,
        "missing": ", ".join(decision.missing) or None,
        "merge": decision.merge,
    }
    return "; ".join(f"{k} `{v}`" for k, v in shown.items() if v is not None)


def _paths(examples: dict[str, dict[str, Any]]) -> str:
    parts = [
        "## Routing paths, one example each",
        "",
        "Every `Decision.path` (also tagged `triage_path_<path>` on the ticket), with facts",
        "that lead there, as on the day given, under the default policy",
        "(app/routing/default_policy.yaml). docs/playbook.md has the rules and their quotes.",
        "",
    ]
    for path in RoutingPath:
        example = examples[path.value]
        decision = _decided(example)
        if decision.path != path.value:
            raise SystemExit(f"the example of {path.value} decides {decision.path}: fix it")
        facts = json.dumps(example["facts"])
        parts += [f"### `{path.value}`", "", f"On {example['today']}: `{facts}`", ""]
        parts += [f"→ {_summary(decision)}", ""]
    return "\n".join(parts)


def _full_example(examples: dict[str, dict[str, Any]]) -> str:
    decision = _decided(examples[RoutingPath.MEDIATION_ESCALATION.value])
    dumped = decision.model_dump(mode="json")
    dumped["policy"]["version"] = "sha256:<hex of the policy file>"
    return "\n".join(
        [
            "## A whole decision",
            "",
            "The decision of the `mediation_escalation` example above, as stored and as",
            "`simulate` prints it:",
            "",
            "```json",
            json.dumps(dumped, indent=2, ensure_ascii=False),
            "```",
            "",
        ]
    )


UNKNOWN = """\
## Unknown keys

Keys the models do not know are ignored, never guessed at, and never in silence: the
decision gets one more trace step (`"step": "facts", "outcome": "unknown_keys"`) naming
each key and, when one is close, the key that was meant (`"contracts"` → `"contract"`).
`simulate` prints it on stderr too; `POST /admin/simulate` adds `"warnings"` (its own
keys count: `"today"` where `"now"` is meant).
"""


def render() -> str:
    examples = json.loads(EXAMPLES.read_text())
    facts_intro = (
        "The input of `decide`: what the worker gathers from the Zendesk ticket and the "
        "marketplace directory, or what `simulate` is given. Only `ticket.id` is required; "
        "an absent fact is asked for, never guessed. Enumerations accept any case and "
        "separator style (`Fixed-Price` is `fixed_price`)."
    )
    decision_intro = (
        "The output of `decide`, stored with its facts and the policy version, returned by "
        "`simulate` and the admin API. `queue`, `macro`, `form` and the `fields` keys are "
        "names of the policy; the worker turns them into Zendesk ids."
    )
    return "\n".join(
        [
            "<!-- Generated by scripts/design_doc.py from the code; do not edit by hand. -->",
            "# Design",
            "",
            FLOW,
            _packages(),
            _schema("Ticket facts", facts_intro, TicketFacts),
            _schema("Decision", decision_intro, Decision),
            _paths(examples),
            _full_example(examples),
            UNKNOWN,
        ]
    )


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        stale = not DOC.exists() or DOC.read_text() != text
        if stale:
            sys.stderr.write("docs/design.md is stale: run python scripts/design_doc.py\n")
        return int(stale)
    DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
