"""The indicators that are not about cases, as SQL: patrol coverage (the positions feature's
``track_point``), broadcast-task completion (``task_item``) and volunteer hours
(``need_claim``). Each query returns (level, unit, figures…) rows like the case query.

Grid, community, street and district units are code prefixes of a grid code; a worker is a
person id as text.
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.assessment.case_sql import MATCHED
from backend.assessment.dialect import Dialect
from backend.core.areas import CODE_LENGTH, Level

# The staff whose track points count as a grid's patrol (not the party-branch secretary).
PATROL_POSTS = "'leader', 'police', 'fulltime', 'parttime'"


def _prefix(level: str, column: str) -> str:
    return column if level == "grid" else f"SUBSTR({column}, 1, {CODE_LENGTH[Level(level)]})"


def patrol(d: Dialect, levels: Sequence[str]) -> str:
    """Patrolled and possible grid-days (a worker: days). ``:days`` is the number of local
    days of the period that have begun; a day is counted from the period's start, which is a
    local midnight."""
    day = f"{d.seconds('tp.at', ':s')} / 86400"
    parts = []
    for level in levels:
        if level == "worker":
            parts.append(
                "SELECT 'worker' AS level, CAST(s.person AS TEXT) AS unit, "
                "COALESCE(p.n, 0) AS patrolled_days, :days AS patrol_days "
                f"FROM (SELECT DISTINCT person FROM grid_post WHERE post IN ({PATROL_POSTS})) s "
                "LEFT JOIN (SELECT person, COUNT(DISTINCT day) AS n FROM walked GROUP BY person)"
                " p ON p.person = s.person"
            )
            continue
        unit = _prefix(level, "code")
        walked = _prefix(level, "grid")
        parts.append(
            f"SELECT '{level}' AS level, g.unit, COALESCE(p.n, 0) AS patrolled_days, "
            "g.grids * :days AS patrol_days "
            f"FROM (SELECT {unit} AS unit, COUNT(*) AS grids FROM grid GROUP BY {unit}) g "
            f"LEFT JOIN (SELECT {walked} AS unit, COUNT(*) AS n "
            "FROM (SELECT DISTINCT grid, day FROM walked) gd "
            f"GROUP BY {walked}) p ON p.unit = g.unit"
        )
    union = "\nUNION ALL\n".join(parts)
    return f"""WITH walked AS MATERIALIZED (
  SELECT DISTINCT tp.person, g.code AS grid, {day} AS day
  FROM grid_post gp
  JOIN grid g ON g.id = gp.grid
  JOIN track_point tp ON tp.person = gp.person
  WHERE gp.post IN ({PATROL_POSTS}) AND tp.at >= :s AND tp.at < :e
    AND tp.lon BETWEEN g.min_lon AND g.max_lon AND tp.lat BETWEEN g.min_lat AND g.max_lat
)
{union}"""


def patrol_drill(d: Dialect, level: str) -> str:
    """The (grid, person, day) patrols behind one unit's patrolled days. Grouped by position:
    PostgreSQL does not see two placeholders of the same value as one expression."""
    day = f"{d.seconds('tp.at', ':s')} / 86400"
    unit = "CAST(gp.person AS TEXT)" if level == "worker" else _prefix(level, "g.code")
    return f"""SELECT g.code AS grid_code, gp.person, {day} AS day, COUNT(*) AS track_points,
  {MATCHED}
FROM grid_post gp
JOIN grid g ON g.id = gp.grid
JOIN track_point tp ON tp.person = gp.person
WHERE gp.post IN ({PATROL_POSTS}) AND tp.at >= :s AND tp.at < :e
  AND tp.lon BETWEEN g.min_lon AND g.max_lon AND tp.lat BETWEEN g.min_lat AND g.max_lat
  AND {unit} = :unit
