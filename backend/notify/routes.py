from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from backend.core.principal import Principal
from backend.notify import service
from backend.notify.push import public_key, vapid_key
from backend.notify.schemas import (
    NoticePage,
    Preferences,
    PushKey,
    ReadIn,
    SubscriptionIn,
    SubscriptionOut,
    Unread,
    Unsubscribe,
)


class PushController(Controller):
    path = "/api/push"
    tags = ["notify"]

    @get("/key", summary="The server's VAPID public key (the app's applicationServerKey)")
    async def key(self, state: State) -> PushKey:
        if "vapid_public" not in state:
            state.vapid_public = public_key(vapid_key(state.settings))
        return PushKey(state.vapid_public)

    @post(
        "/subscriptions",
        summary="Send notifications to this device (what PushManager.subscribe gave)",
        description="A device already subscribed moves to the signed-in person.",
    )
    async def subscribe(
        self, data: JSONBody[SubscriptionIn], principal: NamedDependency[Principal]
    ) -> SubscriptionOut:
        return await service.subscribe(data, principal)

    @get("/subscriptions", summary="The signed-in person's devices")
    async def mine(self, principal: NamedDependency[Principal]) -> list[SubscriptionOut]:
        return await service.subscriptions(principal)

    @delete(
        "/subscriptions",
        summary="Stop notifications to a device of the signed-in person (by its endpoint)",
        status_code=204,
    )
    async def unsubscribe(
        self, data: JSONBody[Unsubscribe], principal: NamedDependency[Principal]
    ) -> None:
        await service.unsubscribe(data.endpoint, principal)


class NoticesController(Controller):
    path = "/api"
    tags = ["notify"]

    @get("/notices", summary="The signed-in person's notices, newest first, and the unread count")
    async def notices(
        self,
        principal: NamedDependency[Principal],
        before: Annotated[
            int | None, QueryParameter(ge=1, le=2**31 - 1, description="older than this id")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 30,
    ) -> NoticePage:
        return await service.notices(principal, before, limit)

    @post("/notices/read", status_code=200, summary="Mark notices read: by id, or all up to one")
    async def read(self, data: JSONBody[ReadIn], principal: NamedDependency[Principal]) -> Unread:
        return await service.read(data, principal)

    @get("/notify/preferences", summary="Kinds turned off and quiet hours")
    async def preferences(self, principal: NamedDependency[Principal]) -> Preferences:
        return await service.preferences(principal)

    @put(
        "/notify/preferences",
        summary="Turn kinds off; quiet hours hold back the kinds that are not urgent",
    )
    async def set_preferences(
        self, data: JSONBody[Preferences], principal: NamedDependency[Principal]
    ) -> Preferences:
        return await service.set_preferences(data, principal)
