from piccolo.columns import Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class SmsMessage(Table, tablename="sms_message"):
    """A message sent (or tried): what the daily cap per phone counts, and the trail an
    operator follows when a resident says no code came. The text is not kept: it may hold a
    verification code."""

    id: Serial  # the primary key Piccolo adds
    phone = Varchar(length=20, index=True)
    template = Varchar(length=32)
    provider = Varchar(length=16)
    status = Varchar(length=8)  # sent, failed
    provider_id = Varchar(length=64, default="")  # the provider's BizId / SerialNo
    error = Varchar(length=200, default="")
    sent_at = Timestamptz()


class SmsCode(Table, tablename="sms_code"):
    """The one live verification code of a phone for a purpose (sign_up, reset), keyed with
    the server's secret: a copy of the database gives no code, nor a way to try them offline."""

    id: Serial  # the primary key Piccolo adds
    phone = Varchar(length=20)
    purpose = Varchar(length=16)
    code_hash = Varchar(length=64)
    tries = Integer(default=0)
    expires_at = Timestamptz()
