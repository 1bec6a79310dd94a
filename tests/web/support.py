"""What the browser tests share besides fixtures: the catalogs they compare pages with, and the operator
and company credentials they act with through the API."""

from __future__ import annotations

from intake.web.i18n import catalog

ADMIN = {"login": "admin", "password": "development-only-admin-password"}
ZH = catalog("zh-CN")
EN = catalog("en")


async def operator_headers(platform) -> dict[str, str]:
    token = (await platform.intake.post("/v1/ops/auth/token", json=ADMIN)).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def company_key(platform, company_id: str) -> dict[str, str]:
    issued = await platform.intake.post(
        f"/v1/ops/companies/{company_id}/api-keys", json={"label": "web"}, headers=await operator_headers(platform)
    )
    assert issued.status_code == 201, issued.text
    return {"X-Api-Key": issued.json()["api_key"]}
