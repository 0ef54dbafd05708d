from piccolo.columns import BigSerial, DoublePrecision, ForeignKey, Serial, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.people.tables import Person


class TrackPoint(Table, tablename="track_point"):
    """An accepted fix of a worker on duty, for patrol logs. A unique index on (person, at),
    made by the migration, keeps a retried upload from doubling the track."""

    # Fixes pile up fast (1,000 workers at one a second fill 32 bits in 25 days).
    id = BigSerial(primary_key=True)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade)
    at = Timestamptz()
    lon = DoublePrecision()
    lat = DoublePrecision()
    accuracy = DoublePrecision()


class DutyPeriod(Table, tablename="duty_period"):
    """From a worker's "duty on" to their "duty off" (or their socket closing); open while
    ``ended_at`` is null."""

    id: Serial  # the primary key Piccolo adds

    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade, index=True)
    started_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
