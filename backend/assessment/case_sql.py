"""The case indicators as SQL: rows of facts, one per case the period concerns with a 0/1
column per flag, summed per unit by ``rollup_sql``. The same facts answer the drill-down.

The facts come in two parts, found without reading every case:

- the case rows submitted, due or closed in the period (indexes on ``case_record``): received,
  due, closed, closed on time, overdue, rated, satisfied;
- the period's workflow actions (accept, dispatch, handle or self-handle, verify, escalate),
  off the rows of the cases whose first action of a kind fell in the period (the row keeps
  each first and who took it, backend/cases/firsts.py; partial indexes on those columns):
  accepted, voided, dispatched (on time), handled, reworked, verified, escalated, response and
  handling times. A case accepted, verified or escalated a second time (a few) is read from the
  period's events instead (``evp``, the partial index on ``event (at)``): its first of a kind
  in the period may be a later one than its first ever; for one submitted before the period,
  its earlier events (partial index on ``event (subject, type, at)``) tell its first dispatch
  and first handling from later ones, and when it was accepted.

A case counts where it happened: its grid, and the areas above it. A case reported in a gap
between grids has no grid; its place is then the deepest area it was routed to (the last of
its ``area_codes``, which run from the city down), and it counts from that area up.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from backend.assessment.dialect import Dialect
from backend.cases.service import PRIORITIES
from backend.core.areas import CODE_LENGTH, Level
from backend.core.events import EventType

ACCEPT, DISPATCH, ESCALATE, VERIFY, SELF_HANDLE = (
    f"'{t}'"
    for t in (
        EventType.case_accept,
        EventType.case_dispatch,
        EventType.case_escalate,
        EventType.case_verify,
        EventType.case_self_handle,
    )
)
HANDLE = f"'{EventType.case_handle}', {SELF_HANDLE}"
# Word for word as the partial indexes of the assessment's migrations list them: SQLite proves
# a partial index usable only by an identical term.
TYPES = f"{ACCEPT}, {DISPATCH}, {HANDLE}, {ESCALATE}, {VERIFY}"
# Statuses that never fall due: not yet in the workflow, out of it (a merged duplicate answers
# through its main case), or with the clock stopped.
NOT_DUE = "'submitted', 'rejected', 'withdrawn', 'voided', 'shelved', 'merged'"
# A case voided after its due time had passed still fell due, late: a void erases no lateness.
VOIDED_LATE = "(status = 'voided' AND voided_at > due_at)"
# A case paused (挂起) before its due time has its clock stopped: it falls due only once resumed,
# when the resume has pushed due_at on by the paused time. Paused after its due time had
# passed, it was already late and falls due where due_at lies.
PAUSED_IN_TIME = "(paused_at IS NOT NULL AND paused_at < due_at)"


# The unit each level counts a case at: where it happened, or who it was dispatched to; and
# two groupings of those (the party feature's tables): the assignee's post and grade (三岗十八级),
# and the stars of the party branch on the case's grid (比武争星).
def territory(level: str, code: str) -> str:
    """The code of ``level`` containing the place ``code`` (a grid or area code), or NULL.

    A district is the first 6 digits of any deeper code; a 6-digit place is itself a district
    unless it ends in 00 (the city, which lies in no district).
    """
    if level == "district":
        return (
            f"CASE WHEN LENGTH({code}) >= 9 OR (LENGTH({code}) = 6 AND "
            f"SUBSTR({code}, 5, 2) <> '00') THEN SUBSTR({code}, 1, 6) END"
        )
    n = CODE_LENGTH[Level(level)]
    return f"CASE WHEN LENGTH({code}) >= {n} THEN SUBSTR({code}, 1, {n}) END"


def deepest(chain: str) -> str:
    """The last code of a comma-separated chain of 6-, 9- and 12-digit codes, or NULL."""
    tail = f"SUBSTR({chain}, LENGTH({chain}) - "
    return (
        f"CASE WHEN LENGTH({chain}) = 12 OR {tail}12, 1) = ',' THEN {tail}11) "
        f"WHEN LENGTH({chain}) = 9 OR {tail}9, 1) = ',' THEN {tail}8) "
        f"WHEN LENGTH({chain}) >= 6 THEN {tail}5) END"
    )


UNIT = {
    # The case figures at its assignee; those of the workflow's actions go to whoever took
    # them (``CREDIT``), read from ``credited`` instead of the facts.
    "worker": "CAST(facts.assignee AS TEXT)",
    "grid": "facts.grid_code",
    "community": territory("community", "facts.place"),
    "street": territory("street", "facts.place"),
    "district": territory("district", "facts.place"),
    "grade": "wg.post || '-' || CAST(wg.grade AS TEXT)",
    "stars": "CAST(bs.stars AS TEXT)",
    "department": "facts.department",
}
_JOIN = {
    "grade": "LEFT JOIN worker_grade wg ON wg.person = facts.assignee",
    "stars": "LEFT JOIN star bs ON bs.area_code = facts.grid_code",
}
# A branch's stars for the period: those of the period itself, else of its quarter, else of its
# year (:p1, :p2, :p3, most specific first).
_STAR = """star AS (
  SELECT area_code, stars FROM (
    SELECT area_code, stars, ROW_NUMBER() OVER (PARTITION BY area_code
      ORDER BY CASE period WHEN :p1 THEN 1 WHEN :p2 THEN 2 ELSE 3 END) AS rn
    FROM branch_star WHERE period IN (:p1, :p2, :p3)
  ) ranked WHERE rn = 1
)"""
# The 0/1 columns of the facts. Two parts, each computed on its own: those read off the case
# rows alone (submitted, fell due, closed in the period), and those of the period's workflow
# events. On PostgreSQL the two run side by side, on two connections sharing one snapshot.
# The doors a case comes in by (cases/states.py Source), each counted apart among the received.
SOURCES = ("app", "anonymous", "hotline", "patrol", "task", "open311")
CASE_FLAGS = (
    "received",
    *(f"received_{s}" for s in SOURCES),
    "accept_due",
    "accept_due_on_time",
    "dispatch_due",
    "dispatch_due_on_time",
    "handle_due",
    "handle_due_done",
    "handle_due_on_time",
    "verify_due",
    "verify_due_on_time",
    "due",
    "closed",
    "closed_on_time",
    "overdue",
    "self_due",
    "self_closed",
    "self_closed_on_time",
    "rated",
    "satisfied",
)
EVENT_FLAGS = (
    "accepted",
    "voided",
    "dispatched",
    "dispatched_on_time",
    "handled",
    "self_handled",
    "reworked",
    "verified",
    "escalated",
)
# At the worker level, each action's figures go to the person who took it (a column of the
# facts naming them, by part): 立案 to whoever accepted, 派遣 to the dispatcher, 处置 to the
# handler, 核查 to the verifier, an escalation to whoever escalated. In the event part, they are
# whoever took the case's first such action in the period (as its row keeps them; for a case
# that took one again, the ``event.actor`` of its first such event in the period, an event with
# no actor passed over), and the times go with them (the response to the acceptor, the handling
# to the handler). In the case part, the stages'
# deadlines go to whoever met them or not as the row names them (one never accepted, dispatched
# or verified counts at no worker; one never handled at its assignee, who had it to handle),
# and the rest of the row (received, due, closed, rated) to the assignee, who answers for its
# closing.
CREDIT: dict[str, dict[str, tuple[str, ...]]] = {
    "events": {
        "acc_by": ("accepted", "voided", "response_s"),
        "dis_by": ("dispatched", "dispatched_on_time"),
        "han_by": ("handled", "self_handled", "reworked", "handling_s"),
        "ver_by": ("verified",),
        "esc_by": ("escalated",),
    },
    "cases": {
        "accepted_by": ("accept_due", "accept_due_on_time"),
        "dispatched_by": ("dispatch_due", "dispatch_due_on_time"),
        "handler": ("handle_due", "handle_due_done", "handle_due_on_time"),
        "verified_by": ("verify_due", "verify_due_on_time"),
    },
}
_STAGE_FLAGS = {f for flags in CREDIT["cases"].values() for f in flags}
CREDIT["cases"] = {
    "assignee": (*(f for f in CASE_FLAGS if f not in _STAGE_FLAGS), "rating"),
    **CREDIT["cases"],
}
CREDITED_BY = {flag: by for part in CREDIT.values() for by, flags in part.items() for flag in flags}
FLAGS = CASE_FLAGS + EVENT_FLAGS
PARTS = ("cases", "events")
PART_FLAGS = {"cases": CASE_FLAGS, "events": EVENT_FLAGS}
# What a credited row carries besides the flags: the values its sums need, NULL where the
# action is another's.
_VALUES = {"cases": ("rating",), "events": ("response_s", "handling_s")}
# Every drill-down row carries the length of the whole list, which is read a page at a time.
MATCHED = "COUNT(*) OVER () AS matched"
# What a case row of the drill-down shows besides its flags.
ROW_COLUMNS = {
    "cases": (
        "id",
        "grid_code",
        "department",
        "assignee",
        "status",
        "source",
        "created_at",
        "due_at",
        "closed_at",
    ),
    "events": ("id", "grid_code", "department", "assignee", "status", "created_at", "accepted_at"),
}
ROW_COLUMNS["cases"] += ("rating", "self_handled", "accept_due_at", "accepted_at")
ROW_COLUMNS["cases"] += ("dispatch_due_at", "dispatched_at", "handle_due_at", "handled_at")
ROW_COLUMNS["cases"] += ("verify_due_at", "verified_at")
ROW_COLUMNS["cases"] += tuple(by for by in CREDIT["cases"] if by != "assignee")
ROW_COLUMNS["events"] += ("dispatched_at", "handled_at", "verified_at", "response_s", "handling_s")
ROW_COLUMNS["events"] += tuple(CREDIT["events"])

# What the cases take of their actions in the period, and of their rows.
_ACTION_NAMES = (
    *("acc", "dis", "han", "esc", "ver", "selfh"),
    *("acc_by", "dis_by", "han_by", "ver_by", "esc_by"),
)
_ACTIONS = ", ".join(f"v.{name}" for name in _ACTION_NAMES)
_CASE_NAMES = (
    *("id", "grid_code", "area_codes", "assignee", "department", "category", "priority"),
    *("status", "source", "created_at", "due_at", "closed_at", "rework_count", "rating"),
)
_CASE_COLUMNS = ", ".join(f"c.{name}" for name in _CASE_NAMES)


# Who took a case's first action of a kind in the period, for a case that took one again (its
# actions read from the events), found by one hashed pass over the period's events rather than
# a sort: each event's second and actor packed into one number
# (second × 2^24 + actor, person ids below 16,777,216), whose smallest is the first; two events
# of one kind in the same second go to the lower id. An event with no actor (the scheduler's)
# is passed over.
_ACTORS = 1 << 24


# The period's actions of a case that its event facts are read from (``evp``), by their types;
# and which of them each event figure needs (a rate's or a mean's own sums, a time's percentile).
ACTIONS: dict[str, str] = {
    "acc": ACCEPT,
    "dis": DISPATCH,
    "han": HANDLE,
    "ver": VERIFY,
    "esc": ESCALATE,
}
NEEDS: dict[str, frozenset[str]] = {
    "accepted": frozenset({"acc"}),
    "voided": frozenset({"acc"}),
    "dispatched": frozenset({"dis"}),
    "dispatched_on_time": frozenset({"dis", "acc"}),
    "handled": frozenset({"han"}),
    "self_handled": frozenset({"han"}),
    "reworked": frozenset({"han"}),
    "verified": frozenset({"ver"}),
    "escalated": frozenset({"esc"}),
    "response_s": frozenset({"acc"}),
    "handling_s": frozenset({"han", "dis"}),
}


def _first(types: str, value: str = "at") -> str:
    """The smallest ``value`` of the events of ``types``. Filtered on the type itself: a kind
    number computed in a subquery is pasted by the planner into every aggregate that reads it,
    and its CASE ran ten times per event (this aggregation took twice as long)."""
    return f"MIN({value}) FILTER (WHERE type IN ({types}))"


def _first_actor(types: str) -> str:
    return f"({_first(types, 'stamp')} % {_ACTORS})"


def _earlier(types: str) -> str:
    # One probe of the partial index per case and type: the first such event before the period.
    return (
        f"(SELECT MIN(e.at) FROM event e WHERE e.subject = 'case:' || c.id "
        f"AND e.type IN ({TYPES}) AND e.type IN ({types}) AND e.at < :s)"
    )


def _in_period(column: str) -> str:
    return f"({column} >= :s AND {column} < :e)"


def _flags(flag: dict[str, str], keys: tuple[str, ...]) -> str:
    return ",\n  ".join(f"CASE WHEN {flag[k]} THEN 1 ELSE 0 END AS {k}" for k in keys)


def _kept(shared: bool) -> str:
    # Facts read more than once are computed once; read once, the planner streams them into
    # their reader (copying a month's cases to a CTE cost a quarter of the case part's time).
    return "MATERIALIZED" if shared else "NOT MATERIALIZED"


def _stage_due(deadline: str, out: str, paused: bool = False) -> str:
    """A stage's cases to answer for in the period (应立案, 应派遣, 应处置, 应核查): those whose
    deadline lies in it, but for those that left the workflow without needing the stage (the
    statuses ``out``, or voided no later than the deadline) and, if ``paused``, those paused
    before it (the clock stands still; a resume moves the deadline on)."""
    kept = (
        f"({_in_period(deadline)} AND status NOT IN ({out})"
        f" AND (status <> 'voided' OR voided_at > {deadline})"
    )
    return kept + (
        f" AND NOT (paused_at IS NOT NULL AND paused_at < {deadline}))" if paused else ")"
    )


def _met(due: str, done: str, deadline: str) -> str:
    return f"{due} AND {done} IS NOT NULL AND {done} <= {deadline}"


def case_facts(d: Dialect, shared: bool, sourced: bool = False) -> str:
    """``WITH`` ending in ``facts``: the cases submitted, due or closed in the period, or whose
    deadline of a stage lies in it, with the flags read off their rows (indexes on
    ``created_at``, ``due_at``, ``closed_at`` and the deadlines); only those of ``:source`` if
    ``sourced``."""
    due = (
        f"((status NOT IN ({NOT_DUE}) OR {VOIDED_LATE}) AND due_at IS NOT NULL"
        f" AND NOT {PAUSED_IN_TIME} AND {_in_period('fell_due')})"
    )
    rated = f"({_in_period('closed_at')} AND rating IS NOT NULL)"
    # 应立案数: never needed if rejected (不予立案) or handled on the spot by its finder (自处置);
    # 应派遣数 and 应处置数 likewise for a case withdrawn or merged: a case never accepted,
    # dispatched or handled counts against, late.
    accept_due = _stage_due("accept_due_at", "'withdrawn', 'merged', 'rejected'")
    accept_due = f"{accept_due} AND NOT self_handled"
    dispatch_due = _stage_due("dispatch_due_at", "'withdrawn', 'merged'", paused=True)
    # Shelved (挂账), a case's clocks stand still; unshelved, its handling starts afresh.
    handle_due = _stage_due("handle_due_at", "'withdrawn', 'merged', 'shelved'", paused=True)
    verify_due = _stage_due("verify_due_at", "'withdrawn', 'merged', 'shelved'")
    # Each cohort's test once per row (a fenced subquery): the flags read them several times,
    # and neither database shares a repeated expression.
    cohort = {
        "received": _in_period("created_at"),
        "accept_due": accept_due,
        "dispatch_due": dispatch_due,
        "handle_due": handle_due,
        "verify_due": verify_due,
        "due": due,
        "rated": rated,
    }
    closed = "in_due AND closed_at IS NOT NULL AND closed_at < :e"
    closed_on_time = "in_due AND closed_at IS NOT NULL AND closed_at <= due_at"
    flag = {
        "received": "in_received",
        **{f"received_{s}": f"in_received AND source = '{s}'" for s in SOURCES},
        "accept_due": "in_accept_due",
        "accept_due_on_time": _met("in_accept_due", "accepted_at", "accept_due_at"),
        "dispatch_due": "in_dispatch_due",
        "dispatch_due_on_time": _met("in_dispatch_due", "dispatched_at", "dispatch_due_at"),
        "handle_due": "in_handle_due",
        "handle_due_done": "in_handle_due AND handled_at IS NOT NULL AND handled_at < :e",
        "handle_due_on_time": _met("in_handle_due", "handled_at", "handle_due_at"),
        "verify_due": "in_verify_due",
        "verify_due_on_time": _met("in_verify_due", "verified_at", "verify_due_at"),
        "due": "in_due",
        "closed": closed,
        "closed_on_time": closed_on_time,
        "overdue": "in_due AND (closed_at IS NULL OR closed_at > due_at)",
        "self_due": "in_due AND self_handled",
        "self_closed": f"{closed} AND self_handled",
        "self_closed_on_time": f"{closed_on_time} AND self_handled",
        "rated": "in_rated",
        "satisfied": "in_rated AND rating >= 4",
    }
    of_source = " AND c.source = :source" if sourced else ""
    tests = ",\n      ".join(f"{sql} AS in_{name}" for name, sql in cohort.items())
    return f"""WITH
