"""A company administrator's API keys: issue one with a label (the key is shown once), list them with their last use,
revoke one. The company's systems use them on the company API (``X-Api-Key``); only the key's hash is kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from greenchannel.problems import Problem
from intake.api.dependencies import CompanyAdminDep, IntakeDep
from intake.api.schemas import ApiKeyIssued

router = APIRouter(prefix="/v1/company/api-keys", tags=["company staff"])

KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The key's id.")]


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class CompanyApiKey(BaseModel):
    key_id: str
    label: str
    created_at: str
    last_used_at: str | None = Field(description="Within a minute; null if never used.")
    revoked_at: str | None


class CompanyApiKeys(BaseModel):
    items: list[CompanyApiKey]


def _view(key: dict[str, Any]) -> dict[str, Any]:
    def iso(name: str) -> str | None:
        value = key.get(name)
        return value.isoformat() if value is not None else None

    return {
        "key_id": key["key_id"],
        "label": key.get("label", ""),
        "created_at": key["created_at"].isoformat(),
        "last_used_at": iso("last_used_at"),
        "revoked_at": iso("revoked_at"),
    }


@router.get("", response_model=CompanyApiKeys, operation_id="company.api_keys.list", summary="Your company's API keys")
async def list_keys(intake: IntakeDep, administrator: CompanyAdminDep) -> dict[str, Any]:
    keys = await intake.identities.list_api_keys(administrator.id)
    return {"items": [_view(key) for key in sorted(keys, key=lambda key: key["created_at"], reverse=True)]}


@router.post(
    "",
    response_model=ApiKeyIssued,
    status_code=201,
    operation_id="company.api_keys.issue",
    summary="Issue an API key with a label; the key is shown this once",
)
async def issue_key(body: NewKey, intake: IntakeDep, administrator: CompanyAdminDep) -> dict[str, Any]:
    return await intake.identities.issue_api_key(administrator.id, body.label, f"company:{administrator.account_id}")


@router.delete("/{key_id}", status_code=204, operation_id="company.api_keys.revoke", summary="Revoke an API key")
async def revoke_key(key_id: KeyId, intake: IntakeDep, administrator: CompanyAdminDep) -> Response:
    if not await intake.identities.revoke_api_key(key_id, administrator.id):
        raise Problem(404, "api_key_not_found", "Your company has no active API key with this id.")
    return Response(status_code=204)
