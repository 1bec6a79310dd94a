"""Who may file how often: fair to the many complainants who share one address.

Behind a carrier's NAT (CGNAT) or a company's proxy, thousands of people reach the platform from one IPv4
address, so a low per-address limit would refuse strangers for each other. Filing is therefore counted
three ways, each in its own hourly window shared by every replica:

* per source (an IPv4 address, or the /64 of an IPv6 address, which one subscriber usually holds): a high
  ceiling that only a flood from one source reaches;
* per complainant (the keyed hash of the ID number given on the form): what stops one person repeating;
* per phone (the keyed hash of the phone number): what stops one person varying the ID number.

The keys are keyed hashes (``blind_index``): the counters hold no personal data.
"""

from __future__ import annotations

from intake.adapters.pii import KeyedHash
from intake.adapters.rate_limits import RateLimiter, Rule
from intake.config import Settings
from intake.domain.filing import Complainant
from intake.domain.guessing import source_key

HOUR_S = 3600


class FilingLimits:
    def __init__(self, settings: Settings, limiter: RateLimiter, blind_index: KeyedHash) -> None:
        self.limiter = limiter
        self.blind_index = blind_index
        self.per_source = Rule("filing-source", settings.filings_per_ip_per_hour, HOUR_S)
        self.per_complainant = Rule("filing-complainant", settings.filings_per_complainant_per_hour, HOUR_S)
        self.per_phone = Rule("filing-phone", settings.filings_per_complainant_per_hour, HOUR_S)

    async def admit(self, client: str, complainant: Complainant) -> None:
        """Count one filing by ``complainant`` from ``client``; 429 once any of its windows is full."""
        # The person's own windows first: one complainant repeating uses up theirs, not the address's.
        await self.limiter.hit(self.per_complainant, self.blind_index.digest(complainant.id_number))
        await self.limiter.hit(self.per_phone, self.blind_index.digest(complainant.phone))
        await self.limiter.hit(self.per_source, source_key(client))
