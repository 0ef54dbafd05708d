from piccolo.columns import BigInt, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.people.tables import Person


class PushSubscription(Table, tablename="push_subscription"):
    """A device of a person that accepted notifications: what its browser's PushManager gave."""

    id: Serial  # the primary key Piccolo adds
    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade, index=True)
    # A push service's URL for this one device; a device subscribing again moves to its person.
    endpoint = Varchar(length=1024, unique=True)
    p256dh = Varchar(length=128)
    auth = Varchar(length=64)
    created_at = Timestamptz()


class NotifyPreference(Table, tablename="notify_preference"):
    """A person's kinds turned off and quiet hours (local "HH:MM", none when both are empty)."""

    id: Serial  # the primary key Piccolo adds
    person = ForeignKey(Person, null=False, unique=True, on_delete=OnDelete.cascade)
    off = Text(default="[]")  # JSON list of kinds
    quiet_from = Varchar(length=5, default="")
    quiet_until = Varchar(length=5, default="")


class Notice(Table, tablename="notice"):
    """One item of a person's notice list: the text every channel sends."""

    id: Serial  # the primary key Piccolo adds
    # "<source>:<person>", e.g. "e42:7" for event 42 or "due:5:1733560000:7" for a due time
    # about to pass: made once, however many times the sender reads the same source.
    key = Varchar(length=64, unique=True)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=24)
    title = Varchar(length=128)
    body = Varchar(length=512)
    url = Varchar(length=256)
    at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


class Outbox(Table, tablename="notify_outbox"):
    """A message to send: one per notice and channel ("push:<subscription id>" or "sms")."""

    id: Serial  # the primary key Piccolo adds
    key = Varchar(length=96, unique=True)  # the notice's key and the channel
    # None for a text message to a case's contact phone: no account, no notice list.
    notice = ForeignKey(Notice, null=True, on_delete=OnDelete.cascade, index=True)
    channel = Varchar(length=24)
    phone = Varchar(length=20, default="")  # for SMS
    template = Varchar(length=32, default="")
    params = Text(default="{}")  # JSON, the SMS template's
    status = Varchar(length=8, default="pending", index=True)  # pending sent gone failed
    tries = Integer(default=0)
    next_at = Timestamptz()  # not before: quiet hours, a retry's backoff
    lease_until = Timestamptz(null=True, default=None)  # taken by a process until then
    error = Varchar(length=200, default="")
    sent_at = Timestamptz(null=True, default=None)


class NotifyCursor(Table, tablename="notify_cursor"):
    """One row: the last event the sender has turned into notices."""

    id: Serial  # the primary key Piccolo adds
    last = BigInt(default=0)
