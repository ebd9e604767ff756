"""YAML files read so that every error names file, line and field (benchmark specs, agent systems).

PyYAML's ``safe_load`` gives back plain data without positions, so the document is composed into
nodes (which carry their line), the line of every mapping key and list element is recorded, and
the data is constructed from those nodes: a validation error on ``stages[3].prompt`` can then say
``my-system.yaml:41``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from medevals.errors import DataError

Lines = dict[tuple[str, ...], int]
"""(key, key, "3", key ...) -> 1-based line; list positions are their index as a string."""


#: libyaml's safe loader when PyYAML was built with it (an order of magnitude faster), else PyYAML's.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader12(_Loader):
    """The same loader with YAML 1.2 booleans: only true/false (yes/no/on/off stay text)."""


_Loader12.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:bool"] for k, v in _Loader.yaml_implicit_resolvers.items()
}
_Loader12.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml_with_lines(
    path: Path, what: str = "spec", *, yaml12_booleans: bool = False
) -> tuple[Any, Lines]:
    """(data, lines) of a UTF-8 YAML file; a folder, bad bytes or bad YAML is one ``DataError``.

    ``yaml12_booleans``: read only true/false as booleans (a benchmark spec's ``[yes, no, maybe]``
    options are text), as YAML 1.2 does; otherwise PyYAML's YAML 1.1 rules."""
    if path.is_dir():
        raise DataError(f"is a folder; expected a {what} (.yaml file)", path=path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(
            f"not valid UTF-8 (byte {e.start}); a {what} is UTF-8 text", path=path, line=line
        ) from None
    loader = (_Loader12 if yaml12_booleans else _Loader)(text)
    try:
        # One parse: the node tree gives the lines, and the data is constructed from the same tree.
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise DataError(
            f"invalid YAML: {getattr(e, 'problem', e)}", path=path, line=(mark.line + 1) if mark else None
        ) from None
    finally:
        loader.dispose()
    lines: Lines = {}

    def walk(n: Any, prefix: tuple[str, ...]) -> None:
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = (*prefix, str(k.value))
                lines[key] = k.start_mark.line + 1
                walk(v, key)
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                key = (*prefix, str(i))
                lines[key] = v.start_mark.line + 1
                walk(v, key)

    walk(node, ())
    return data, lines


def line_of(lines: Lines, loc: tuple[str, ...]) -> int | None:
    """The line of ``loc``, or of its nearest enclosing key that has one."""
    for i in range(len(loc), 0, -1):
        if loc[:i] in lines:
            return lines[loc[:i]]
    return None
