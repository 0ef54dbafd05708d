"""Published (公示) periods: the figures of every level as they stood when the city admin
published the period, stored once and answered for that period from then on, so that work
done later on a case of that period no longer moves them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import msgspec

from backend.areas.tables import Area
from backend.assessment.schemas import AssessmentOut
from backend.assessment.tables import AssessmentPublication
from backend.core.db import write_transaction
from backend.core.errors import Conflict
from backend.core.events import EventType
from backend.events.service import NewEvent, append

# A publication holds every level of every door's cases: the whole city's answers and those by
# door are kept apart and read apart, and each answer is decoded when asked for (decoding them
# all took a tenth of an assessment's time).
_ANSWERS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ANSWER = msgspec.json.Decoder(AssessmentOut)


class _Scored(msgspec.Struct):
    code: str
    score: float | None = None


class _Scores(msgspec.Struct):
    units: list[_Scored]


# The rank change needs each unit's published score only: the rest of the answer is skipped.
_SCORES = msgspec.json.Decoder(_Scores)


@dataclass(frozen=True)
class Publication:
    period: str
    published_at: datetime
    published_by: int | None
    stored: dict[str, msgspec.Raw]  # key(level, source) → the whole city's answer, as JSON

    def answer(self, level: str, source: str | None = None) -> AssessmentOut | None:
        """The whole city's published answer of ``level`` (of ``source``'s cases), if any, and
        if it was read (``read``'s ``sourced``)."""
        raw = self.stored.get(key(level, source))
        return None if raw is None else _ANSWER.decode(raw)

    def scores(self, level: str, source: str | None = None) -> dict[str, float | None] | None:
        """Each unit's published score in ``answer(level, source)``, if there is one."""
        raw = self.stored.get(key(level, source))
        return None if raw is None else {u.code: u.score for u in _SCORES.decode(raw).units}


_BY_SOURCE = "@"


def key(level: str, source: str | None = None) -> str:
    """Where a publication keeps a level's answer: the whole city's, or that of the cases that
    came in by one door (``source``)."""
    return level if source is None else f"{level}{_BY_SOURCE}{source}"


def already(period: str) -> Conflict:
    return Conflict(
        "already_published", f"{period} is published already; its figures stay", period=period
    )


async def read(period: str, *, sourced: bool = False) -> Publication | None:
    """The period's publication, if it is published, holding the answers of the whole city or,
    if ``sourced``, those by door."""
    table = AssessmentPublication
    answers = table.by_source if sourced else table.figures
    row = await (
        table.select(table.published_at, table.published_by, answers)
        .where(table.period == period)
        .first()
    )
    if row is None:
        return None
    published_at = row["published_at"]
    if isinstance(published_at, str):  # SQLite hands a raw select's time back as text
        published_at = datetime.fromisoformat(published_at)
    stored = _ANSWERS.decode(row[answers._meta.name])
    return Publication(period, published_at, row["published_by"], stored)


async def exists(period: str) -> bool:
    return bool(await AssessmentPublication.exists().where(AssessmentPublication.period == period))


async def store(
    period: str, answers: dict[str, AssessmentOut], admin: int, now: datetime
) -> Publication:
    """Store ``answers`` as the period's published figures; 409 ``already_published`` if it
    is (checked in the write transaction, and by the unique period for a race)."""
    whole = {k: a for k, a in answers.items() if _BY_SOURCE not in k}
    figures = msgspec.json.encode(whole)
    by_source = msgspec.json.encode({k: a for k, a in answers.items() if _BY_SOURCE in k})
    try:
        await _insert(period, figures.decode(), by_source.decode(), admin, now, sorted(whole))
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):  # published meanwhile
        raise already(period) from None
    return Publication(period, now, admin, _ANSWERS.decode(figures))


async def _insert(
    period: str, figures: str, by_source: str, admin: int, now: datetime, levels: list[str]
) -> None:
    async with write_transaction(AssessmentPublication._meta.db):
        if await exists(period):
            raise already(period)
        await AssessmentPublication.insert(
            AssessmentPublication(
                period=period,
                published_at=now,
                published_by=admin,
                figures=figures,
                by_source=by_source,
            )
        )
        city = await Area.select(Area.code).where(Area.level == "city").first()
        await append(
            [
                NewEvent(
                    EventType.assessment_published,
                    f"assessment:{period}",
                    city["code"] if city else "",
                    {"period": period, "levels": levels},
                    admin,
                )
            ]
        )
