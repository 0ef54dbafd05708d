from piccolo.columns import BigInt, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class Event(Table, tablename="event"):
    # Assigned from EventClock, in commit order; never by the database.
    id = BigInt(primary_key=True)
    at = Timestamptz()
    type = Varchar(length=48)
    # What the event is about, e.g. "case:42" or "grids".
    subject = Varchar(length=64)
    # The code of the smallest area it concerns (a grid's or an area's); readers subscribe by
    # prefix, so a community sees its grids' events and the city sees everything.
    scope = Varchar(length=16, index=True)
    actor = Integer(null=True, default=None)
    payload = Text()  # JSON


class EventClock(Table, tablename="event_clock"):
    """One row: the last event id handed out."""

    id: Serial  # the primary key Piccolo adds

    last = BigInt()
