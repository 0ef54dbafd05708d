from typing import Annotated

import msgspec

Phone = Annotated[str, msgspec.Meta(min_length=5, max_length=20, pattern=r"^\+?[0-9-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone
    password: Password


class AreaRef(msgspec.Struct):
    code: str
    name: str
    level: str


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


class SignedIn(msgspec.Struct):
    token: str
    token_type: str
    expires_at: int
    person: Me
