from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from litestar import Controller, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter

from backend.core.principal import Principal
from backend.party import claims, export, grading, members, needs, report, service
from backend.party.schemas import (
    ClaimOut,
    GradeIn,
    GradeOut,
    MemberOut,
    NeedIn,
    NeedOut,
    RefuseIn,
    RegisterIn,
    ReportIn,
    StarIn,
    StarOut,
    UnitCount,
    UnitReport,
)

Id = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
Area = Annotated[
    str | None, QueryParameter(max_length=16, description="an area code; yours by default")
]
Unit = Annotated[str | None, QueryParameter(max_length=128, description="one work unit")]
From = Annotated[
    str | None, QueryParameter(name="from", description="first day YYYY-MM-DD (local)")
]
To = Annotated[str | None, QueryParameter(name="to", description="last day YYYY-MM-DD (local)")]
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PartyController(Controller):
    path = "/api/party"
    tags = ["party members"]

    @put(
        "/me",
        summary="Register as a party member with your home community (双报到), or change it",
        description="201 when registered now, 200 when an earlier registration was changed.",
    )
    async def register(
        self, data: JSONBody[RegisterIn], principal: NamedDependency[Principal]
    ) -> Response[MemberOut]:
        member, created = await members.register(principal, data)
        return Response(member, status_code=201 if created else 200)

    @get("/me", summary="Your registration and confirmed hours; 404 not_registered")
    async def me(self, principal: NamedDependency[Principal]) -> MemberOut:
        return await members.mine(principal)

    @get("/me/claims", summary="The needs you claimed and where their hours stand")
    async def my_claims(self, principal: NamedDependency[Principal]) -> list[ClaimOut]:
        return await claims.claims_of(principal)

    @get("/members", summary="Members registered in an area (community staff and above)")
    async def list_members(
        self, principal: NamedDependency[Principal], area: Area = None, unit: Unit = None
    ) -> list[MemberOut]:
        return await members.members_in(principal, area, unit)

    @get("/units", summary="The work units of the members in your area")
    async def list_units(self, principal: NamedDependency[Principal]) -> list[UnitCount]:
        return await report.units(principal)

    @post(
        "/needs",
        summary="Publish a volunteer task or 微心愿 (community staff, street staff)",
        description="201 when created, 200 when this client_id was already received.",
    )
    async def publish(
        self, data: JSONBody[NeedIn], principal: NamedDependency[Principal]
    ) -> Response[NeedOut]:
        need, created = await needs.publish(principal, data)
        return Response(need, status_code=201 if created else 200)

    @get("/needs", summary="Needs of an area, soonest first (your home community by default)")
    async def list_needs(
        self,
        principal: NamedDependency[Principal],
        area: Area = None,
        kind: Annotated[str | None, QueryParameter(description="volunteer or wish")] = None,
        ended: Annotated[bool, QueryParameter(description="include ended needs")] = False,
    ) -> list[NeedOut]:
        return await needs.listing(principal, area, kind, ended)

    @get("/needs/{need_id:int}", summary="A need; its claims for the community's staff")
    async def need(self, need_id: Id, principal: NamedDependency[Principal]) -> NeedOut:
        return await needs.read(need_id, principal)

    @post(
        "/needs/{need_id:int}/claims",
        summary="Claim a place on a need of your community",
        description="201 with the claim made; 200 with the claim you hold already.",
        responses={200: ResponseSpec(ClaimOut, description="the claim you hold already")},
    )
    async def claim(self, need_id: Id, principal: NamedDependency[Principal]) -> Response[ClaimOut]:
        made, created = await claims.claim(need_id, principal)
        return Response(made, status_code=201 if created else 200)

    @delete("/claims/{claim_id:int}", summary="Withdraw your claim before the need starts")
    async def withdraw(self, claim_id: Id, principal: NamedDependency[Principal]) -> None:
        await claims.withdraw(claim_id, principal)

    @post("/claims/{claim_id:int}/report", status_code=200, summary="Report your service hours")
    async def report_hours(
        self, claim_id: Id, data: JSONBody[ReportIn], principal: NamedDependency[Principal]
    ) -> ClaimOut:
        return await claims.report(claim_id, principal, data)

    @post(
        "/claims/{claim_id:int}/confirm",
        status_code=200,
        summary="Confirm reported hours (the community; never your own: 403 own_hours)",
    )
    async def confirm(self, claim_id: Id, principal: NamedDependency[Principal]) -> ClaimOut:
        return await claims.review(claim_id, principal, confirm=True)

    @post("/claims/{claim_id:int}/refuse", status_code=200, summary="Refuse reported hours")
    async def refuse(
        self, claim_id: Id, data: JSONBody[RefuseIn], principal: NamedDependency[Principal]
    ) -> ClaimOut:
        return await claims.review(claim_id, principal, confirm=False, reason=data.reason)

    @get(
        "/report",
        summary="双报告: each member's confirmed hours over a period, by work unit",
        description=(
            "Hours count in the period in which their need started (local dates, both "
            "included; the month so far by default). Members without hours are listed with 0."
        ),
    )
    async def unit_report(
        self,
        principal: NamedDependency[Principal],
        state: State,
        unit: Unit = None,
        date_from: From = None,
        date_to: To = None,
        area: Area = None,
    ) -> UnitReport:
        tz = state.settings.timezone
        return await report.unit_report(principal, unit, date_from, date_to, tz, area)

    @get("/report.csv", summary="The same report as CSV (UTF-8)")
    async def unit_report_csv(
        self,
        principal: NamedDependency[Principal],
        state: State,
        unit: Unit = None,
        date_from: From = None,
        date_to: To = None,
        area: Area = None,
    ) -> Response[bytes]:
        tz = state.settings.timezone
        found = await report.unit_report(principal, unit, date_from, date_to, tz, area)
        return _file(export.to_csv(found), CSV, export.file_name(found, "csv"))

    @get("/report.xlsx", summary="The same report as an XLSX workbook")
    async def unit_report_xlsx(
        self,
        principal: NamedDependency[Principal],
        state: State,
        unit: Unit = None,
        date_from: From = None,
        date_to: To = None,
        area: Area = None,
    ) -> Response[bytes]:
        tz = state.settings.timezone
        found = await report.unit_report(principal, unit, date_from, date_to, tz, area)
        # Building a workbook is CPU work: off the event loop, like the import checks.
        body = await to_thread.run_sync(export.to_xlsx, found)
        return _file(body, XLSX, export.file_name(found, "xlsx"))

    @put(
        "/grades/{person_id:int}",
        summary="Set a community worker's post and grade (三岗十八级); street staff and admins",
    )
    async def set_grade(
        self, person_id: Id, data: JSONBody[GradeIn], principal: NamedDependency[Principal]
    ) -> GradeOut:
        return await grading.set_grade(principal, person_id, data)

    @get("/grades", summary="Graded community workers of an area")
    async def grades(
        self, principal: NamedDependency[Principal], area: Area = None
    ) -> list[GradeOut]:
        return await grading.grades_in(principal, area)

    @put(
        "/branch-stars/{code:str}/{period:str}",
        summary="Set a party branch's stars for a period (比武争星, 最强党支部)",
        description="`code`: a grid's (its branch) or an area's; `period`: YYYY, YYYY-Qn, YYYY-MM.",
    )
    async def set_stars(
        self,
        code: FromPath[str],
        period: FromPath[str],
        data: JSONBody[StarIn],
        principal: NamedDependency[Principal],
    ) -> StarOut:
        return await grading.set_stars(principal, code, period, data)

    @get("/branch-stars", summary="Stars of the party branches in an area, newest period first")
    async def stars(
        self,
        principal: NamedDependency[Principal],
        area: Annotated[str, QueryParameter(max_length=16, description="an area or grid code")],
        period: Annotated[str | None, QueryParameter(max_length=7)] = None,
    ) -> list[StarOut]:
        return await service.stars_in(area, period)


def _file(body: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
