from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, delete, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.calendar import service
from backend.calendar.schemas import CalendarOut, DayOut, HoursIn, HoursOut, OverrideIn, OverrideOut
from backend.core.principal import Principal


class CalendarController(Controller):
    path = "/api/calendar"
    tags = ["calendar"]

    @get(
        "",
        summary="The city's working calendar, day by day: worked or not, and why",
        description=(
            "Anyone signed in. At most 366 days; `why` is workday, weekend, holiday, "
            "adjusted_workday (调休), day_off or extra_workday (the city's overrides). "
            "`unknown_years`: years the national calendar does not know yet, decided by "
            "weekends alone."
        ),
    )
    async def read(
        self,
        principal: NamedDependency[Principal],
        start: Annotated[date, QueryParameter(name="from", description="first day")],
        end: Annotated[date, QueryParameter(name="to", description="last day, included")],
    ) -> CalendarOut:
        return await service.days(start, end)

    @put(
        "/overrides/{day:str}",
        summary="Make a day a day off or an extra working day (city admin)",
        description="Replaces the day's override, if any; due times set after it follow it.",
    )
    async def set_override(
        self,
        day: FromPath[str],
        data: JSONBody[OverrideIn],
        principal: NamedDependency[Principal],
    ) -> OverrideOut:
        return await service.set_override(service.parse_day(day), data, principal)

    @delete(
        "/overrides/{day:str}",
        summary="Return a day to the national calendar (city admin): the day as it then is",
        status_code=200,
    )
    async def remove_override(
        self, day: FromPath[str], principal: NamedDependency[Principal]
    ) -> DayOut:
        return await service.remove_override(service.parse_day(day), principal)

    @put("/hours", summary="Set the city's working hours (city admin)")
    async def set_hours(
        self, data: JSONBody[HoursIn], principal: NamedDependency[Principal]
    ) -> HoursOut:
        return await service.set_hours(data.hours, principal)
