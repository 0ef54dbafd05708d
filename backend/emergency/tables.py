from piccolo.columns import DoublePrecision, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class EmergencyMode(Table, tablename="emergency_mode"):
    """One switch of an area into emergency and, once ``ended_at`` is set, back to peacetime.

    At most one mode per area is active: the migration adds a unique index on ``area_code``
    over the rows with no ``ended_at``, so two admins switching one area at once get one mode.
    """

    id: Serial  # the primary key Piccolo adds

    area_code = Varchar(length=16, index=True)  # any level, a grid included
    kind = Varchar(length=16)  # epidemic, flood, fire, other
    factor = DoublePrecision()  # the time-limit multiplier, in (0, 1]
    reason = Text()
    started_at = Timestamptz()
    started_by = Integer()  # a person's id: the history outlives the people table's rows
    ended_at = Timestamptz(null=True, default=None)
    ended_by = Integer(null=True, default=None)
    end_reason = Text(default="")
