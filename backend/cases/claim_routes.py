"""``POST /api/cases/claim``: anonymous requests into the signed-in resident's own cases."""

from __future__ import annotations

from litestar import Controller, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody

from backend.cases import claims
from backend.cases.claims import Claimed, ClaimIn
from backend.core.openapi_errors import ANSWERS
from backend.core.principal import Principal
from backend.core.ratelimit import Rule, per_address

# Per client address, as tracking-code look-ups are: each request may hold 10 codes.
CLAIM_LIMIT = Rule("case_claim", "10/minute", "claims from this address")


class CaseClaimController(Controller):
    path = "/api/cases/claim"
    tags = ["cases"]

    @post(
        "/",
        status_code=200,
        summary="Claim anonymous requests by their tracking codes into my requests",
        description=(
            "For residents. Each code must open a case whose contact phone is the resident's "
            "own; otherwise 404 (unknown code) or 403 `not_your_case`, and nothing is "
            "claimed. At most 10 codes, 10 requests a minute from one address."
        ),
        before_request=per_address(CLAIM_LIMIT),
        responses={404: ANSWERS[404]},
    )
    async def claim(
        self, data: JSONBody[ClaimIn], principal: NamedDependency[Principal], state: State
    ) -> Claimed:
        return await claims.claim(data.codes, principal, state.settings.secret_key)
