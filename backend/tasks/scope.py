"""The asker's territory for tasks, and which broadcasts and items it lets them see."""

from __future__ import annotations

from typing import Any

from piccolo.custom_types import Combinable

from backend.core.areas import code_within, scope_prefix
from backend.core.errors import Forbidden, NotFound
from backend.core.principal import Principal
from backend.core.roles import Role
from backend.core.territory import Territory
from backend.tasks.rules import sees_area
from backend.tasks.tables import Broadcast, TaskItem


def territory_of(principal: Principal) -> Territory:
    """The asker's territory; residents have none here: tasks are the staff's work."""
    if principal.role == Role.resident:
        raise Forbidden("forbidden", "broadcast tasks are for grid and centre staff")
    return principal.territory


async def visible_broadcast(broadcast_id: int, principal: Principal) -> tuple[dict, Territory]:
    """The broadcast's row and the asker's territory; 404 unless it concerns them."""
    t = territory_of(principal)
    row = await Broadcast.select().where(Broadcast.id == broadcast_id).first()
    if row is None or not (row["created_by"] == principal.id or sees_area(t, row["area_code"])):
        raise NotFound("task", broadcast_id)
    return row, t


def item_scope(t: Territory, broadcast: dict[str, Any], principal: Principal) -> Any | None:
    """The condition on TaskItem that keeps the asker's part of a broadcast; None: all of it.

    The sender, and staff whose area holds the broadcast's, see it whole; staff of an area
    inside it see their area's items; grid staff their grids'.
    """
    area = t.centre_area
    if broadcast["created_by"] == principal.id or (
        area is not None and code_within(broadcast["area_code"], area)
    ):
        return None
    # visible_broadcast let them in: they have grids inside it, or an area inside it.
    condition: Combinable = TaskItem.grid_code.is_in(sorted(t.grid_codes or {""}))
    if area is not None:
        condition = condition | TaskItem.grid_code.like(scope_prefix(area) + "%")
    return condition
