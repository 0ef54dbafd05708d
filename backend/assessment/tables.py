from piccolo.columns import DoublePrecision, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class AssessmentWeight(Table, tablename="assessment_weights"):
    """One weight of the composite score: a level's indicator. A unique index on (level,
    indicator) is made by the migration."""

    id: Serial  # the primary key Piccolo adds

    level = Varchar(length=16)
    indicator = Varchar(length=32)
    weight = DoublePrecision()
    set_by = Integer(null=True, default=None)  # the admin's person id
    set_at = Timestamptz()
