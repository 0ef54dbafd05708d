"""双报告: each member's confirmed service hours over a period, for the units they work for.

Hours count in the period in which their need started, by local dates of the city. Aggregated
in the database (one GROUP BY); members without hours are listed too, with zeros, since a
unit wants to know who has not served.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count, Sum

from backend.core.errors import Invalid
from backend.core.principal import Principal
from backend.core.roles import AREA_ROLES
from backend.party.members import area_names
from backend.party.rules import normalise_unit
from backend.party.schemas import UnitCount, UnitReport, UnitRow
from backend.party.scope import prefix_of, require_within, staff_area
from backend.party.tables import NeedClaim, PartyMember

MAX_ROWS = 100_000


def parse_day(name: str, text: str) -> date:
    """A query's ``YYYY-MM-DD``; 422 ``invalid_date`` otherwise.

    >>> parse_day("from", "2026-05-01")
    datetime.date(2026, 5, 1)
    """
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("invalid_date", f"{name} must be a date YYYY-MM-DD, not {text!r}") from None


def period_of(date_from: str | None, date_to: str | None, today: date) -> tuple[date, date]:
    """Both days included; by default the month so far.

    >>> period_of(None, None, date(2026, 5, 17))
    (datetime.date(2026, 5, 1), datetime.date(2026, 5, 17))
    """
    first = parse_day("from", date_from) if date_from else today.replace(day=1)
    last = parse_day("to", date_to) if date_to else today
    if last < first:
        raise Invalid("bad_period", f"the period ends ({last}) before it starts ({first})")
    return first, last


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


async def unit_report(
    principal: Principal,
    unit: str | None,
    date_from: str | None,
    date_to: str | None,
    timezone: str,
    area: str | None = None,
) -> UnitReport:
    """Members of ``unit`` (every unit when None) registered in the asker's area, each with
    the hours the community confirmed for needs that started in the period."""
    own = staff_area(principal, AREA_ROLES)
    area = area or own
    require_within(area, own)
    tz = ZoneInfo(timezone)
    first, last = period_of(date_from, date_to, datetime.now(tz).date())
    start, end = _midnight(first, tz), _midnight(last + timedelta(days=1), tz)
    in_area = PartyMember.home_community.like(f"{prefix_of(area)}%")
    members = PartyMember.select(
        PartyMember.id,
        PartyMember.person.name.as_alias("name"),
        PartyMember.work_unit,
        PartyMember.home_community,
    ).where(in_area)
    hours = (
        NeedClaim.select(
            NeedClaim.member, Sum(NeedClaim.hours, alias="hours"), Count(alias="services")
        )
        .where(
            NeedClaim.status == "confirmed",
            NeedClaim.need.starts_at >= start,
            NeedClaim.need.starts_at < end,
            NeedClaim.member.home_community.like(f"{prefix_of(area)}%"),
        )
        .group_by(NeedClaim.member)
    )
    if unit is not None:
        unit = normalise_unit(unit)
        members = members.where(PartyMember.work_unit == unit)
        hours = hours.where(NeedClaim.member.work_unit == unit)
    member_rows = await members.limit(MAX_ROWS + 1)
    if len(member_rows) > MAX_ROWS:
        raise Invalid("too_many_rows", f"more than {MAX_ROWS} members; name a unit or an area")
    totals = {r["member"]: r for r in await hours}
    names = await area_names(m["home_community"] for m in member_rows)
    rows = [
        UnitRow(
            work_unit=m["work_unit"],
            member_id=m["id"],
            name=m["name"],
            community_code=m["home_community"],
            community_name=names.get(m["home_community"], ""),
            services=int(totals.get(m["id"], {}).get("services") or 0),
            hours=round(float(totals.get(m["id"], {}).get("hours") or 0), 2),
        )
        for m in member_rows
    ]
    rows.sort(key=lambda r: (r.work_unit, -r.hours, r.member_id))
    return UnitReport(
        unit=unit,
        date_from=first.isoformat(),
        date_to=last.isoformat(),
        members=len(rows),
        services=sum(r.services for r in rows),
        hours=round(sum(r.hours for r in rows), 2),
        rows=rows,
    )


async def units(principal: Principal) -> list[UnitCount]:
    """The work units of the members registered in the asker's area, with member counts."""
    own = staff_area(principal, AREA_ROLES)
    rows = (
        await PartyMember.select(PartyMember.work_unit, Count(alias="members"))
        .where(PartyMember.home_community.like(f"{prefix_of(own)}%"))
        .group_by(PartyMember.work_unit)
        .order_by(PartyMember.work_unit)
    )
    return [UnitCount(r["work_unit"], r["members"]) for r in rows]