facts AS {_kept(shared)} (
  SELECT id, grid_code, place, assignee, department, status, source, created_at, due_at,
  closed_at, rating, self_handled, accept_due_at, accepted_at, dispatch_due_at, dispatched_at,
  handle_due_at, handled_at, verify_due_at, verified_at,
  accepted_by, dispatched_by, COALESCE(handled_by, assignee) AS handler, verified_by,
  {_flags(flag, CASE_FLAGS)}
  FROM (
    SELECT x.*,
      {tests}
    FROM (
      SELECT {_CASE_COLUMNS}, c.voided_at, c.paused_at, c.self_handled,
        c.accept_due_at, c.accepted_at, c.accepted_by, c.dispatch_due_at, c.dispatched_at,
        c.dispatched_by, c.handle_due_at, c.handled_at, c.handled_by,
        c.verify_due_at, c.verified_at, c.verified_by,
        COALESCE(c.grid_code, {deepest("c.area_codes")}) AS place,
        CASE WHEN c.closed_at IS NOT NULL AND c.closed_at < c.due_at THEN c.closed_at
          ELSE c.due_at END AS fell_due
      FROM case_record c
      WHERE ({_in_period("c.created_at")} OR {_in_period("c.due_at")}
        OR {_in_period("c.closed_at")} OR {_in_period("c.accept_due_at")}
        OR {_in_period("c.dispatch_due_at")} OR {_in_period("c.handle_due_at")}
        OR {_in_period("c.verify_due_at")}){of_source}
    ) x
    {d.fence}
  ) y
)"""


def _evp_columns(actions: Collection[str]) -> str:
    """Each action's first time (an escalation: whether there was one) and taker in the
    period, and whether the handling was on the spot; NULL or 0 for those not in ``actions``,
    whose figures are then 0 and whose earlier lookups do not run."""
    none, nobody = "CAST(NULL AS TIMESTAMPTZ)", "CAST(NULL AS INTEGER)"

    def mark(kind: str) -> str:
        return f"MAX(CASE WHEN type = {kind} THEN 1 ELSE 0 END)"

    # name → (what it holds when read, when not read): the first time, else a mark.
    firsts = {name: (_first(kinds), none) for name, kinds in ACTIONS.items()}
    firsts["esc"] = (mark(ESCALATE), "0")
    out = []
    for name, kinds in ACTIONS.items():
        taken = name in actions
        first, off = firsts[name]
        out += [
            f"{first if taken else off} AS {name}",
            f"{_first_actor(kinds) if taken else nobody} AS {name}_by",
        ]
        if name == "han":
            out.append(f"{mark(SELF_HANDLE) if taken else '0'} AS selfh")
    return ",\n    ".join(out)


# Each action's first, and who took it, on the case row (backend/cases/firsts.py).
_ROW_FIRSTS = {
    "acc": ("c.first_accepted_at", "c.first_accepted_by"),
    "dis": ("c.dispatched_at", "c.dispatched_by"),
    "han": ("c.first_handled_at", "c.first_handled_by"),
    "ver": ("c.first_verified_at", "c.first_verified_by"),
    "esc": ("c.first_escalated_at", "c.first_escalated_by"),
}


def _row_first(name: str, taken: Collection[str], who: bool = False) -> str:
    """A case's first action ``name`` (or who took it) off its row, if it fell in the period
    and the action is ``taken``; else NULL."""
    at, by = _ROW_FIRSTS[name]
    if name not in taken:
        return f"CAST(NULL AS {'INTEGER' if who else 'TIMESTAMPTZ'})"
    return f"CASE WHEN {_in_period(at)} THEN {by if who else at} END"


def _row_actions(taken: Collection[str]) -> str:
    """The ``_ACTION_NAMES`` of a case, in their order, taken off its row."""
    esc = f"CASE WHEN {_in_period(_ROW_FIRSTS['esc'][0])} THEN 1 ELSE 0 END"
    selfh = "CASE WHEN c.self_handled THEN 1 ELSE 0 END"
    columns = [f"{_row_first(name, taken)} AS {name}" for name in ("acc", "dis", "han")]
    columns += [f"{esc if 'esc' in taken else '0'} AS esc"]
    columns += [f"{_row_first('ver', taken)} AS ver"]
    columns += [f"{selfh if 'han' in taken else '0'} AS selfh"]
    columns += [f"{_row_first(name, taken, who=True)} AS {name}_by" for name in _ROW_FIRSTS]
    return ", ".join(columns)


def event_facts(
    d: Dialect, shared: bool, sourced: bool = False, actions: Collection[str] | None = None
) -> str:
    """``WITH`` ending in ``facts``: the cases with workflow actions in the period, with the
    flags and times of those actions; only the cases of ``:source`` if ``sourced``. Only the
    ``actions`` (of ``ACTIONS``) are read if given: the other figures are 0, and a period ranked
    by a few figures reads the cases of their actions only.

    A case's first action of each kind is on its row (backend/cases/firsts.py): the cases
    whose first action of a kind fell in the period are found by the indexes on those columns
    and read once, with no event. A case accepted, verified or escalated a second time
    (``repeated_actions``, a few) may have its first of the period later than its first ever:
    its actions are read from the period's events, as before the row kept them."""
    taken = ACTIONS.keys() if actions is None else actions
    of_types = ""
    if actions is not None:
        kinds = ", ".join(ACTIONS[a] for a in ACTIONS if a in taken)
        of_types = f" AND type IN ({kinds or 'NULL'})"
    handling_start = (
        "CASE WHEN dis_first IS NOT NULL AND dis_first <= han_p THEN dis_first ELSE created_at END"
    )
    # The time limits are computed once per category and priority (MATERIALIZED): inlined, the
    # category's JSON was parsed again for every case joined to it (a fifth of the facts' time).
    priorities = " UNION ALL ".join(f"SELECT '{p}' AS priority" for p in PRIORITIES)
    flag = {
        "accepted": "acc IS NOT NULL",
        "voided": "acc IS NOT NULL AND status = 'voided'",
        "dispatched": "dis_p IS NOT NULL",
        "dispatched_on_time": f"dis_p IS NOT NULL AND "
        f"{d.seconds('dis_p', 'COALESCE(acc_first, created_at)')} <= dispatch_limit_s",
        "handled": "han_p IS NOT NULL",
        "self_handled": "han_p IS NOT NULL AND selfh = 1",
        "reworked": "han_p IS NOT NULL AND rework_count > 0",
        "verified": "ver IS NOT NULL",
        "escalated": "esc = 1",
    }
    of_source = " AND c.source = :source" if sourced else ""
    in_period = " OR ".join(_in_period(at) for a, (at, _) in _ROW_FIRSTS.items() if a in taken)
    # The earlier actions of a case taken again, looked up for those submitted before the
    # period only: a dispatch or handling counts in the period of the first.
    none = "CAST(NULL AS TIMESTAMPTZ)"
    b_dis = (
        f"CASE WHEN c.created_at < :s AND (v.dis IS NOT NULL OR v.han IS NOT NULL)\n"
        f"      THEN {_earlier(DISPATCH)} END"
        if "dis" in taken
        else none
    )
    return f"""WITH
rowed AS (
  SELECT {_CASE_COLUMNS}, {_row_actions(taken)},
    c.first_accepted_at AS acc_first, c.dispatched_at AS dis_first,
    {_row_first("dis", taken)} AS dis_p, {_row_first("han", taken)} AS han_p
  FROM case_record c
  WHERE NOT c.repeated_actions AND ({in_period or "1 = 0"}){of_source}
),
evr AS (
  SELECT subject, at, type, {d.epoch_seconds("at")} * {_ACTORS} + actor AS stamp
  FROM event WHERE type IN ({TYPES}) AND {_in_period("at")}{of_types}
    AND subject IN (SELECT 'case:' || id FROM case_record WHERE repeated_actions)
),
evp AS MATERIALIZED (
  SELECT subject, CAST(SUBSTR(subject, 6) AS INTEGER) AS id,
    {_evp_columns(taken)}
  FROM evr
  GROUP BY subject
),
again AS (
  SELECT {_CASE_COLUMNS}, {_ACTIONS},
    CASE WHEN c.created_at < :s AND v.dis IS NOT NULL THEN {_earlier(ACCEPT)} END AS b_acc,
    {b_dis} AS b_dis,
    CASE WHEN c.created_at < :s AND v.han IS NOT NULL THEN {_earlier(HANDLE)} END AS b_han
  FROM evp v JOIN case_record c ON c.id = v.id
  WHERE {d.ids_in("c.id", "SELECT id FROM evp")}{of_source}
),
cand AS (
  SELECT * FROM rowed
  UNION ALL
  SELECT {", ".join((*_CASE_NAMES, *_ACTION_NAMES))},
    COALESCE(b_acc, acc), COALESCE(b_dis, dis), CASE WHEN b_dis IS NULL THEN dis END,
    CASE WHEN b_han IS NULL THEN han END
  FROM again
),
limits AS MATERIALIZED (
  SELECT code AS category, pr.priority,
    {d.json_number("accept_hours", "pr.priority")} * 3600 AS seconds
  FROM category CROSS JOIN ({priorities}) pr
),
joined AS (
  SELECT x.*, lim.seconds AS dispatch_limit_s
  FROM cand x
  LEFT JOIN limits lim ON lim.category = x.category AND lim.priority = x.priority
),
facts AS {_kept(shared)} (
  SELECT id, grid_code, COALESCE(grid_code, {deepest("area_codes")}) AS place,
  assignee, department, status, created_at, due_at, closed_at, rating,
  acc AS accepted_at, dis_p AS dispatched_at, han_p AS handled_at, ver AS verified_at,
  acc_by, dis_by, han_by, ver_by, esc_by,
  CASE WHEN acc IS NOT NULL THEN {d.seconds("acc", "created_at")} END AS response_s,
  CASE WHEN han_p IS NOT NULL THEN {d.seconds("han_p", handling_start)} END AS handling_s,
  {_flags(flag, EVENT_FLAGS)}
  FROM joined
)"""


