"""Who is asking: the signed-in person behind a request with the territory they cover, and the
guard of actions that a role alone allows.

backend/auth/principal.py reads the principal from the bearer token and the database, once per
request (and keeps it a few seconds); every feature takes it as the ``principal`` dependency
and asks its territory, never the database, what the person covers.
"""

from __future__ import annotations

import msgspec

from backend.core.errors import Forbidden
from backend.core.territory import Territory


class Principal(msgspec.Struct, frozen=True):
    id: int
    name: str
    phone: str
    territory: Territory
    # Signed in with a password someone else chose: only changing it is open to them.
    must_change_password: bool = False

    @property
    def role(self) -> str:
        return self.territory.role


def require_role(principal: Principal, *roles: str) -> None:
    """403 unless the signed-in person has one of ``roles``."""
    if principal.role not in roles:
        raise Forbidden("forbidden", f"role {principal.role} may not do this", allowed=list(roles))
