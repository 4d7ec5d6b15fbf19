"""The template sandbox with a hard budget: no policy template can run away.

Jinja's sandbox stops a template from reaching Python internals, not from
working forever: two nested `range(100000)` loops are 10^10 iterations, and a
thread running them cannot be cancelled. Here every render of a policy
template (at load with the samples, in `decide`, in simulate and the policy
diff) runs under `Budget`:

- loop iterations and calls (macros, methods, filters) together at most
  `MAX_STEPS`, and `MAX_SECONDS` of the rendering thread's CPU time (not wall
  time: a busy machine does not make a good template fail), checked at every step;
- every value an operator, filter, method or `~` builds at most `MAX_VALUE`
  characters (items), refused *before* it is built where its size is known
  (`*`, `**`, widths and repeat counts, `%` and `format` widths);
- `range()` at most `MAX_RANGE` items; the output at most `MAX_OUTPUT` characters;
- the immutable sandbox: no `list.append` or `dict.update` to grow values in a loop.

Exceeding any of these raises `BudgetExceeded` (a Jinja `SecurityError`) naming
the limit; the loader turns it into a policy error naming the template.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from jinja2 import StrictUndefined, Template, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_STEPS = 10_000  # loop iterations + calls in one render
MAX_SECONDS = 1.0  # one render, CPU time of its thread
MAX_VALUE = 20_000  # characters of any string built, items of any sequence
MAX_OUTPUT = 20_000  # characters of the rendered text
MAX_RANGE = 1_000  # items of one range()
MAX_POWER_BITS = 4_096  # size of an integer `**` may build

LOOP_GUARD = "__triage_loop_guard"
VALUE_GUARD = "__triage_value_guard"
_WIDTH = re.compile(r"\d+")


class BudgetExceeded(SecurityError):
    """A template render went past one of the limits above."""


@dataclass
class Budget:
    steps: int = 0
    deadline: float = field(default_factory=lambda: time.thread_time() + MAX_SECONDS)

    def spend(self, steps: int = 1) -> None:
        self.steps += steps
        if self.steps > MAX_STEPS:
            raise BudgetExceeded(f"more than {MAX_STEPS} loop iterations and calls in one render")
        if time.thread_time() > self.deadline:
            raise BudgetExceeded(f"rendering took more than {MAX_SECONDS:g} s of CPU")


_BUDGET: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


def _spend(steps: int = 1) -> None:
    budget = _BUDGET.get()
    if budget is None:  # rendered outside `bounded_render`: still bounded, per call
        budget = Budget()
        _BUDGET.set(budget)
    budget.spend(steps)


def _sized(value: object) -> object:
    if isinstance(value, Sized) and not isinstance(value, range) and len(value) > MAX_VALUE:
        raise BudgetExceeded(f"a value of more than {MAX_VALUE} characters or items")
    return value


def _no_big_numbers(args: Iterable[object]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_VALUE:
            raise BudgetExceeded(f"a width or count above {MAX_VALUE}")


def _no_big_widths(text: object) -> None:
    if isinstance(text, str) and any(int(w) > MAX_VALUE for w in _WIDTH.findall(text[:2000])):
        raise BudgetExceeded(f"a format width or precision above {MAX_VALUE}")
    if isinstance(text, str) and "*" in text and "%" in text:
        raise BudgetExceeded("a `*` width in a format string")


def _loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend()
        yield item


def _bounded_range(*args: int) -> range:
    made = range(*args)
    if len(made) > MAX_RANGE:
        raise BudgetExceeded(f"range() of more than {MAX_RANGE} items")
    return made


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                if len(seq) * times > MAX_VALUE:
                    raise BudgetExceeded(f"a value of more than {MAX_VALUE} characters or items")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int):
        if right > 0 and abs(left) > 1 and abs(left).bit_length() * right > MAX_POWER_BITS:
            raise BudgetExceeded(f"a power of more than {MAX_POWER_BITS} bits")
    elif operator == "%":
        _no_big_widths(left)


class GuardedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox that counts every call and checks every value built."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        _check_binop(operator, left, right)
        return _sized(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        _no_big_numbers([*args, *kwargs.values()])
        name, owner = _method_of(__obj)
        if name in ("format", "format_map"):
            _no_big_widths(owner)
        if name == "replace" and isinstance(owner, str):
            _check_replace(owner, args)
        return _sized(super().call(__context, __obj, *args, **kwargs))


def _method_of(obj: Any) -> tuple[str | None, Any]:
    """(name, the object it is bound to) of a method, also of the sandbox's
    wrapper around `str.format`."""
    owner = getattr(obj, "__self__", None)
    if owner is None:
        owner = getattr(getattr(obj, "__wrapped__", None), "__self__", None)
    return getattr(obj, "__name__", None), owner


def _check_replace(text: str, args: tuple[Any, ...]) -> None:
    if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        grows = (len(args[1]) - len(args[0])) * (text.count(args[0]) if args[0] else len(text))
        if len(text) + grows > MAX_VALUE:
            raise BudgetExceeded(f"a value of more than {MAX_VALUE} characters or items")


def _guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _spend()
        _no_big_numbers([*args[1:], *kwargs.values()])
        if name == "format":
            _no_big_widths(next((a for a in args if isinstance(a, str)), None))
        if name == "replace":
            texts = [a for a in args if isinstance(a, str)]
            if len(texts) >= 3:
                _check_replace(texts[0], (texts[1], texts[2]))
        return _sized(function(*args, **kwargs))

    return guarded


def _environment() -> GuardedEnvironment:
    env = GuardedEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    env.filters = {name: _guard_filter(name, f) for name, f in env.filters.items()}
    env.globals = {
        "range": _bounded_range,
        "dict": env.globals["dict"],
        "lipsum": env.globals["lipsum"],
        "cycler": env.globals["cycler"],
        "joiner": env.globals["joiner"],
        LOOP_GUARD: _loop_guard,
        VALUE_GUARD: _sized,
    }
    return env


ENV = _environment()


def guard(template: nodes.Template) -> nodes.Template:
    """Wrap every loop's iterable in the step counter and every `~` in the size check."""
    for loop in list(template.find_all(nodes.For)):
        loop.iter = nodes.Call(nodes.Name(LOOP_GUARD, "load"), [loop.iter], [], None, None)
    for parent in [template, *template.find_all(nodes.Node)]:
        for name, child in parent.iter_fields():
            if isinstance(child, nodes.Concat):
                setattr(parent, name, _value_guarded(child))
            elif isinstance(child, list):
                setattr(
                    parent,
                    name,
                    [_value_guarded(c) if isinstance(c, nodes.Concat) else c for c in child],
                )
    return template


def _value_guarded(node: nodes.Expr) -> nodes.Expr:
    return nodes.Call(nodes.Name(VALUE_GUARD, "load"), [node], [], None, None)


def bounded_render(template: Template, values: Mapping[str, object]) -> str:
    """Render under a fresh budget; the output is cut off at `MAX_OUTPUT`."""
    token = _BUDGET.set(Budget())
    try:
        parts: list[str] = []
        size = 0
        for part in template.generate(dict(values)):
            size += len(part)
            if size > MAX_OUTPUT:
                raise BudgetExceeded(f"output of more than {MAX_OUTPUT} characters")
            parts.append(part)
        return "".join(parts)
    except RecursionError:
        raise BudgetExceeded("macros or loops nested too deeply") from None
    finally:
        _BUDGET.reset(token)
