"""What was wrong with a request's values, field by field, from the framework's messages.

Litestar reports msgspec's findings as ``{"message", "key", "source"}``; a client needs a
code it can branch on and the path of the field, such as ``photos[2].name``. A body that is
JSON but misses a field or holds a wrong type or value is 422; query and path parameters that
do not parse keep 400 ``invalid_request``, with the field.
"""

from __future__ import annotations

import re
from typing import Any

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_NAMED = re.compile(r"^Object (?P<kind>missing required|contains unknown) field `(?P<name>[^`]+)`")
_TYPE = re.compile(r"^Expected `[^`]+`, got `[^`]+`")


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def problem(item: dict[str, Any]) -> dict[str, Any]:
    """One finding as ``{"code", "field", "message", "source"}``.

    >>> found = problem({"message": "Object missing required field `version`", "key": "data",
    ...                  "source": "body"})
    >>> found["code"], found["field"]
    ('missing_field', 'version')
    >>> problem({"message": "Expected `int`, got `str` - at `$.items[0].n`", "key": "data",
    ...          "source": "body"})["field"]
    'items[0].n'
    >>> found = problem({"message": "Expected `str` of length >= 5", "key": "phone"})
    >>> found["code"], found["field"], found["source"]
    ('invalid_value', 'phone', 'body')
    """
    message = str(item.get("message", ""))
    key = str(item.get("key") or "")
    source = item.get("source") or "body"
    at = _AT.search(message)
    # "data" is Litestar's name for the body itself, not a field of it.
    path = at["path"].lstrip(".") if at else ("" if key == "data" else key)
    named = _NAMED.match(message)
    if named:
        code = "missing_field" if named["kind"] == "missing required" else "unknown_field"
        path = _join(path, named["name"])
    elif _TYPE.match(message):
        code = "invalid_type"
    else:
        code = "invalid_value"
    if source != "body":
        code = "invalid_request"  # a URL that does not parse: its field says which part
    return {"code": code, "field": path or None, "message": message, "source": source}


def summary(problems: list[dict[str, Any]], fallback: str) -> tuple[str, str | None, str]:
    """The answer's code, field and reason: those of the first problem."""
    if not problems:
        return "invalid_request", None, fallback
    first = problems[0]
    where = f"{first['field']}: " if first["field"] else ""
    return first["code"], first["field"], f"{where}{first['message']}"
