"""No production module reaches a private attribute of the libraries the app stands on.

A private name (one underscore) is one a library may change in any release without a word:
the SQLite engine once overrode Piccolo's ``_run_in_new_connection`` and read aiosqlite's
``_conn``, the PostgreSQL one read a transaction's ``_committed``. What counts as a reach, read
from the syntax of every module under backend/ and geo/:

- ``x._name`` (or ``getattr(x, "_name")``, ``setattr``, ``hasattr``, ``delattr``), on anything
  but ``self`` and ``cls``, where ``_name`` is a private name that a class or module of those
  libraries defines;
- ``self._name``, ``cls._name``, or a method or class attribute ``_name``, in a class of ours
  that inherits from a library class defining ``_name``: reading, setting or overriding the
  library's own state;
- importing a private name, or from a private module, of those libraries.

Our own private names are ours to use. Piccolo's table API names one attribute with an
underscore and documents it: ``Table._meta`` (a table's name, columns and engine).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

LIBRARIES = ("piccolo", "litestar", "aiosqlite", "asyncpg", "uvicorn")
DOCUMENTED = frozenset({"_meta"})
REPO = Path(__file__).resolve().parents[2]
PRODUCTION = ("backend", "geo")
ACCESSORS = frozenset({"getattr", "setattr", "hasattr", "delattr"})


def private(name: str) -> bool:
    return len(name) > 1 and name.startswith("_") and not name.endswith("__")


def _library(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in LIBRARIES


def defined(tree: ast.AST) -> set[str]:
    """The private names a module's source defines: functions, classes, methods, what module
    and class bodies assign, what methods set on ``self`` or ``cls``, and ``__slots__``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, (ast.Module, ast.ClassDef)):
            for statement in node.body:
                targets = _assigned(statement)
                names.update(targets)
                value = getattr(statement, "value", None)
                if "__slots__" in targets and value is not None:
                    names.update(
                        c.value
                        for c in ast.walk(value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    )
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
        ):
            names.add(node.attr)
    return {name for name in names if private(name)}


