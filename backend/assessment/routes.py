"""The assessment over HTTP: figures and ranking, the cases behind a figure, the weights, and
the exports. Read by centre staff and admins; the weights are the city admin's."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.assessment import case_sql, exports, service, weights
from backend.assessment.queries import LEVELS, WEIGHTED_LEVELS, available_levels
from backend.assessment.schemas import (
    AssessmentOut,
    DrillOut,
    PublishIn,
    PublishOut,
    WeightsIn,
    WeightsOut,
)
from backend.core import clock
from backend.core.areas import level_of_code
from backend.core.errors import Invalid
from backend.core.principal import Principal, require_role
from backend.core.roles import AREA_ROLES, Role

PeriodText = Annotated[
    str, QueryParameter(max_length=8, description="a month YYYY-MM, a quarter YYYY-Qn, a year YYYY")
]
LevelText = Annotated[
    str,
    QueryParameter(
        max_length=16,
        description=", ".join(WEIGHTED_LEVELS) + "; grade and stars group the case figures by the "
        "assignee's 三岗 grade and by the grid's party-branch stars",
    ),
]
AreaCode = Annotated[
    str | None, QueryParameter(max_length=16, description="only the units inside this area")
]
SourceText = Annotated[
    str | None,
    QueryParameter(
        max_length=16,
        description="only the cases that came in by this door: "
        + ", ".join(case_sql.SOURCES)
        + " (case figures only)",
    ),
]
Recompute = Annotated[
    bool,
    QueryParameter(
        description="for a published period, also the figures as the cases stand now "
        "(`recomputed`), for audit"
    ),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _area(area: str | None) -> str | None:
    if area is None:
        return None
    try:
        level_of_code(area)
    except ValueError:
        raise Invalid("invalid_area", f"not an area code: {area!r}") from None
    return area


def _tz(state: State) -> ZoneInfo:
    return ZoneInfo(state.settings.timezone)


def _attachment(name: str, answer: AssessmentOut) -> dict[str, str]:
    """The file's name, and which figures it holds: published ones (with when), or computed
    from the cases as they stand."""
    held = f"published {answer.published_at}" if answer.published_at else "computed"
    return {"Content-Disposition": f'attachment; filename="{name}"', "X-Assessment-Figures": held}


class AssessmentController(Controller):
    path = "/api/assessment"
    tags = ["assessment"]

    @get(
        "/",
        summary="Figures, composite score and ranking of a level's units for a period",
        description="Each indicator comes with its formula; units are listed best first with "
        "their rank, the rank they had in the previous period and the change.",
    )
    async def assessment(
        self,
        principal: NamedDependency[Principal],
        state: State,
        period: PeriodText,
        level: LevelText,
        area: AreaCode = None,
        recompute: Recompute = False,
        source: SourceText = None,
    ) -> AssessmentOut:
        require_role(principal, *AREA_ROLES)
        answers = await service.assessments(
            period,
            [level],
            _area(area),
            _tz(state),
            clock.now(),
            recompute=recompute,
            source=source,
        )
        return answers[level]

    @post(
        "/publish",
        status_code=201,
        summary="Publish (公示) a period that is over: its figures are frozen (city admin)",
        description="Every level's figures are stored as they stand; later reads of the period "
        "answer them with `published_at`. 409 `period_not_over`, `already_published`.",
    )
    async def publish(
        self, principal: NamedDependency[Principal], state: State, data: JSONBody[PublishIn]
    ) -> PublishOut:
        require_role(principal, Role.city_admin)
        return await service.publish(data.period, _tz(state), clock.now(), principal.id)

    @get("/cases", summary="The rows behind one figure: cases, task items, claims or patrols")
    async def drill(
        self,
        principal: NamedDependency[Principal],
        state: State,
        period: PeriodText,
        level: LevelText,
        unit: Annotated[str, QueryParameter(max_length=16, description="a code or person id")],
        indicator: Annotated[str, QueryParameter(max_length=32)],
        limit: Annotated[int, QueryParameter(ge=1, le=10_000, description="rows per page")] = 1000,
        offset: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
        source: SourceText = None,
    ) -> DrillOut:
        require_role(principal, *AREA_ROLES)
        now = clock.now()
        return await service.drill(
            period,
            level,
            unit,
            indicator,
            _tz(state),
            now,
            limit=limit,
            offset=offset,
            source=source,
        )

    @get(
        "/weights/{level:str}",
        summary="The weights of a level's composite score, of a role's at the worker level, "
        "or the city's (self_handled: how much a self-handled case counts in the closure rates)",
    )
    async def read_weights(
        self, principal: NamedDependency[Principal], level: Annotated[str, PathParameter()]
    ) -> WeightsOut:
        require_role(principal, *AREA_ROLES)
        if level not in weights.SETTABLE:
            raise Invalid("invalid_level", f"weights are set for {', '.join(weights.SETTABLE)}")
        return await weights.stored(level)

    @put(
        "/weights/{level:str}",
        summary="Set a level's weights (city admin); an empty mapping restores the defaults",
    )
    async def set_weights(
        self,
        principal: NamedDependency[Principal],
        level: Annotated[str, PathParameter()],
        data: JSONBody[WeightsIn],
    ) -> WeightsOut:
        require_role(principal, Role.city_admin)
        return await weights.replace(level, data.weights, principal.id)

    @get("/export.csv", summary="One level's assessment table as CSV (UTF-8)")
    async def export_csv(
        self,
        principal: NamedDependency[Principal],
        state: State,
        period: PeriodText,
        level: LevelText,
        area: AreaCode = None,
        source: SourceText = None,
    ) -> Response[bytes]:
        require_role(principal, *AREA_ROLES)
        answers = await service.assessments(
            period, [level], _area(area), _tz(state), clock.now(), source=source
        )
        return Response(
            exports.csv_bytes(answers[level]),
            media_type="text/csv; charset=utf-8",
            headers=_attachment(f"assessment-{period}-{level}.csv", answers[level]),
        )

    @get("/export.xlsx", summary="Every level's assessment table, the formulas and the weights")
    async def export_xlsx(
        self,
        principal: NamedDependency[Principal],
        state: State,
        period: PeriodText,
        area: AreaCode = None,
        source: SourceText = None,
    ) -> Response[bytes]:
        require_role(principal, *AREA_ROLES)
        levels = LEVELS if area is not None else available_levels()
        answers = await service.assessments(
            period, levels, _area(area), _tz(state), clock.now(), source=source
        )
        used = {level: await service.level_weights(level) for level in levels}
        return Response(
            exports.xlsx_bytes(answers, used),
            media_type=XLSX,
            headers=_attachment(f"assessment-{period}.xlsx", answers[levels[0]]),
        )
