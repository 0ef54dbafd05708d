"""The few places where the assessment's SQL differs between SQLite and PostgreSQL, and named
parameters for Piccolo's positional ``{}`` ones.

Both databases must give the same figures, so time arithmetic is done in whole seconds,
rounded the same way on both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from piccolo.engine import Engine, PostgresEngine

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)\b")


@dataclass(frozen=True)
class Dialect:
    postgres: bool

    @classmethod
    def of(cls, engine: Engine) -> Dialect:
        return cls(isinstance(engine, PostgresEngine))

    def seconds(self, later: str, earlier: str) -> str:
        """Whole seconds from ``earlier`` to ``later`` (two timestamp expressions), rounded
        half up. In floating point on both: PostgreSQL's ``extract`` would be numeric, and
        several times slower over a month of cases. SQLite keeps times to the millisecond, so
        a duration within a millisecond of a half second may round the other way there."""
        if self.postgres:
            return f"CAST(FLOOR(date_part('epoch', ({later}) - ({earlier})) + 0.5) AS BIGINT)"
        return f"CAST((julianday({later}) - julianday({earlier})) * 86400 + 0.5 AS INTEGER)"

    def epoch_seconds(self, moment: str) -> str:
        """Whole seconds since 1970 of a timestamp expression, as an integer."""
        if self.postgres:
            return f"CAST(FLOOR(date_part('epoch', {moment})) AS BIGINT)"
        return f"CAST((julianday({moment}) - 2440587.5) * 86400 AS INTEGER)"

    def p90(self, value: str) -> str | None:
        """The nearest-rank 90th percentile as an aggregate, where the database has one.

        PostgreSQL's ``percentile_disc(0.9)`` is the value at rank ceil(0.9 n) of the sorted
        values; SQLite has none, and :func:`p90_by_rank` computes the same rank with windows.
        """
        if self.postgres:
            return f"percentile_disc(0.9) WITHIN GROUP (ORDER BY {value})"
        return None

    def json_number(self, column: str, key: str) -> str:
        """A number at ``key`` (an SQL text expression) of a JSON object held as text."""
        if self.postgres:
            return f"CAST(CAST({column} AS JSON) ->> {key} AS DOUBLE PRECISION)"
        return f"json_extract({column}, '$.' || {key})"

    def ids_in(self, column: str, query: str) -> str:
        """``column`` is one of the ids ``query`` returns, looked up by the index on it.

        PostgreSQL is told with an array: left to itself it hashed a million cases to meet the
        period's eighty thousand.
        """
        if self.postgres:
            return f"{column} = ANY(ARRAY({query}))"
        return f"{column} IN ({query})"

    @property
    def fence(self) -> str:
        """What keeps a subquery from being merged into the query around it, so that its
        columns are computed once per row however often the outer query reads them."""
        return "OFFSET 0" if self.postgres else "LIMIT -1"

    def param(self, kind: str) -> str:
        """A placeholder; PostgreSQL is told the type where the context would not."""
        if self.postgres and kind == "timestamp":
            return "CAST({} AS TIMESTAMPTZ)"
        if self.postgres and kind == "integer":
            return "CAST({} AS INTEGER)"
        return "{}"


def p90_by_rank(source: str, keys: str, value: str) -> str:
    """A query of ``keys`` and the nearest-rank 90th percentile of ``value`` over ``source``:
    the value at rank ceil(0.9 n), written (9n + 9) / 10 in integer arithmetic."""
    return (
        f"SELECT {keys}, MAX(CASE WHEN rn = (9 * n + 9) / 10 THEN v END) AS p90 FROM ("
        f"SELECT {keys}, {value} AS v, "
        f"ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {value}) AS rn, "
        f"COUNT(*) OVER (PARTITION BY {keys}) AS n "
        f"FROM {source} WHERE {value} IS NOT NULL) ranked GROUP BY {keys}"
    )


def bind(sql: str, dialect: Dialect, **values: tuple[str, Any]) -> tuple[str, list[Any]]:
    """Replace ``:name`` by Piccolo's ``{}`` in order, with the argument list to pass.

    ``values`` maps each name to (kind, value); a name may occur any number of times.

    >>> bind("a >= :s AND b < :s", Dialect(False), s=("timestamp", 1))
    ('a >= {} AND b < {}', [1, 1])
    """
    args: list[Any] = []

    def place(match: re.Match[str]) -> str:
        kind, value = values[match[1]]
        args.append(value)
        return dialect.param(kind)

    return _PARAM.sub(place, sql), args