def _assigned(statement: ast.stmt) -> list[str]:
    """The plain names a statement of a module's or a class's body assigns."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    else:
        return []
    return [t.id for t in targets if isinstance(t, ast.Name)]


@functools.cache
def library_privates() -> frozenset[str]:
    """Every private name any of the libraries defines anywhere."""
    names: set[str] = set()
    for library in LIBRARIES:
        root = Path(importlib.import_module(library).__file__ or "").parent
        for path in root.rglob("*.py"):
            names |= defined(ast.parse(path.read_bytes(), str(path)))
    return frozenset(names - DOCUMENTED)


@functools.cache
def class_privates(klass: type) -> frozenset[str]:
    """The private names a library class (with the library classes above it) defines."""
    names: set[str] = set()
    for above in klass.__mro__:
        if not _library(above.__module__):
            continue
        names.update(n for n in vars(above) if private(n))
        try:
            source = textwrap.dedent(inspect.getsource(above))
        except (OSError, TypeError):  # compiled: what it holds is all there is to know
            continue
        names |= defined(ast.parse(source))
    return frozenset(names - DOCUMENTED)


def _classes(
    tree: ast.AST, namespace: dict[str, Any]
) -> Iterator[tuple[ast.ClassDef, type | None]]:
    """Each class statement, with the class it made when the module holds it (at its top, or
    inside another such class); ``None`` for one made inside a function."""

    def visit(node: ast.AST, holder: Any) -> Iterator[tuple[ast.ClassDef, type | None]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                if holder is namespace:
                    made = namespace.get(child.name)
                else:
                    made = getattr(holder, child.name, None) if holder is not None else None
                yield child, made if isinstance(made, type) else None
                yield from visit(child, made)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from visit(child, None)
            else:
                yield from visit(child, holder)

    yield from visit(tree, namespace)


def _bases(node: ast.ClassDef, made: type | None, namespace: dict[str, Any]) -> list[type]:
    if made is not None:
        return list(made.__mro__[1:])
    bases = []
    for base in node.bases:
        try:
            value = eval(compile(ast.Expression(base), "<base>", "eval"), dict(namespace))
        except Exception as exc:
            raise AssertionError(f"cannot tell what class {node.name} inherits from") from exc
        if isinstance(value, type):
            bases.extend(value.__mro__)
    return bases


def reaches(tree: ast.Module, namespace: dict[str, Any]) -> list[str]:
    """Each reach into a library's private names in a module (its syntax, and the names its
    code defined, for telling what its classes inherit), as ``line: what``."""
    found: list[tuple[int, str]] = []
    privates = library_privates()

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in privates:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ACCESSORS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in privates
        ):
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom) and _library(node.module):
            module = node.module or ""
            names = [a.name for a in node.names]
            if any(private(part) for part in module.split(".")) or any(map(private, names)):
                found.append((node.lineno, f"from {module} import {', '.join(names)}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _library(alias.name) and any(map(private, alias.name.split("."))):
                    found.append((node.lineno, f"import {alias.name}"))

    for node, made in _classes(tree, namespace):
        theirs: set[str] = set()
        for base in _bases(node, made, namespace):
            if _library(base.__module__):
                theirs |= class_privates(base)
        if not theirs:
            continue
        for child in _own_body(node):
            if (
                isinstance(child, ast.Attribute)
                and isinstance(child.value, ast.Name)
                and child.value.id in ("self", "cls")
                and child.attr in theirs
            ):
                found.append((child.lineno, f"{ast.unparse(child)} in class {node.name}"))
        for statement in node.body:
            if (
                isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                and statement.name in theirs
            ):
                found.append((statement.lineno, f"{node.name} overrides {statement.name}"))
            for name in _assigned(statement):
                if name in theirs:
                    found.append((statement.lineno, f"{node.name} sets {name}"))
    return [f"{line}: {what}" for line, what in sorted(set(found))]


def _own_body(node: ast.ClassDef) -> Iterator[ast.AST]:
    """The nodes of a class's body, leaving out the classes inside it (checked on their own)."""
    stack: list[ast.AST] = list(node.body)
    while stack:
        child = stack.pop()
        if isinstance(child, ast.ClassDef):
            continue
        yield child
        stack.extend(ast.iter_child_nodes(child))


def production_modules() -> Iterator[tuple[Path, ModuleType]]:
    for folder in PRODUCTION:
        for path in sorted((REPO / folder).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            yield path, importlib.import_module(name.removesuffix(".__init__"))


def test_no_production_module_reaches_a_private_attribute_of_its_libraries():
    offences = []
    for path, module in production_modules():
        tree = ast.parse(path.read_bytes(), str(path))
        for reach in reaches(tree, vars(module)):
            offences.append(f"{path.relative_to(REPO)}:{reach}")
    assert offences == []


OFFENDING = """
import sqlite3

import aiosqlite
from litestar._signature import SignatureModel
from piccolo.engine import SQLiteEngine
from piccolo.engine.sqlite import SQLiteTransaction


class Transaction(SQLiteTransaction):
    _savepoint_id = 0

    async def __aexit__(self, *exc):
        return self._parent is None

    async def commit(self):
        self._committed = True


class Engine(SQLiteEngine):
    async def _run_in_new_connection(self, query, args=None, query_type="", table=None):
        return await super()._run_in_new_connection(query, args)


class Ours:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._conn = connection  # our own attribute, named like aiosqlite's: ours to use

    def db(self) -> sqlite3.Connection:
        connection = self._conn
        connection._thread.daemon = True
        return getattr(connection, "_conn")
"""


def test_the_check_finds_each_kind_of_reach_and_leaves_our_own_names_alone():
    namespace: dict[str, Any] = {"__name__": "offending"}
    exec(compile(OFFENDING, "offending", "exec"), namespace)
    found = reaches(ast.parse(OFFENDING), namespace)
    assert found == [
        "5: from litestar._signature import SignatureModel",
        "11: Transaction sets _savepoint_id",
        "14: self._parent in class Transaction",
        "17: self._committed in class Transaction",
        "21: Engine overrides _run_in_new_connection",
        "22: super()._run_in_new_connection",
        "31: connection._thread",
        "32: getattr(connection, '_conn')",
    ]
