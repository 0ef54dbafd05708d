"""A real city from nothing (``wangge init``): its area row and its first city admin, who
signs in with a one-time password and adds everyone else (imports, the people screens).

The city's row has no outline yet (an empty polygon): the areas import gives it one, with
the districts, streets and communities under it.
"""

from __future__ import annotations

from typing import Any

import shapely
from anyio import to_thread

from backend.areas.tables import Area
from backend.auth.service import hash_password
from backend.core.areas import Level, level_of_code
from backend.core.db import write_transaction
from backend.core.events import EventType
from backend.core.roles import Role
from backend.events.service import NewEvent, append
from backend.people.checks import MOBILE
from backend.people.importer import new_password
from backend.people.tables import Person

# An empty polygon, and a box that holds no point: the areas import gives the real ones.
_NO_OUTLINE: dict[str, Any] = {
    "geom": shapely.to_geojson(shapely.Polygon()),
    "min_lon": 0.0,
    "min_lat": 0.0,
    "max_lon": 0.0,
    "max_lat": 0.0,
}


class NotEmpty(Exception):
    """The database has people already: a city is founded once."""


def check_founding(city_code: str, admin_phone: str, admin_name: str) -> None:
    """ValueError for a code that is no city's, a phone that is no mainland mobile, no name."""
    try:
        level = level_of_code(city_code)
    except ValueError:
        level = None
    if level is not Level.city:
        raise ValueError(f"{city_code!r} is not a city's code (6 digits ending in 00: 150300)")
    if not MOBILE.fullmatch(admin_phone):
        raise ValueError(f"{admin_phone!r} is not an 11-digit mainland mobile number")
    if not admin_name.strip() or len(admin_name) > 64:
        raise ValueError("the admin's name must have 1 to 64 characters")


async def found_city(city_code: str, city_name: str, admin_phone: str, admin_name: str) -> str:
    """The city's area row (kept if there is one) and its first city admin; their one-time
    password. :class:`NotEmpty` if the database has any person."""
    check_founding(city_code, admin_phone, admin_name)
    password = new_password()
    hashed = await to_thread.run_sync(hash_password, password)
    async with write_transaction(Person._meta.db):
        if await Person.count() > 0:
            raise NotEmpty("this database has people already: wangge init makes a new city only")
        area = await Area.select(Area.id).where(Area.code == city_code).first()
        if area is None:
            row = Area(code=city_code, name=city_name, level=Level.city, parent=None, **_NO_OUTLINE)
            await row.save()
            area_id = row.id
        else:
            area_id = area["id"]
        admin = Person(
            name=admin_name.strip(),
            phone=admin_phone,
            role=Role.city_admin,
            area=area_id,
            password_hash=hashed,
            active=True,
            must_change_password=True,
        )
        await admin.save()
        payload = {"person": admin.id, "name": admin.name, "role": Role.city_admin}
        event = NewEvent(
            EventType.person_created, f"person:{admin.id}", city_code, payload | {"area": city_code}
        )
        await append([event])
    return password
