from piccolo.columns import Boolean, Date, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class CalendarOverride(Table, tablename="calendar_override"):
    """A day the city works or rests against the national calendar: a local festival off, a
    Saturday worked before a flood season. Removing it returns the day to the national rule."""

    id: Serial  # the primary key Piccolo adds

    day = Date(unique=True)
    working = Boolean()  # True: an extra working day; False: a day off
    reason = Varchar(length=128)
    set_by = Integer(null=True, default=None)  # a person's id: outlives the people table's rows
    set_at = Timestamptz()


class WorkingHours(Table, tablename="working_hours"):
    """The city's working hours as set, newest last; none set: 08:30–12:00, 14:30–18:00."""

    id: Serial  # the primary key Piccolo adds

    hours = Varchar(length=128)  # 08:30-12:00,14:30-18:00 (worktime.parse_hours)
    set_by = Integer(null=True, default=None)
    set_at = Timestamptz()
