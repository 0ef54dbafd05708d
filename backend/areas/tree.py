"""Building the area tree from flat rows: pure functions, no database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from backend.areas.schemas import AreaRef, TreeNode


def build_tree(
    areas: Iterable[Mapping[str, Any]],
    grids: Iterable[Mapping[str, Any]] = (),
    *,
    root: str | None = None,
    depth: int | None = None,
) -> list[TreeNode]:
    """Nest areas (``code, name, level, parent_code``) and grids (``…, parent_code, kind``).

    Returns the roots (the city, or the area ``root``); ``depth`` cuts the tree below that
    many levels. Children are ordered by code.

    >>> rows = [
    ...     {"code": "150300", "name": "乌海市", "level": "city", "parent_code": None},
    ...     {"code": "150302", "name": "海勃湾区", "level": "district", "parent_code": "150300"},
    ... ]
    >>> build_tree(rows)[0].children[0].name
    '海勃湾区'
    """
    nodes: dict[str, TreeNode] = {}
    children: dict[str | None, list[str]] = defaultdict(list)
    for a in areas:
        nodes[a["code"]] = TreeNode(a["code"], a["name"], a["level"], [])
        children[a["parent_code"]].append(a["code"])
    for g in grids:
        nodes[g["code"]] = TreeNode(g["code"], g["name"], "grid", [], g["kind"])
        children[g["parent_code"]].append(g["code"])

    def attach(code: str, level: int) -> TreeNode:
        node = nodes[code]
        if depth is None or level < depth:
            node.children = [attach(c, level + 1) for c in sorted(children.get(code, []))]
        return node

    if root is not None:
        return [attach(root, 0)] if root in nodes else []
    tops = [c for c in children.get(None, [])] + [
        c for p, cs in children.items() if p is not None and p not in nodes for c in cs
    ]
    return [attach(c, 0) for c in sorted(tops)]


def chain_of(code: str, areas_by_code: Mapping[str, Mapping[str, Any]]) -> list[AreaRef]:
    """The areas above ``code`` from the top down, the area itself excluded."""
    chain: list[AreaRef] = []
    parent = areas_by_code[code]["parent_code"] if code in areas_by_code else None
    while parent is not None and parent in areas_by_code:
        a = areas_by_code[parent]
        chain.append(AreaRef(a["code"], a["name"], a["level"]))
        parent = a["parent_code"]
    return chain[::-1]
