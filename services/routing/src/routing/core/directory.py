"""Operators add a company to the directory or correct one; screening resolves complaints against it from then on."""

from __future__ import annotations

from routing.adapters.companies import CompanyRepository
from routing.domain.directory import Company


class DirectoryEditing:
    def __init__(self, companies: CompanyRepository) -> None:
        self.companies = companies

    async def save(self, company: Company) -> bool:
        """Create or replace ``company`` as the operator wrote it; ``True`` when it is new."""
        return await self.companies.save(company)
