"""People as their centres manage them, and who holds a grid's posts: thin handlers over
backend/people/admin.py and backend/people/posts.py; who may is backend/people/access.py's."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from backend.core.principal import Principal
from backend.grids.schemas import GridPage
from backend.people import admin, posts
from backend.people.schemas import (
    NewPerson,
    OneTimePassword,
    PeoplePage,
    PersonChange,
    PersonOut,
    PostHolderIn,
)

Id = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
Text = Annotated[str | None, QueryParameter(max_length=64, description="part of name or phone")]
AreaCode = Annotated[
    str | None, QueryParameter(max_length=16, description="people of this area; yours by default")
]
Role = Annotated[str | None, QueryParameter(max_length=32, description="one role")]
Post = Annotated[str | None, QueryParameter(max_length=32, description="holders of this post")]
Active = Annotated[bool | None, QueryParameter(description="only active or inactive people")]
Limit = Annotated[int, QueryParameter(ge=1, le=admin.MAX_PAGE, description="people per page")]
Offset = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="people to skip")]
Holder = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1, description="this holder only")]

WHO = (
    "For community staff, street staff, district and city admins: the people of their area "
    "whose role stands no higher than their own. "
)


class PeopleController(Controller):
    path = "/api/people"
    tags = ["people"]

    @get("/", summary="Find people: by name or phone, area, role, post, active; by name")
    async def find(
        self,
        principal: NamedDependency[Principal],
        q: Text = None,
        area: AreaCode = None,
        role: Role = None,
        post: Post = None,
        active: Active = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PeoplePage:
        return await admin.find(
            principal,
            q=q,
            area=area,
            role=role,
            post=post,
            active=active,
            limit=limit,
            offset=offset,
        )

    @get("/{person_id:int}", summary="One person", description=WHO + "404 for anyone else.")
    async def read(
        self, person_id: FromPath[Id], principal: NamedDependency[Principal]
    ) -> PersonOut:
        return await admin.read(principal, person_id)

    @post(
        "/",
        summary="Add a member of staff; their one-time password is in this answer only",
        description=WHO + "403 `role_above_own` or `outside_area` for what one may not give.",
    )
    async def create(
        self, data: JSONBody[NewPerson], principal: NamedDependency[Principal]
    ) -> OneTimePassword:
        return await admin.create(principal, data)

    @patch("/{person_id:int}", summary="Change name, phone, role, area or department")
    async def update(
        self,
        person_id: FromPath[Id],
        data: JSONBody[PersonChange],
        principal: NamedDependency[Principal],
    ) -> PersonOut:
        return await admin.update(principal, person_id, data)

    @post(
        "/{person_id:int}/deactivate",
        status_code=200,
        summary="Take off duty: every token void at once, posts vacant in staffing",
    )
    async def deactivate(
        self, person_id: FromPath[Id], principal: NamedDependency[Principal]
    ) -> PersonOut:
        return await admin.set_active(principal, person_id, False)

    @post("/{person_id:int}/reactivate", status_code=200, summary="Back on duty")
    async def reactivate(
        self, person_id: FromPath[Id], principal: NamedDependency[Principal]
    ) -> PersonOut:
        return await admin.set_active(principal, person_id, True)

    @post(
        "/{person_id:int}/password-reset",
        status_code=200,
        summary="A new one-time password, in this answer only; the person's tokens are void",
    )
    async def reset_password(
        self, person_id: FromPath[Id], principal: NamedDependency[Principal]
    ) -> OneTimePassword:
        return await admin.reset_password(principal, person_id)


class GridPostsController(Controller):
    path = "/api/grids"
    tags = ["grids"]

    @put(
        "/{code:str}/posts/{post:str}",
        summary="Put a person on a grid post (leader, police, fulltime one each; parttime many)",
        description=WHO + "Answers the grid's page.",
    )
    async def assign(
        self,
        code: FromPath[str],
        post: FromPath[str],
        data: JSONBody[PostHolderIn],
        principal: NamedDependency[Principal],
    ) -> GridPage:
        return await posts.assign(principal, code, post, data.person)

    @delete(
        "/{code:str}/posts/{post:str}",
        status_code=200,
        summary="Vacate a grid post (of one holder with ?person=, else of all)",
    )
    async def vacate(
        self,
        code: FromPath[str],
        post: FromPath[str],
        principal: NamedDependency[Principal],
        person: Holder = None,
    ) -> GridPage:
        return await posts.vacate(principal, code, post, person)
