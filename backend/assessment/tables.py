from piccolo.columns import DoublePrecision, Integer, Serial, Text, Timestamptz, Varchar
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


class AssessmentPublication(Table, tablename="assessment_publication"):
    """A published (公示) period: its figures at every level as they stood when the city
    admin published them, answered for that period from then on. One per period (unique)."""

    id: Serial  # the primary key Piccolo adds

    period = Varchar(length=8, unique=True)
    published_at = Timestamptz()
    published_by = Integer(null=True, default=None)  # the admin's person id
    figures = Text()  # JSON: level → the assessment answer of the whole city
    # JSON: level@source → the answer of the cases that came in by that door, apart: the
    # whole city's are what is read after (a sixth of a city's publication).
    by_source = Text(default="{}")
