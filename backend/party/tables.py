"""The party tables; names and key columns agreed with the assessment (notes: governance-tables).

Area and grid codes are stored as codes, not foreign keys: a re-import may replace an area, and
the history of who served where must stay readable.
"""

from piccolo.columns import (
    UUID,
    DoublePrecision,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.people.tables import Person


class PartyMember(Table, tablename="party_member"):
    """A party member who works elsewhere and reports to the community they live in."""

    id: Serial  # the primary key Piccolo adds

    person = ForeignKey(Person, null=False, unique=True, on_delete=OnDelete.cascade)
    work_unit = Varchar(length=128, index=True)
    home_community = Varchar(length=16, index=True)
    registered_at = Timestamptz()
    updated_at = Timestamptz()


class CommunityNeed(Table, tablename="community_need"):
    """A volunteer task or a 微心愿 that a community publishes for its members to take."""

    id: Serial  # the primary key Piccolo adds

    client_id = UUID(unique=True)  # the publishing phone's id: a retried send makes one need
    community_code = Varchar(length=16, index=True)
    kind = Varchar(length=16)  # volunteer | wish
    title = Varchar(length=128)
    description = Text()
    place = Varchar(length=256)
    lon = DoublePrecision()
    lat = DoublePrecision()
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    capacity = Integer()
    # Claims held; moved by a conditional UPDATE, which also locks the row against a race.
    claimed = Integer(default=0)
    created_by = Integer()
    created_at = Timestamptz()


class NeedClaim(Table, tablename="need_claim"):
    """One member on one need (a unique index on (need, member) comes with the migration)."""

    id: Serial  # the primary key Piccolo adds

    need = ForeignKey(CommunityNeed, null=False, on_delete=OnDelete.cascade, index=True)
    member = ForeignKey(PartyMember, null=False, on_delete=OnDelete.cascade, index=True)
    status = Varchar(length=16, index=True)  # claimed | reported | confirmed | refused
    hours = DoublePrecision(null=True, default=None)
    note = Text(default="")  # the member's report, or the reason for a refusal
    claimed_at = Timestamptz()
    reported_at = Timestamptz(null=True, default=None)
    confirmed_by = Integer(null=True, default=None)  # who confirmed or refused
    confirmed_at = Timestamptz(null=True, default=None)


class WorkerGrade(Table, tablename="worker_grade"):
    """A community worker's post and grade (社区工作者"三岗十八级"); see ``rules.GRADE_RANGES``."""

    id: Serial  # the primary key Piccolo adds

    person = ForeignKey(Person, null=False, unique=True, on_delete=OnDelete.cascade)
    post = Varchar(length=16)  # 正职 | 副职 | 其他
    grade = Integer()  # 1..18
    set_by = Integer()
    set_at = Timestamptz()


class BranchStar(Table, tablename="branch_star"):
    """A party branch's stars in a period's contest (比武争星, 最强党支部). ``area_code`` is a
    grid's code for the branch on that grid, or an area's for its party organisation; one row
    per (area_code, period), by a unique index from the migration."""

    id: Serial  # the primary key Piccolo adds

    area_code = Varchar(length=16, index=True)
    period = Varchar(length=7)  # YYYY, YYYY-Qn or YYYY-MM
    stars = Integer()  # 1..5
    title = Varchar(length=32, default="")
    set_by = Integer()
    set_at = Timestamptz()