GROUP BY 1, 2, 3
ORDER BY 3, 1, 2"""


_ITEMS = (
    "FROM task_item ti JOIN broadcast b ON b.id = ti.broadcast "
    "WHERE b.created_at >= :s AND b.created_at < :e"
)
_DONE = "CASE WHEN ti.status = 'done' THEN 1 ELSE 0 END"
# A worker answers for the items of the grids where they hold a post.
_HOLDERS = (
    "JOIN grid g ON g.code = ti.grid_code "
    f"JOIN grid_post gp ON gp.grid = g.id AND gp.post IN ({PATROL_POSTS})"
)


def tasks(levels: Sequence[str]) -> str:
    parts = []
    for level in levels:
        if level == "worker":
            # The items of a worker's grids, and those they did elsewhere; done: by them.
            parts.append(
                "SELECT 'worker' AS level, CAST(x.person AS TEXT) AS unit, "
                "COUNT(DISTINCT x.id) AS task_items, "
                "COUNT(DISTINCT CASE WHEN x.status = 'done' AND x.done_by = x.person "
                "THEN x.id END) AS tasks_done FROM ("
                "SELECT gp.person, ti.id, ti.status, ti.done_by "
                f"FROM task_item ti JOIN broadcast b ON b.id = ti.broadcast {_HOLDERS} "
                "WHERE b.created_at >= :s AND b.created_at < :e "
                "UNION ALL SELECT ti.done_by, ti.id, ti.status, ti.done_by "
                f"{_ITEMS} AND ti.status = 'done' AND ti.done_by IS NOT NULL"
                ") x GROUP BY x.person"
            )
            continue
        unit = _prefix(level, "ti.grid_code")
        parts.append(
            f"SELECT '{level}' AS level, {unit} AS unit, COUNT(*) AS task_items, "
            f"SUM({_DONE}) AS tasks_done {_ITEMS} GROUP BY {unit}"
        )
    return "\nUNION ALL\n".join(parts)


def tasks_drill(level: str) -> str:
    columns = "ti.id, ti.broadcast, ti.grid_code, ti.building_id, ti.status, ti.done_by, ti.done_at"
    if level == "worker":
        grids = (
            "SELECT g.code FROM grid g JOIN grid_post gp ON gp.grid = g.id "
            f"WHERE gp.post IN ({PATROL_POSTS}) AND CAST(gp.person AS TEXT) = :unit"
        )
        where = f"(ti.grid_code IN ({grids}) OR CAST(ti.done_by AS TEXT) = :unit)"
    else:
        where = f"{_prefix(level, 'ti.grid_code')} = :unit"
    return f"SELECT {columns}, {MATCHED} {_ITEMS} AND {where} ORDER BY ti.id"


# As the party feature's 双报告 counts them: confirmed hours in the period their need started.
_CLAIMS = (
    "FROM need_claim nc JOIN community_need n ON n.id = nc.need "
    "JOIN party_member pm ON pm.id = nc.member "
    "WHERE nc.status = 'confirmed' AND n.starts_at >= :s AND n.starts_at < :e"
)


def _hours_unit(level: str) -> str:
    if level == "worker":
        return "CAST(pm.person AS TEXT)"
    return _prefix(level, "pm.home_community")


def _claims(level: str) -> str:
    if level != "worker":
        return _CLAIMS
    # A member counts as a worker only if they hold a post in a grid.
    posted = f"SELECT person FROM grid_post WHERE post IN ({PATROL_POSTS})"
    return f"{_CLAIMS} AND pm.person IN ({posted})"


def hours(levels: Sequence[str]) -> str:
    """Confirmed hours; there is no grid figure (a member registers with a community)."""
    return "\nUNION ALL\n".join(
        f"SELECT '{level}' AS level, {_hours_unit(level)} AS unit, "
        f"SUM(nc.hours) AS volunteer_hours {_claims(level)} GROUP BY {_hours_unit(level)}"
        for level in levels
        if level != "grid"
    )


def hours_drill(level: str) -> str:
    return (
        "SELECT nc.id, nc.need, nc.member, pm.person, pm.home_community, nc.hours, "
        f"n.starts_at, nc.confirmed_at, {MATCHED} {_claims(level)} "
        f"AND {_hours_unit(level)} = :unit "
        "ORDER BY nc.id"
    )
