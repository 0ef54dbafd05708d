"""Who asks, for where: the area a staff member or admin works for, and checks against it."""

from __future__ import annotations

from collections.abc import Collection

from backend.core.areas import code_within, scope_prefix
from backend.core.errors import Forbidden, Invalid
from backend.core.principal import Principal, require_role


def staff_area(principal: Principal, roles: Collection[str]) -> str:
    """The area the asker works for; 403 unless their role is one of ``roles`` and they have
    an area."""
    require_role(principal, *roles)
    code = principal.territory.area_code
    if code is None:
        raise Forbidden("no_area", "your account is not attached to an area")
    return code


def require_within(code: str, area_code: str) -> None:
    """403 unless ``code`` (an area or grid) lies in the asker's area."""
    if not code_within(code, area_code):
        raise Forbidden("outside_area", f"{code} is outside your area {area_code}", area=area_code)


def prefix_of(code: str) -> str:
    """The prefix of every code inside area ``code`` (a city's is its first 4 digits); 422
    when ``code`` is not an area or grid code."""
    try:
        return scope_prefix(code)
    except ValueError:
        raise Invalid("invalid_code", f"{code!r} is not an area or grid code") from None
