"""The dispatch job: sends the complainant's e-mails and SMS, claimed with a lease and retried with backoff.

For each due dispatch it asks intake for the complainant's contact (events carry no personal
data), then sends through the channel:
* intake has no contact (404): ``no_contact``; no address for the channel: ``no_address``; both final;
* sent: ``sent`` (with the provider's reference for SMS);
* intake unreachable, the SMTP server away or answering 4xx, the SMS provider failing: tried again
  after the next delay of the schedule, ``failed`` when it is exhausted; an SMTP 5xx refusal fails at once.
The address is used for the one attempt: it is neither stored nor logged, and error descriptions leave it out.

A one-time code's dispatch carries its address and text sealed (``account.code_issued``): it is
opened at each attempt, sent unless the code has expired (``expired``), and forgotten when the
dispatch ends.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from pydantic import ValidationError

from greenchannel.contracts import CodeNotice, code_notice_field
from greenchannel.sealing import KeyRingCipher
from notification.adapters.contacts import ContactUnavailable, IntakeContacts
from notification.adapters.deliveries import LeaseLost
from notification.adapters.dispatches import DispatchRepository
from notification.adapters.mailer import MailNotSent, SmtpMailer
from notification.adapters.sms import SmsNotSent, SmsProvider
from notification.domain.account_codes import code_message
from notification.domain.dispatches import Channel, DispatchStatus
from notification.domain.schedule import next_attempt_at
from notification.jobs.workloop import ClaimLoop

log = logging.getLogger(__name__)


class _Retry(Exception):
    def __init__(self, description: str, *, permanent: bool = False) -> None:
        super().__init__(description)
        self.permanent = permanent


class DispatchWorker:
    def __init__(
        self,
        *,
        dispatches: DispatchRepository,
        contacts: IntakeContacts,
        mailer: SmtpMailer | None,
        sms: SmsProvider,
        code_transport: KeyRingCipher,
        retry_schedule_s: list[float],
        lease_s: float,
        poll_interval_s: float,
        concurrency: int,
    ) -> None:
        self.dispatches = dispatches
        self.contacts = contacts
        self.mailer = mailer
        self.sms = sms
        self.code_transport = code_transport
        self.retry_schedule_s = list(retry_schedule_s)
        self.lease_s = lease_s
        self._loop = ClaimLoop(
            name="dispatch",
            claim=lambda: self.dispatches.claim_due(self.lease_s),
            attempt=self.attempt,
            poll_interval_s=poll_interval_s,
            concurrency=concurrency,
            lease_s=lease_s,
        )

    def wake(self) -> None:
        self._loop.wake()

    @property
    def handover(self) -> ClaimLoop:
        """Where the dispatches this process creates go without being claimed (``reserve`` and ``take``)."""
        return self._loop

    async def run(self) -> None:
        await self._loop.run()

    async def attempt(self, dispatch: dict[str, Any]) -> None:
        try:
            await self._attempt(dispatch)
        except LeaseLost:
            log.warning("dispatch %s was taken over by another worker; its result is dropped", dispatch["_id"])
        except Exception:
            log.exception("attempt of dispatch %s failed", dispatch["_id"])

    async def _attempt(self, dispatch: dict[str, Any]) -> None:
        started = datetime.now(UTC)
        try:
            status, reference = await self._send(dispatch)
        except _Retry as error:
            attempt = {"at": started, "error": str(error)}
            attempts_made = len(dispatch["attempts"]) + 1
            retry_at = None if error.permanent else next_attempt_at(self.retry_schedule_s, attempts_made, started)
            if retry_at is None:
                await self.dispatches.finish(dispatch, attempt, DispatchStatus.FAILED)
                log.warning(
                    "%s dispatch %s failed after %d attempt(s): %s",
                    dispatch["channel"],
                    dispatch["_id"],
                    attempts_made,
                    error,
                )
            else:
                await self.dispatches.schedule_retry(dispatch, attempt, retry_at)
                log.info(
                    "%s dispatch %s attempt %d: %s; next at %s",
                    dispatch["channel"],
                    dispatch["_id"],
                    attempts_made,
                    error,
                    retry_at.isoformat(),
                )
            return
        await self.dispatches.finish(dispatch, {"at": started, "error": None}, status, provider_ref=reference)
        log.info(
            "%s dispatch %s for %s: %s",
            dispatch["channel"],
            dispatch["_id"],
            dispatch["number"] or "a one-time code",
            status,
        )

    async def _send(self, dispatch: dict[str, Any]) -> tuple[DispatchStatus, str | None]:
        """The final status (and provider reference) of this attempt; raises :class:`_Retry` otherwise."""
        channel = Channel(dispatch["channel"])
        if channel is Channel.EMAIL and self.mailer is None:
            return DispatchStatus.DISABLED, None  # e-mail was switched off after this dispatch was queued
        if dispatch.get("issue_id") is not None:
            return await self._send_code(dispatch, channel)
        try:
            contact = await self.contacts.lookup(dispatch["number"])
        except ContactUnavailable as error:
            raise _Retry(str(error)) from None
        if contact is None:
            return DispatchStatus.NO_CONTACT, None
        if channel is Channel.EMAIL:
            assert self.mailer is not None
            if not contact.email:
                return DispatchStatus.NO_ADDRESS, None
            message = self.mailer.compose(contact.email, dispatch["subject"], dispatch["text"], dispatch["_id"])
            try:
                await self.mailer.send(message)
            except MailNotSent as error:
                raise _Retry(f"smtp: {error}", permanent=error.permanent) from None
            return DispatchStatus.SENT, None
        if not contact.phone:
            return DispatchStatus.NO_ADDRESS, None
        try:
            reference = await self.sms.send(contact.phone, dispatch["text"])
        except SmsNotSent as error:
            raise _Retry(f"sms: {type(error).__name__}") from None
        return DispatchStatus.SENT, reference

    async def _send_code(self, dispatch: dict[str, Any], channel: Channel) -> tuple[DispatchStatus, str | None]:
        left_s = (dispatch["expires_at"] - datetime.now(UTC)).total_seconds()
        if left_s <= 0:
            return DispatchStatus.EXPIRED, None
        try:
            notice = CodeNotice.model_validate_json(
                self.code_transport.decrypt(code_notice_field(dispatch["issue_id"]), dispatch["sealed"])
            )
        except (InvalidTag, KeyError, ValueError, ValidationError):
            raise _Retry("the sealed notice does not open with the code transport keys", permanent=True) from None
        message = code_message(dispatch["purpose"], notice, max(1, round(left_s / 60)))
        if channel is Channel.EMAIL:
            assert self.mailer is not None
            try:
                await self.mailer.send(
                    self.mailer.compose(notice.destination, message.subject, message.text, dispatch["_id"])
                )
            except MailNotSent as error:
                raise _Retry(f"smtp: {error}", permanent=error.permanent) from None
            return DispatchStatus.SENT, None
        try:
            reference = await self.sms.send(
                notice.destination, message.sms, confidential=(notice.code,) if notice.code else ()
            )
        except SmsNotSent as error:
            raise _Retry(f"sms: {type(error).__name__}") from None
        return DispatchStatus.SENT, reference
