"""``complaint.erased``: intake erased the complaint's personal data, so notification erases its own copies: the
complainant's messages, the e-mails and SMS dispatched or waiting (and the SMS log's records naming the complaint),
the company webhooks' delivery log with their payloads, the company name kept for the complaint, and every entry
about the complaint in notification's outbox; with the inbox entry in one transaction. E-mails already sent are the
recipient's; nothing here keeps a copy of one."""

from __future__ import annotations

import logging

from pymongo.asynchronous.client_session import AsyncClientSession

from greenchannel.contracts import CloudEvent, ComplaintErased
from greenchannel.runtime import ServiceRuntime
from notification.adapters.deliveries import DeliveryRepository
from notification.adapters.dispatches import DispatchRepository
from notification.adapters.messages import CompanyNames, MessageRepository
from notification.adapters.sms import erase_sms_log

log = logging.getLogger(__name__)


class ErasureHandler:
    def __init__(
        self,
        runtime: ServiceRuntime,
        messages: MessageRepository,
        company_names: CompanyNames,
        dispatches: DispatchRepository,
        deliveries: DeliveryRepository,
    ) -> None:
        self.runtime = runtime
        self.messages = messages
        self.company_names = company_names
        self.dispatches = dispatches
        self.deliveries = deliveries

    async def on_erased(self, event: CloudEvent, erased: ComplaintErased) -> None:
        number = erased.number

        async def erase(session: AsyncClientSession) -> None:
            await self.messages.erase(number, session)
            await self.company_names.erase(number, session)
            await self.dispatches.erase(number, session)
            await erase_sms_log(self.runtime.db, number, session)
            await self.deliveries.erase(number, session)
            await self.runtime.outbox.forget(number, session=session)

        if await self.runtime.inbox.handle_once(event, erase):
            log.info("complaint %s: notification's copies erased", number)
