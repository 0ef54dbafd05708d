from piccolo.columns import (
    UUID,
    BigInt,
    Boolean,
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


class Category(Table, tablename="category"):
    id: Serial  # the primary key Piccolo adds
    code = Varchar(length=16, unique=True)
    name = Varchar(length=64)
    parent = Varchar(length=16, null=True, default=None)
    post = Varchar(length=24, null=True, default=None)  # who in the grid receives it by default
    # JSON {priority: hours}: to accept (立案), and to close.
    accept_hours = Text(default="{}")
    limits = Text(default="{}")
    # JSON {priority: hours}: to dispatch once accepted, to handle once dispatched, and to
    # verify (核查) once handled.
    dispatch_hours = Text(default="{}")
    handle_hours = Text(default="{}")
    verify_hours = Text(default="{}")
    # JSON {stage: [priority, …]}: the limits counted in calendar hours; the others run in the
    # city's working time (backend/core/worktime.py).
    calendar_hours = Text(default="{}")
    department = Varchar(length=32, null=True, default=None)  # the department it goes to
    # Never deleted once used: a retired category takes no new case, old cases keep it.
    retired = Boolean(default=False)


class Case(Table, tablename="case_record"):
    id: Serial  # the primary key Piccolo adds
    # The phone's own id for the case: sending the same create twice makes one case.
    client_id = UUID(unique=True)
    kind = Varchar(length=16)
    source = Varchar(length=16, default="app", index=True)  # states.Source
    source_system = Varchar(length=64, null=True, default=None)  # the Open311 client's name
    # Looked up by case_record_nearby (category, cell, created_at, status), its first column.
    category = Varchar(length=16)
    description = Text()
    lon = DoublePrecision()  # WGS 84, converted from the client's crs at the edge
    lat = DoublePrecision()
    crs = Varchar(length=8)  # the crs the client sent
    # The lattice cell of (lon, lat) (geo/cells.py): the nearby-duplicate search's key.
    cell = BigInt(default=0)
    address = Varchar(length=256, default="")
    # Routing as it was when the case arrived: grids can be re-imported later, the history stays.
    grid_code = Varchar(length=16, null=True, default=None)
    area_codes = Varchar(length=64, default="")  # community,street,district at that time
    owner_code = Varchar(length=16, index=True)  # the grid or area that owns it now
    reporter = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    contact_phone = Varchar(length=20, null=True, default=None)
    priority = Varchar(length=8, default="normal")
    status = Varchar(length=16, index=True)
    assignee = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    department = Varchar(length=32, null=True, default=None)
    due_at = Timestamptz(null=True, default=None)
    rework_count = Integer(default=0)
    reopen_count = Integer(default=0)
    escalations = Integer(default=0)
    closed_at = Timestamptz(null=True, default=None)
    rating = Integer(null=True, default=None)
    extension_seconds = Integer(null=True, default=None)
    shelved_until = Varchar(length=10, null=True, default=None)  # ISO date
    # A return, shelving or void waiting for approval, as JSON (records.py): at most one.
    pending = Text(null=True, default=None)
    # When its void was approved: a case overdue by then still counts as overdue.
    voided_at = Timestamptz(null=True, default=None)
    supervise_due_at = Timestamptz(null=True, default=None)  # a 督办 order's own due time
    # Moves (issue 17). Lists are kept as ",a,b," text, so that SQL finds a member with LIKE
    # '%,a,%' on both databases (records.py writes and reads them).
    transfer_to = Varchar(length=16, null=True, default=None)  # 移交 waiting for its answer
    grid_history = Varchar(length=256, null=True, default=None)  # earlier grid_codes, oldest first
    departments = Varchar(length=256, null=True, default=None)  # 联办: joined to ``department``
    merged_into = Integer(null=True, default=None, index=True)  # 并案: the main case's id
    followers = Text(null=True, default=None)  # person ids: reporters of cases merged into it
    paused_at = Timestamptz(null=True, default=None)  # 挂起 since then: the clock stands still
    # 派遣 deadline set at acceptance (the category's dispatch_hours), and the first dispatch:
    # the assessment's 应派遣数 and 按时派遣率 read them off the row.
    dispatch_due_at = Timestamptz(null=True, default=None, index=True)
    dispatched_at = Timestamptz(null=True, default=None)
    dispatched_by = Integer(null=True, default=None)  # a person's id, as the event's actor
    # The other stages' deadlines (立案, 处置, 核查 时限) and who met them: set at submission, at
    # the dispatch and at each handling (cases/actions.py); the assessment's 按时立案率, 处置率,
    # 按时处置率 and 按时核查率 read them off the row, and find the cases whose deadline fell in
    # a period by the indexes on the deadlines. Set from this migration on (none before).
    accept_due_at = Timestamptz(null=True, default=None, index=True)
    accepted_at = Timestamptz(null=True, default=None)
    accepted_by = Integer(null=True, default=None)
    handle_due_at = Timestamptz(null=True, default=None, index=True)
    handled_at = Timestamptz(null=True, default=None)  # the last handling
    handled_by = Integer(null=True, default=None)
    verify_due_at = Timestamptz(null=True, default=None, index=True)
    verified_at = Timestamptz(null=True, default=None)  # verified or sent back
    verified_by = Integer(null=True, default=None)
    self_handled = Boolean(default=False)  # first handled on the spot by its finder (自处置)
    # The first of each action the assessment counts by, and who took it (cases/firsts.py).
    first_accepted_at = Timestamptz(null=True, default=None)
    first_accepted_by = Integer(null=True, default=None)
    first_handled_at = Timestamptz(null=True, default=None)
    first_handled_by = Integer(null=True, default=None)
    first_verified_at = Timestamptz(null=True, default=None)
    first_verified_by = Integer(null=True, default=None)
    first_escalated_at = Timestamptz(null=True, default=None)
    first_escalated_by = Integer(null=True, default=None)
    repeated_actions = Boolean(default=False)  # accepted, verified or escalated again
    # An anonymous request's tracking code, keyed with the server's secret (anonymous.py): the
    # code itself is never stored. Unique through an index of its own (a migration's raw SQL:
    # SQLite cannot add a UNIQUE column to a table that exists).
    tracking_key = Varchar(length=64, null=True, default=None)
    # Bumped by every change: two handlers acting on the same version, one wins, one gets 409.
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class CasePhoto(Table, tablename="case_photo"):
    id: Serial  # the primary key Piccolo adds
    # The phone's own id for the upload: sending the same photo twice stores it once.
    client_id = UUID(unique=True)
    case_id = ForeignKey(Case, null=False, on_delete=OnDelete.cascade, index=True)
    # Random hex names of the files under data/photos: never the name the client sent.
    file_id = Varchar(length=32, unique=True)
    thumb_id = Varchar(length=32, unique=True)
    content_type = Varchar(length=16)  # of the stored file; the thumbnail is always JPEG
    width = Integer()
    height = Integer()
    bytes = Integer()
    uploaded_by = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


class Department(Table, tablename="department"):
    """A functional department (职能部门) that streets and higher levels dispatch cases to."""

    id: Serial  # the primary key Piccolo adds

    code = Varchar(length=32, unique=True)  # what a case's ``department`` column holds
    name = Varchar(length=32)  # 城管
    full_name = Varchar(length=128)  # 城市管理综合行政执法局


class DepartmentMember(Table, tablename="department_member"):
    """The department a person with the role ``department`` works for; the person's area, if
    any, limits them to the cases owned inside it (a district's 城管 bureau)."""

    id: Serial  # the primary key Piccolo adds

    person = ForeignKey(Person, null=False, unique=True, on_delete=OnDelete.cascade)
    department = ForeignKey(Department, null=False, on_delete=OnDelete.restrict, index=True)
