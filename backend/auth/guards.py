"""Who may do what, for actions guarded by role alone."""

from backend.auth.principal import Principal
from backend.errors import ApiError


def require_role(principal: Principal, *roles: str) -> None:
    """403 unless the signed-in person has one of ``roles``."""
    if principal.role not in roles:
        raise ApiError(
            403, "forbidden", f"role {principal.role} may not do this", allowed=list(roles)
        )
