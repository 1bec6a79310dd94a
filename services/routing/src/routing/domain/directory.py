"""The company directory's rules: what a company record holds and how free text finds a company.

Matching is an exact match after normalisation, never a fuzzy one, so a complaint is only ever
addressed to a company the complainant clearly named. Normalisation folds Unicode compatibility
forms (NFKC: full-width letters, digits, parentheses and the ideographic space), case, and
whitespace; a web address is also reduced to its host name without ``www.``, and a sub-domain
also tries each parent domain, most specific first (``m.xunlian.com/help`` finds ``xunlian.com``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

COMPANY_ID_PATTERN = r"^c-[a-z0-9][a-z0-9-]{0,62}$"

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


class Company(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(pattern=COMPANY_ID_PATTERN, examples=["c-xunlian"])
    name: str = Field(min_length=1, description="Registered Chinese name.")
    name_en: str = Field(min_length=1, description="English name.")
    aliases: tuple[str, ...] = Field(default=(), description="Short names and brands.")
    apps: tuple[str, ...] = Field(default=(), description="Names of the company's apps and services.")
    domains: tuple[str, ...] = Field(default=(), description="Web domains, without scheme or www.")
    user_base_millions: float | None = Field(default=None, ge=0)


def normalise(text: str) -> str:
    """Compatibility-fold, case-fold and drop all whitespace: "Ｘｕｎ　Ｌｉａｎ" -> "xunlian"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if not char.isspace())


def host_name(text: str) -> str | None:
    """The host name of a normalised web address or bare domain, without ``www.``; None if it is not one."""
    host = _SCHEME.sub("", text)
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    host = host.removeprefix("www.")
    return host if _HOST.match(host) else None


def lookup_keys(text: str) -> list[str]:
    """The keys free text is looked up by, most specific first; empty when nothing is left of it."""
    plain = normalise(text)
    if not plain:
        return []
    keys = [plain]
    host = host_name(plain)
    if host is not None:
        labels = host.split(".")
        keys.extend(".".join(labels[i:]) for i in range(len(labels) - 1))
    return list(dict.fromkeys(keys))


def company_keys(company: Company) -> list[str]:
    """Every key that names ``company``: its names, aliases and app names, and its domains."""
    keys = [normalise(text) for text in (company.name, company.name_en, *company.aliases, *company.apps)]
    for domain in company.domains:
        normalised = normalise(domain)
        keys.append(host_name(normalised) or normalised)
    return list(dict.fromkeys(key for key in keys if key))


@dataclass(frozen=True)
class Resolution:
    """The company a complaint is addressed to, or why there is none."""

    company: Company | None
    detail: str = ""


def resolve_by_id(company_id: str, found: Company | None) -> Resolution:
    if found is None:
        return Resolution(None, f"No company with id {company_id!r} is in the directory.")
    return Resolution(found)


def resolve_by_name(text: str | None, candidates: Iterable[Company]) -> Resolution:
    """The one company ``text`` names among ``candidates``, trying the most specific key first."""
    keys = lookup_keys(text or "")
    if not keys:
        return Resolution(None, "The complaint names no company.")
    indexed = [(company, set(company_keys(company))) for company in candidates]
    for key in keys:
        matches = [company for company, names in indexed if key in names]
        if len(matches) == 1:
            return Resolution(matches[0])
        if len(matches) > 1:
            names = "、".join(sorted(company.name for company in matches))
            return Resolution(None, f"{text!r} could mean more than one company ({names}); name it by its id.")
    return Resolution(None, f"No company in the directory is called {text!r}.")


def search_rank(company: Company, query_keys: Sequence[str]) -> int | None:
    """How well ``company`` matches a search: 0 exact, 1 prefix, 2 substring of one of its keys; None if not."""
    best: int | None = None
    for name in company_keys(company):
        for key in query_keys:
            if name == key:
                rank = 0
            elif name.startswith(key):
                rank = 1
            elif key in name:
                rank = 2
            else:
                continue
            best = rank if best is None else min(best, rank)
    return best


def search(companies: Iterable[Company], query: str, limit: int) -> list[Company]:
    """Companies whose names, aliases, apps or domains contain ``query``: best match first, then bigger user base."""
    keys = lookup_keys(query)
    if not keys:
        ranked = sorted(companies, key=lambda company: company.id)
        return ranked[:limit]
    scored = [(rank, company) for company in companies if (rank := search_rank(company, keys)) is not None]
    scored.sort(key=lambda pair: (pair[0], -(pair[1].user_base_millions or 0), pair[1].id))
    return [company for _, company in scored[:limit]]
