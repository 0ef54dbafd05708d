from typing import Annotated

import msgspec

from backend.areas.schemas import AreaRef
from backend.party.schemas import GradeRef


class PostHeld(msgspec.Struct):
    grid_code: str
    grid_name: str
    post: str
    post_label: str


class Me(msgspec.Struct):
    id: int
    name: str
    phone: str
    role: str
    role_label: str
    area: AreaRef | None
    posts: list[PostHeld]
    grade: GradeRef | None = None  # 三岗十八级, for a community worker who has one


# ---------------------------------------------------------------------------------------------
# People as their centres manage them (backend/people/routes.py)

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# An 11-digit mainland mobile, as the roster stores phones (backend/people/checks.py).
Mobile = Annotated[str, msgspec.Meta(pattern=r"^1[3-9][0-9]{9}$")]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class PersonOut(msgspec.Struct):
    id: int
    name: str
    phone: str  # a resident's masked (138****5678): their centre need not call them from here
    role: str
    role_label: str
    area: AreaRef | None
    active: bool
    must_change_password: bool  # given a one-time password not yet changed
    department: str | None  # the department's code, for department staff
    posts: list[PostHeld]


class PeoplePage(msgspec.Struct):
    items: list[PersonOut]
    total: int  # every person the filters match, of whom ``items`` is one page
    limit: int
    offset: int


class NewPerson(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    phone: Mobile
    role: str
    area: Code | None = None  # the code of the area they work for (a grid role's community)
    department: Code | None = None  # department staff's department code


class PersonChange(msgspec.Struct, forbid_unknown_fields=True):
    """What to change; a field left out stays. ``department`` null takes the person out."""

    name: Name | msgspec.UnsetType = msgspec.UNSET
    phone: Mobile | msgspec.UnsetType = msgspec.UNSET
    role: str | msgspec.UnsetType = msgspec.UNSET
    area: Code | msgspec.UnsetType = msgspec.UNSET
    department: Code | msgspec.UnsetType | None = msgspec.UNSET


class OneTimePassword(msgspec.Struct):
    """A password the server chose, shown this once: its holder must change it at sign-in."""

    person: PersonOut
    password: str


class PostHolderIn(msgspec.Struct, forbid_unknown_fields=True):
    person: int
