"""Map a location in a YAML document (a pydantic `loc`) back to its line number."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import yaml

Loc = Sequence[str | int]


def compose(data: bytes) -> yaml.Node | None:
    return yaml.compose(data, Loader=yaml.SafeLoader)


def node_at(root: yaml.Node | None, loc: Loc) -> yaml.Node | None:
    """The deepest node on `loc` that exists ('[key]' in a loc means the key itself)."""
    node = root
    parts = list(loc)
    for index, part in enumerate(parts):
        want_key = index + 1 < len(parts) and parts[index + 1] == "[key]"
        child = _child(node, part, want_key) if node is not None else None
        if child is None:
            break
        node = child
    return node


def line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    """1-based line of the deepest node on `loc`, or None without a document."""
    node = node_at(root, loc)
    return None if node is None else node.start_mark.line + 1


def content_line(root: yaml.Node | None, loc: Loc, relative: int | None) -> int | None:
    """The line of line `relative` (1-based) inside the scalar at `loc`."""
    node = node_at(root, loc)
    if node is None:
        return None
    first = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        first += 1  # block scalars start on the line after the indicator
    return first + (relative or 1) - 1


def duplicate_keys(root: yaml.Node | None) -> Iterator[tuple[int, str]]:
    """(line, key) of every key repeated inside one mapping (PyYAML keeps the last silently)."""
    if isinstance(root, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    yield key.start_mark.line + 1, key.value
                seen.add(key.value)
            yield from duplicate_keys(value)
    elif isinstance(root, yaml.SequenceNode):
        for item in root.value:
            yield from duplicate_keys(item)


def _child(node: yaml.Node, part: str | int, want_key: bool) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return key if want_key else value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            item: yaml.Node = node.value[part]
            return item
    return None