def credit_rows(part: str) -> dict[str, str]:
    """Per person column of ``CREDIT[part]``, a SELECT of one row per case crediting that
    person in the period, at that person (``wk``), with the flags and values credited to them
    (the others 0 or NULL)."""
    flags = PART_FLAGS[part]
    selects = {}
    for by, own in CREDIT[part].items():
        columns = [f"{by} AS wk"]
        columns += [k if k in own else f"0 AS {k}" for k in flags]
        columns += [v if v in own else f"CAST(NULL AS BIGINT) AS {v}" for v in _VALUES[part]]
        # An action's count (or a stage's due) holds its other flags; the assignee's are many.
        held = "assignee IS NOT NULL" if by == "assignee" else f"{own[0]} = 1"
        selects[by] = f"SELECT {', '.join(columns)} FROM facts WHERE {held}"
    return selects


def _credited(part: str) -> str:
    """``credited``: every person's credited rows, one after the other."""
    return "credited AS (\n  " + "\n  UNION ALL ".join(credit_rows(part).values()) + "\n)"


def credits(level: str) -> bool:
    """Whether the level's units are read from ``credited`` rather than the facts."""
    return level == "worker"


def head(
    d: Dialect,
    levels: Sequence[str],
    part: str,
    *,
    shared: bool,
    sourced: bool = False,
    credit: bool | None = None,
    actions: Collection[str] | None = None,
) -> str:
    """One part's facts (``shared``: read more than once; ``sourced``: of ``:source`` only;
    the event part of ``actions`` only, if given), the actions credited to their takers if
    ``credit`` (by default: if the worker level is asked), and the branches' stars if a level
    needs them."""
    if part == "cases":
        facts = case_facts(d, shared, sourced)
    else:
        facts = event_facts(d, shared, sourced, actions)
    if any(credits(level) for level in levels) if credit is None else credit:
        facts += f",\n{_credited(part)}"
    return facts + (f",\n{_STAR}" if "stars" in levels else "")


def source(levels: Sequence[str]) -> str:
    """The facts joined with what the levels' units need."""
    return " ".join(["facts", *(_JOIN[lv] for lv in levels if lv in _JOIN)])


def origin(level: str, part: str) -> tuple[str, str]:
    """What one level's rows of a part are read from, and the unit of a row."""
    if credits(level):
        return "credited", "CAST(credited.wk AS TEXT)"
    return source([level]), UNIT[level]


def drill(d: Dialect, level: str, flag: str, sourced: bool = False) -> str:
    """The facts of the cases behind one flag of one unit (``:unit``), by id; of ``:source``
    only if ``sourced``."""
    part = "cases" if flag in CASE_FLAGS else "events"
    columns = ", ".join(f"facts.{c}" for c in (*ROW_COLUMNS[part], *PART_FLAGS[part]))
    unit = UNIT[level]
    if credits(level):
        unit = f"CAST(facts.{CREDITED_BY[flag]} AS TEXT)"
    return (
        f"{head(d, [level], part, shared=False, sourced=sourced)}\n"
        f"SELECT {columns}, {MATCHED} FROM {source([level])} "
        f"WHERE {unit} = :unit AND facts.{flag} = 1 ORDER BY facts.id"
    )
