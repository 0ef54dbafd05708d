"""The indicators of the assessment (考核指标): what each one counts, its formula as the API and
docs/assessment.md states them, and the rates derived from the counts the database returns.

A case is counted at the grid where it happened (``case_record.grid_code``, fixed when it
arrived) and at the community, street and district above that grid, and at the functional
department it is with (``case_record.department``). At the worker level, an action's figures
go to the person who took it (立案 to the acceptor, 派遣 to the dispatcher, 处置 to the
handler, 核查 to the verifier, 升级 to whoever escalated, as ``event.actor`` says), and the
figures of the case rows (received, due, closed, rated) to its assignee. Times are those of its
events; "in the period" means in [start, end) of the period, where end is now while the period
is still running. Figures are computed from the cases as they stand when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Figures = dict[str, Any]


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str  # as the city's reports name it
    formula: str
    unit: str  # count, rate, seconds, rating, hours, days
    better: str | None = None  # "higher", "lower", or None for plain volumes
    source: str = "cases"  # cases, patrol, tasks, hours: the table it needs


_DUE = (
    "应结案数 due: cases accepted into the workflow (not submitted, rejected, withdrawn, voided, "
    "shelved or merged into another) that fell due in the period, i.e. whose closing or due "
    "time, whichever came first, is in the period; each case falls due in exactly one period. "
    "A case voided after its due time had passed counts too, as overdue: a void erases no "
    "lateness. A case paused before its due time does not fall due while paused"
)

INDICATORS: tuple[Indicator, ...] = (
    Indicator("received", "接收数", "cases submitted in the period (created_at)", "count"),
    Indicator("accepted", "立案数", "cases accepted (case.accept event) in the period", "count"),
    Indicator("voided", "作废数", "of the cases accepted in the period, those now voided", "count"),
    Indicator(
        "accurate_accept_rate",
        "准确立案率",
        "准确立案率 = (accepted − voided) / accepted",
        "rate",
        "higher",
    ),
    Indicator(
        "accept_due",
        "应立案数",
        "cases whose acceptance deadline (accept_due_at: submission + the category's accept "
        "limit, accept_hours, on its calendar) lies in the period, but for those rejected, "
        "handled on the spot by their finder (自处置), withdrawn or merged, and those voided "
        "unaccepted no later than it",
        "count",
    ),
    Indicator(
        "accept_due_on_time",
        "按时立案数",
        "of the cases to be accepted, those accepted (or escalated unaccepted, which enters "
        "them into the workflow at the level above) by their deadline; one never accepted "
        "counts against",
        "count",
    ),
    Indicator(
        "on_time_accept_rate",
        "按时立案率",
        "按时立案率 = accept_due_on_time / accept_due",
        "rate",
        "higher",
    ),
    Indicator(
        "dispatched", "派遣数", "cases whose first case.dispatch event is in the period", "count"
    ),
    Indicator(
        "dispatched_on_time",
        "按时派遣数",
        "dispatched cases whose first dispatch came within the category's response limit "
        "(accept_hours for its priority) after acceptance (or after submission, for a case "
        "that reached its owner by escalation without being accepted)",
        "count",
    ),
    Indicator(
        "dispatch_due",
        "应派遣数",
        "cases whose dispatch deadline (dispatch_due_at: acceptance + the category's dispatch "
        "limit, dispatch_hours, on its calendar) lies in the period, but for those withdrawn or "
        "merged, those voided no later than it, and those paused before it (the clock stands "
        "still; a resume moves the deadline on)",
        "count",
    ),
    Indicator(
        "dispatch_due_on_time",
        "应派遣按时派遣数",
        "of the cases to be dispatched, those first dispatched by their deadline; one never "
        "dispatched counts against",
        "count",
    ),
    Indicator(
        "on_time_dispatch_rate",
        "按时派遣率",
        "按时派遣率 = dispatch_due_on_time / dispatch_due",
        "rate",
        "higher",
    ),
    Indicator(
        "handled",
        "处置数",
        "cases whose first handling (case.handle or case.self_handle) is in the period",
        "count",
    ),
    Indicator(
        "reworked",
        "返工数",
        "of the cases handled in the period, those sent back (返工) at "
        "least once (rework_count > 0)",
        "count",
    ),
    Indicator("rework_rate", "返工率", "返工率 = reworked / handled", "rate", "lower"),
    Indicator(
        "self_handled",
        "自处理数",
        "of the cases handled in the period, those handled on the spot by their finder "
        "(first handling a case.self_handle), shown apart",
        "count",
    ),
    Indicator(
        "handle_due",
        "应处置数",
        "cases whose handling deadline (handle_due_at: the dispatch + the category's handling "
        "limit, handle_hours, on its calendar; kept by a re-dispatch or a return, set afresh "
        "at the next dispatch after an escalation, reopening or unshelving) lies in the "
        "period, but for those withdrawn, merged or shelved, those voided no later than it, "
        "and those paused before it",
        "count",
    ),
    Indicator(
        "handle_due_done",
        "已处置数",
        "of the cases to be handled, those handled before the end of the period (their last "
        "handling, handled_at: one sent back, 返工, is not handled until handled again)",
        "count",
    ),
    Indicator(
        "handle_due_on_time",
        "按时处置数",
        "of the cases to be handled, those handled no later than their deadline; one never "
        "handled counts against",
        "count",
    ),
    Indicator("handle_rate", "处置率", "处置率 = handle_due_done / handle_due", "rate", "higher"),
    Indicator(
        "on_time_handle_rate",
        "按时处置率",
        "按时处置率 = handle_due_on_time / handle_due",
        "rate",
        "higher",
    ),
    Indicator(
        "verified",
        "核查数",
        "cases with a case.verify event (核查) in the period (a worker: those whose first "
        "verification in the period was theirs)",
        "count",
    ),
    Indicator(
        "verify_due",
        "应核查数",
        "cases whose verification deadline (verify_due_at: the last handling + the category's "
        "verification limit, verify_hours, on its calendar) lies in the period, but for those "
        "withdrawn, merged or shelved, and those voided no later than it",
        "count",
    ),
    Indicator(
        "verify_due_on_time",
        "按时核查数",
        "of the cases to be verified, those whose last handling was verified, or sent back "
        "(返工, the verification's other answer), no later than the deadline; one never "
        "verified counts against",
        "count",
    ),
    Indicator(
        "on_time_verify_rate",
        "按时核查率",
        "按时核查率 = verify_due_on_time / verify_due",
        "rate",
        "higher",
    ),
    Indicator("due", "应结案数", _DUE, "count"),
    Indicator(
        "closed", "结案数", "of the cases due, those closed before the end of the period", "count"
    ),
    Indicator(
        "closed_on_time",
        "按期结案数",
        "of the cases due, those closed no later than their due time (due_at as it stands: "
        "after approved extensions, and the new clock an escalation starts)",
        "count",
    ),
    Indicator(
        "overdue",
        "超期数",
        "超期数 = due − closed_on_time: closed late, or still open past the due time",
        "count",
    ),
    Indicator(
        "self_due",
        "自处置应结案数",
        "of the cases due, those handled on the spot by their finder (自处置), shown apart",
        "count",
    ),
    Indicator("self_closed", "自处置结案数", "of the cases closed, the self-handled", "count"),
    Indicator(
        "self_closed_on_time",
        "自处置按期结案数",
        "of the cases closed on time, the self-handled",
        "count",
    ),
    Indicator(
        "close_rate",
        "结案率",
        "结案率 = (closed − (1 − s) × self_closed) / (due − (1 − s) × self_due), s the weight "
        "of a self-handled case (self_handled_weight, the city's; at 1, closed / due)",
        "rate",
        "higher",
    ),
    Indicator(
        "on_time_close_rate",
        "按期结案率",
        "按期结案率 = (closed_on_time − (1 − s) × self_closed_on_time) / (due − (1 − s) × "
        "self_due), s as for 结案率 (at 1, closed_on_time / due)",
        "rate",
        "higher",
    ),
    Indicator("escalated", "升级数", "cases with a case.escalate event in the period", "count"),
    Indicator(
        "response_mean_s",
        "平均响应用时",
        "mean over the cases accepted in the period of (acceptance − submission), in seconds",
        "seconds",
        "lower",
    ),
    Indicator(
        "response_p90_s",
        "响应用时P90",
        "nearest-rank 90th percentile of the same: the value at rank ⌈0.9 n⌉ in ascending order",
        "seconds",
        "lower",
    ),
    Indicator(
        "handling_mean_s",
        "平均处置用时",
        "mean over the cases handled in the period of (first handling − first dispatch; − "
        "submission for a case handled on the spot), in seconds",
        "seconds",
        "lower",
    ),
    Indicator(
        "handling_p90_s",
        "处置用时P90",
        "nearest-rank 90th percentile of the same: the value at rank ⌈0.9 n⌉",
        "seconds",
        "lower",
    ),
    Indicator("rated", "评价数", "cases closed in the period that their reporter rated", "count"),
    Indicator("satisfied", "满意数", "of those, the ones rated 4 or 5", "count"),
    Indicator("satisfaction_mean", "满意度", "mean of those ratings (1–5)", "rating", "higher"),
    Indicator("satisfied_share", "满意率", "满意率 = ratings of 4 or 5 / rated", "rate", "higher"),
    Indicator(
        "patrol_days",
        "应巡查格日",
        "grid-days of the period so far: grids × days (a worker: days)",
        "days",
        source="patrol",
    ),
    Indicator(
        "patrolled_days",
        "已巡查格日",
        "grid-days on which one of the grid's staff (leader, police, full- or part-time) "
        "recorded a track point inside the grid's bounding box (a worker: days with a track "
        "point inside one of their grids)",
        "days",
        source="patrol",
    ),
    Indicator(
        "patrol_coverage",
        "巡查覆盖率",
        "巡查覆盖率 = patrolled_days / patrol_days",
        "rate",
        "higher",
        "patrol",
    ),
    Indicator(
        "task_items",
        "任务数",
        "broadcast task items (task_item) of broadcasts sent in the period, by the item's "
        "grid (a worker: the items of the grids where they hold a post, and those they did "
        "elsewhere)",
        "count",
        source="tasks",
    ),
    Indicator(
        "tasks_done",
        "已完成任务数",
        "of those, the items now done (a worker: done by them, task_item.done_by)",
        "count",
        source="tasks",
    ),
    Indicator(
        "task_completion",
        "任务完成率",
        "任务完成率 = tasks_done / task_items",
        "rate",
        "higher",
        "tasks",
    ),
    Indicator(
        "volunteer_hours",
        "志愿服务时长",
        "confirmed hours of need claims whose need started in the period (as 双报告 counts "
        "them), by the party member's home community (a worker: their own, if they are a "
        "member); no grid figure",
        "hours",
        "higher",
        "hours",
    ),
    # By the door the cases came in by: the received, counted apart.
    *(
        Indicator(
            f"received_{source}",
            f"接收数（{label}）",
            f"of the cases received, those that came in by {source} (case_record.source)",
            "count",
        )
        for source, label in (
            ("app", "APP"),
            ("anonymous", "免登录"),
            ("hotline", "12345热线"),
            ("patrol", "巡查上报"),
            ("task", "上级交办"),
            ("open311", "外部系统"),
        )
    ),
)
BY_KEY: Mapping[str, Indicator] = {i.key: i for i in INDICATORS}

# Rates: (numerator, denominator); None when the denominator is 0.
RATES: Mapping[str, tuple[str, str]] = {
    "accurate_accept_rate": ("accurate", "accepted"),
    "on_time_accept_rate": ("accept_due_on_time", "accept_due"),
    "on_time_dispatch_rate": ("dispatch_due_on_time", "dispatch_due"),
    "rework_rate": ("reworked", "handled"),
    "handle_rate": ("handle_due_done", "handle_due"),
    "on_time_handle_rate": ("handle_due_on_time", "handle_due"),
    "on_time_verify_rate": ("verify_due_on_time", "verify_due"),
    "close_rate": ("closed", "due"),
    "on_time_close_rate": ("closed_on_time", "due"),
    "satisfied_share": ("satisfied", "rated"),
    "patrol_coverage": ("patrolled_days", "patrol_days"),
    "task_completion": ("tasks_done", "task_items"),
}
# Means: (sum, count) of what the database returns, and the decimals they are given with.
MEANS: Mapping[str, tuple[str, str, int]] = {
    "response_mean_s": ("response_sum_s", "response_n", 1),
    "handling_mean_s": ("handling_sum_s", "handling_n", 1),
    "satisfaction_mean": ("rating_sum", "rated", 2),
}
# Returned by the database to derive the figures above, not shown themselves (a set: every
# unit's every sum is looked up in it).
HELPERS = frozenset({"response_sum_s", "response_n", "handling_sum_s", "handling_n", "rating_sum"})
# The counts of the closure rates, and their self-handled part: a self-handled case counts
# as much in 结案率 and 按期结案率 as the city's self_handled_weight says.
SELF_HANDLED = {"due": "self_due", "closed": "self_closed", "closed_on_time": "self_closed_on_time"}


def derive(raw: Mapping[str, Any], self_weight: float = 1.0) -> Figures:
    """The figures of one unit from the sums the database returned for it; a rate or mean is
    None when there is nothing to divide by, and absent when its source is. A self-handled
    case weighs ``self_weight`` of a case in the closure rates (the counts stay whole).

    >>> f = derive({"accepted": 4, "voided": 1, "due": 0, "closed": 0, "closed_on_time": 0})
    >>> f["accurate_accept_rate"], f["close_rate"], "task_completion" in f
    (0.75, None, False)
    >>> raw = {"due": 4, "closed": 3, "closed_on_time": 2}
    >>> raw |= {"self_due": 2, "self_closed": 2, "self_closed_on_time": 2}
    >>> derive(raw)["on_time_close_rate"], derive(raw, 0.5)["on_time_close_rate"]
    (0.5, 0.3333)
    """
    counts = dict(raw)
    if "accepted" in raw:
        counts["accurate"] = raw["accepted"] - raw["voided"]
    if self_weight != 1 and "self_due" in raw:
        for key, part in SELF_HANDLED.items():
            counts[key] = raw[key] - (1 - self_weight) * raw[part]
    figures = {k: v for k, v in raw.items() if k not in HELPERS}
    for key, (top, bottom) in RATES.items():
        if bottom in counts:
            figures[key] = ratio(counts[top], counts[bottom])
    for key, (total, count, digits) in MEANS.items():
        if count in counts:
            figures[key] = ratio(counts[total], counts[count], digits)
    return figures


def ratio(top: float | None, bottom: float | None, digits: int = 4) -> float | None:
    if not bottom or top is None:
        return None
    return round(float(top) / float(bottom), digits)
