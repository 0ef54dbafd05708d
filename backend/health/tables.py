from piccolo.columns import Serial, Timestamptz
from piccolo.table import Table


class HealthProbe(Table, tablename="health_probe"):
    id: Serial  # the primary key Piccolo adds
    # One row, rewritten by every health check: a write as small as a write can be, which
    # still fails the way the app's writes would (a full disk, a read-only database).
    checked_at = Timestamptz()
