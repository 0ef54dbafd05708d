from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.cases.tables import Case
from backend.people.tables import Person


class HotlineCall(Table, tablename="hotline_call"):
    """A 12345 call an operator typed in: its case, the caller, and the call back (回访)."""

    id: Serial  # the primary key Piccolo adds
    case = ForeignKey(Case, null=False, unique=True, on_delete=OnDelete.cascade)
    caller_phone = Varchar(length=20, index=True)  # the case's contact_phone too
    caller_name = Varchar(length=64, default="")
    operator = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    centre_code = Varchar(length=12)  # the area of the operator's hotline centre
    # Where the case's point lies (its grid, else the smallest area), as intake placed it: the
    # centre of that area calls back, wherever the case has been escalated to since.
    place_code = Varchar(length=16, index=True)
    taken_at = Timestamptz()
    sms_sent_at = Timestamptz(null=True, default=None)  # the tracking code's text message
    sms_error = Varchar(length=64, null=True, default=None)  # why it was not sent
    called_back_at = Timestamptz(null=True, default=None)
    called_back_by = ForeignKey(Person, null=True, on_delete=OnDelete.set_null)
    callback_rating = Integer(null=True, default=None)  # also the case's rating (满意率)
    callback_comment = Varchar(length=200, null=True, default=None)
