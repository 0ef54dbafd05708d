"""Anonymous requests over HTTP: submit without signing in, then follow with the tracking code.

Rate-limited per client address (each process counts its own): creating is cheap to abuse,
and guessing codes must stay slow. The limits leave room for the many phones that a mobile
carrier's NAT puts behind one address.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, PathParameter

from backend.cases import anonymous
from backend.cases.anonymous import AnonymousCaseIn, Tracked, TrackedCase, TrackedTransitionIn
from backend.core.ratelimit import Rule, per_address

CREATE_LIMIT = Rule("anonymous_create", "20/minute", "anonymous requests from this address")
TRACKING_LIMIT = Rule("anonymous_tracking", "60/minute", "tracking-code look-ups from this address")

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
        before_request=per_address(CREATE_LIMIT),
    )
    async def create(self, data: JSONBody[AnonymousCaseIn], state: State) -> Response[Tracked]:
        tracked, created = await anonymous.create(data, state.grid_index, state.settings.secret_key)
        return Response(tracked, status_code=201 if created else 200)

    @get(
        "/{code:str}",
        summary="The case a tracking code opens: status and public timeline",
        before_request=per_address(TRACKING_LIMIT),
    )
    async def read(self, code: Code, state: State) -> TrackedCase:
        return await anonymous.read(code, state.settings.secret_key)

    @post(
        "/{code:str}/transitions",
        status_code=200,
        summary="Withdraw, rate (1–5) or reopen the case a tracking code opens",
        before_request=per_address(TRACKING_LIMIT),
    )
    async def act(
        self, code: Code, data: JSONBody[TrackedTransitionIn], state: State
    ) -> TrackedCase:
        return await anonymous.act(code, data, state.settings.secret_key)
