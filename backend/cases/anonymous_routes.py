"""Anonymous requests over HTTP: submit without signing in, then follow with the tracking code.

Rate-limited per client address (each process counts its own): creating is cheap to abuse,
and guessing codes must stay slow. The limits leave room for the many phones that a mobile
carrier's NAT puts behind one address.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import JSONBody, PathParameter

from backend.cases import anonymous
from backend.cases.anonymous import AnonymousCaseIn, Tracked, TrackedCase, TrackedTransitionIn

CREATE_LIMIT = RateLimitConfig(
    rate_limit=("minute", 20), store="anonymous_create", set_rate_limit_headers=True
)
TRACKING_LIMIT = RateLimitConfig(
    rate_limit=("minute", 60), store="anonymous_tracking", set_rate_limit_headers=True
)

Code = Annotated[str, PathParameter(max_length=32, description="the tracking code, ABCDE-FGHJK")]


class AnonymousCasesController(Controller):
    path = "/api/anonymous/cases"
    tags = ["cases"]

    @post(
        "/",
        summary="Submit a request (诉求) without signing in; the answer holds its tracking code",
        description=(
            "201 with `tracking_code` and the case; 200 with the same code when this "
            "client_id was already received. At most 20 a minute from one address."
        ),
        middleware=[CREATE_LIMIT.middleware],
    )
    async def create(self, data: JSONBody[AnonymousCaseIn], state: State) -> Response[Tracked]:
        tracked, created = await anonymous.create(data, state.grid_index, state.settings.secret_key)
        return Response(tracked, status_code=201 if created else 200)

    @get(
        "/{code:str}",
        summary="The case a tracking code opens: status and public timeline",
        middleware=[TRACKING_LIMIT.middleware],
    )
    async def read(self, code: Code, state: State) -> TrackedCase:
        return await anonymous.read(code, state.settings.secret_key)

    @post(
        "/{code:str}/transitions",
        status_code=200,
        summary="Withdraw, rate (1–5) or reopen the case a tracking code opens",
        middleware=[TRACKING_LIMIT.middleware],
    )
    async def act(
        self, code: Code, data: JSONBody[TrackedTransitionIn], state: State
    ) -> TrackedCase:
        return await anonymous.act(code, data, state.settings.secret_key)
