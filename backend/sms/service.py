"""What other features use of text messages: :func:`send_sms`, and the verification codes
that sign-up and password resets send with it."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from backend.core.errors import ApiError, Unavailable
from backend.core.phones import masked_phone
from backend.core.settings import Settings
from backend.sms import codes, providers
from backend.sms.providers import SmsFailed
from backend.sms.providers import console_file as console_file
from backend.sms.tables import SmsMessage
from backend.sms.templates import TEMPLATES

log = logging.getLogger("wangge.sms")

CODE_TTL = codes.TTL
CODE_TRIES = codes.MAX_TRIES
CAP_WINDOW = timedelta(hours=24)
RETRY_AFTER_S = 60  # what a 503 asks: providers' outages are mostly short


class SmsUnavailable(Unavailable):
    """503 ``sms_unavailable``: the provider failed; nothing was sent."""

    def __init__(self, reason: str) -> None:
        super().__init__("sms_unavailable", reason, headers={"Retry-After": str(RETRY_AFTER_S)})


class SmsCapReached(ApiError):
    """429 ``sms_daily_cap``: this phone was sent its share of messages for 24 hours."""

    def __init__(self, cap: int, retry_after: int) -> None:
        super().__init__(
            429,
            "sms_daily_cap",
            f"this phone was sent {cap} messages in 24 hours; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


async def send_sms(
    phone: str, template: str, params: Mapping[str, str], *, settings: Settings
) -> str:
    """Send the message ``template`` (a name in backend/sms/templates.py) with ``params`` to
    ``phone``; the provider's id for it. 429 :class:`SmsCapReached` past the daily cap per
    phone, 503 :class:`SmsUnavailable` when the provider fails."""
    chosen = TEMPLATES[template]
    if set(params) != set(chosen.params):
        raise ValueError(f"template {template} takes {chosen.params}, not {sorted(params)}")
    await _check_cap(phone, settings.sms_daily_cap)
    now = datetime.now(UTC)
    row = SmsMessage(
        phone=phone, template=template, provider=settings.sms, status="sent", sent_at=now
    )
    try:
        row.provider_id = (await providers.send(settings, phone, chosen, params))[:64]
    except SmsFailed as failed:
        log.error("SMS to %s (%s) failed: %s", masked_phone(phone), template, failed)
        row.status, row.error = "failed", f"{failed.code}: {failed.message}"[:200]
        await SmsMessage.insert(row)
        raise SmsUnavailable(
            f"the text message could not be sent ({failed.provider}: {failed.code})"
        ) from failed
    await SmsMessage.insert(row)
    return row.provider_id


async def _check_cap(phone: str, cap: int) -> None:
    since = datetime.now(UTC) - CAP_WINDOW
    sent = (
        await SmsMessage.select(SmsMessage.sent_at)
        .where(
            (SmsMessage.phone == phone)
            & (SmsMessage.status == "sent")
            & (SmsMessage.sent_at > since)
        )
        .order_by(SmsMessage.sent_at)
    )
    if len(sent) >= cap:
        # Free again when the oldest message counted leaves the window.
        oldest = sent[len(sent) - cap]["sent_at"]
        wait = (oldest + CAP_WINDOW - datetime.now(UTC)).total_seconds()
        raise SmsCapReached(cap, max(1, math.ceil(wait)))


async def send_code(phone: str, purpose: str, *, settings: Settings) -> None:
    """A new verification code for ``phone`` and ``purpose``, stored and sent."""
    code = codes.new_code()
    await codes.store(phone, purpose, code, settings.secret_key)
    await send_sms(phone, "verification_code", {"code": code}, settings=settings)


async def use_code(phone: str, purpose: str, code: str, *, settings: Settings) -> None:
    """Spend the phone's live code for ``purpose``; 403 ``code_expired``, ``code_exhausted``
    or ``wrong_code`` (with ``tries_left``) otherwise."""
    await codes.use(phone, purpose, code, settings.secret_key)
