"""The assessment's pure parts (periods, rates, scores, ranks, named parameters) and the two
SQL pieces that must give the same answer on both databases: the 90th percentile and the
seconds between two times."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from backend.assessment.case_sql import ACTIONS, CREDIT
from backend.assessment.dialect import Dialect, bind, p90_by_rank
from backend.assessment.indicators import INDICATORS, derive
from backend.assessment.periods import clipped_end, elapsed_days, parse_period
from backend.assessment.scoring import DEFAULT_WEIGHTS, SCORABLE, Ranked, rank, rank_changes, scores
from backend.cases.tables import Case
from backend.core.errors import Invalid

BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("text", "start", "end", "previous"),
    [
        ("2026-03", "2026-03-01", "2026-04-01", "2026-02"),
        ("2026-01", "2026-01-01", "2026-02-01", "2025-12"),
        ("2026-12", "2026-12-01", "2027-01-01", "2026-11"),
        ("2026-Q1", "2026-01-01", "2026-04-01", "2025-Q4"),
        ("2026-Q4", "2026-10-01", "2027-01-01", "2026-Q3"),
        ("2026", "2026-01-01", "2027-01-01", "2025"),
    ],
)
def test_periods_are_local_half_open_intervals(text, start, end, previous):
    period = parse_period(text)
    begins, ends = period.bounds(BEIJING)
    assert begins == datetime.fromisoformat(f"{start}T00:00:00+08:00")
    assert ends == datetime.fromisoformat(f"{end}T00:00:00+08:00")
    assert period.label == text and period.previous().label == previous


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q0", "2026-Q5", "26", "2026-3", ""])
def test_a_bad_period_is_refused(text):
    with pytest.raises(Invalid) as refused:
        parse_period(text)
    assert refused.value.code == "invalid_period"


def test_a_running_period_ends_now():
    march = parse_period("2026-03")
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
    assert clipped_end(march, BEIJING, now) == now
    assert elapsed_days(march, BEIJING, now) == 10
    assert elapsed_days(march, BEIJING, datetime(2026, 2, 27, tzinfo=UTC)) == 0
    assert (
        clipped_end(march, BEIJING, datetime(2026, 2, 27, tzinfo=UTC)) == march.bounds(BEIJING)[0]
    )
    assert elapsed_days(march, BEIJING, datetime(2026, 5, 1, tzinfo=UTC)) == 31
    assert parse_period("2026-03").labels() == ("2026-03", "2026-Q1", "2026")
    assert parse_period("2026-Q3").labels() == ("2026-Q3", "2026", "2026")


def test_rates_and_means_come_from_the_sums():
    raw = {
        "accepted": 8, "voided": 2, "dispatch_due": 5, "dispatch_due_on_time": 4, "handled": 0,
        "reworked": 0, "due": 3, "closed": 2, "closed_on_time": 1, "rated": 4, "satisfied": 3,
        "rating_sum": 17, "response_n": 3, "response_sum_s": 100, "handling_n": 0,
        "handling_sum_s": None,
    }  # fmt: skip
    figures = derive(raw)
    assert figures["accurate_accept_rate"] == 0.75
    assert figures["on_time_dispatch_rate"] == 0.8
    assert figures["rework_rate"] is None  # nothing handled: no rate, not 0
    assert (figures["close_rate"], figures["on_time_close_rate"]) == (0.6667, 0.3333)
    assert (figures["satisfaction_mean"], figures["satisfied_share"]) == (4.25, 0.75)
    assert (figures["response_mean_s"], figures["handling_mean_s"]) == (33.3, None)
    assert "patrol_coverage" not in figures and "response_sum_s" not in figures


def test_every_rate_names_its_formula():
    formulas = {i.key: i.formula for i in INDICATORS}
    assert formulas["close_rate"] == (
        "结案率 = (closed − (1 − s) × self_closed) / (due − (1 − s) × self_due), s the weight "
        "of a self-handled case (self_handled_weight, the city's; at 1, closed / due)"
    )
    assert formulas["on_time_accept_rate"] == "按时立案率 = accept_due_on_time / accept_due"
    assert formulas["handle_rate"] == "处置率 = handle_due_done / handle_due"
    assert formulas["on_time_handle_rate"] == "按时处置率 = handle_due_on_time / handle_due"
    assert formulas["on_time_verify_rate"] == "按时核查率 = verify_due_on_time / verify_due"
    assert formulas["accurate_accept_rate"] == "准确立案率 = (accepted − voided) / accepted"
    assert formulas["rework_rate"] == "返工率 = reworked / handled"
    assert formulas["on_time_dispatch_rate"] == "按时派遣率 = dispatch_due_on_time / dispatch_due"
    assert set(DEFAULT_WEIGHTS) <= SCORABLE
    assert math.isclose(sum(DEFAULT_WEIGHTS.values()), 1.0)


def test_scores_bring_each_indicator_to_0_1():
    units = {
        "a": {"rework_rate": 0.25, "response_mean_s": 100.0, "volunteer_hours": 8.0},
        "b": {"rework_rate": 0.5, "response_mean_s": 400.0, "volunteer_hours": 2.0},
        "c": {"rework_rate": None, "response_mean_s": None, "volunteer_hours": 0.0},
    }
    weights = {"rework_rate": 2, "response_mean_s": 1, "volunteer_hours": 1}
    # a: (2 × 0.75 + 1 × 1 + 1 × 1) / 4; b: (2 × 0.5 + 100 / 400 + 2 / 8) / 4; c: hours only.
    assert scores(units, weights) == {"a": 87.5, "b": 37.5, "c": 0.0}
    assert scores({"a": {"satisfaction_mean": 4.0}}, {"satisfaction_mean": 1}) == {"a": 75.0}
    assert scores({"a": {"close_rate": None}}, {"close_rate": 1}) == {"a": None}


def test_ranks_share_ties_and_skip_after_them():
    ranked = rank({"g1": 80.0, "g2": 95.0, "g3": 80.0, "g4": None, "g5": 70.0})
    assert [(r.code, r.rank) for r in ranked] == [
        ("g2", 1), ("g1", 2), ("g3", 2), ("g5", 4), ("g4", None)
    ]  # fmt: skip
    now = [Ranked("g2", 95.0, 1), Ranked("g1", 80.0, 2), Ranked("g4", None, None)]
    assert rank_changes(now, {"g2": 3, "g1": 1, "g4": 2}) == {"g2": 2, "g1": -1, "g4": None}


def test_named_parameters_become_piccolos():
    sql, args = bind("a >= :s AND b < :e AND c = :p1 AND d::text = 'x:y'", Dialect(True),
                     s=("timestamp", 1), e=("timestamp", 2), p1=("text", "q"))  # fmt: skip
    assert sql == (
        "a >= CAST({} AS TIMESTAMPTZ) AND b < CAST({} AS TIMESTAMPTZ) AND c = {} "
        "AND d::text = 'x:y'"
    )
    assert args == [1, 2, "q"]


@pytest.mark.parametrize("n", [1, 2, 9, 10, 11, 37])
async def test_the_90th_percentile_is_the_same_on_both_databases(database, n):
    values = [random.Random(n * 7 + i).randint(0, 10_000) for i in range(n)] + [5000] * (n % 3)
    rows = " UNION ALL ".join(f"SELECT 'u' AS unit, {v} AS v" for v in values)
    d = Dialect.of(Case._meta.db)
    if d.postgres:
        sql = f"SELECT {d.p90('v')} AS p90 FROM ({rows}) t"
    else:
        sql = p90_by_rank(f"({rows})", "unit", "v")
    got = (await Case.raw(sql))[0]["p90"]
    ordered = sorted(values)
    assert got == ordered[math.ceil(0.9 * len(ordered)) - 1]


@pytest.mark.parametrize(
    ("later", "seconds"),
    [("10:00:00", 3600), ("10:00:01.400", 3601), ("10:00:01.600", 3602), ("09:00:00", 0)],
)
async def test_seconds_between_two_times_round_alike(database, later, seconds):
    d = Dialect.of(Case._meta.db)
    sql, args = bind(
        f"SELECT {d.seconds(':b', ':a')} AS s",
        d,
        a=("timestamp", datetime(2026, 3, 1, 9, tzinfo=BEIJING)),
        b=("timestamp", datetime.fromisoformat(f"2026-03-01T{later}+08:00")),
    )
    assert (await Case.raw(sql, *args))[0]["s"] == seconds


def test_each_action_is_credited_by_the_column_of_its_name():
    # rollup_sql._workers finds the credit of action x by the name x_by: a period ranked by a
    # few figures groups the workers of their actions only.
    assert {by.removesuffix("_by") for by in CREDIT["events"]} == set(ACTIONS)
