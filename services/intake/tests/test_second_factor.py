"""The admins' second factor against a real intake over SecantusDB: enrolment shows the secret once and ends the
sessions signed in with the password alone; from then on a sign-in needs the authenticator's code, each code
passes once (also when two sign-ins race with it); another admin resets it; and outside development mode an
admin acts as admin only with a sign-in that passed the code.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest

from devstack.servers import serve
from intake.config import Settings
from intake.main import create_app

pytestmark = pytest.mark.integration

ADMIN = {"login": "admin", "password": "development-only-admin-password"}
PASSWORD = "a-long-password-1"


def app_settings(mongo_url: str, db: str, namespace, **extra) -> Settings:
    # Routing, evidence and notification are unreachable: nothing here needs them.
    values = {
        "mongo_url": mongo_url,
        "mongo_db": db,
        "evidence_url": "http://127.0.0.1:9",
        "notification_url": "http://127.0.0.1:9",
        "routing_url": "http://127.0.0.1:9",
        "admin_token": "test-admin-token",
        "log_json": False,
        **namespace.settings_for("intake"),
    }
    return Settings(**{**values, **extra})


@pytest.fixture(scope="module")
async def intake(mongo_url, broker_namespace, run_id):
    settings = app_settings(mongo_url, f"t{run_id}_intake_second_factor", broker_namespace.isolated("intake-2fa"))
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


def bearer(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def code_after(secret: str, used: str) -> str:
    """A right code other than ``used``: the next step's (accepted within the clock drift allowed)."""
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    return next(code for code in (totp.at(now), totp.at(now + timedelta(seconds=30))) if code != used)


async def new_admin(intake: httpx.AsyncClient, login: str) -> None:
    chief = bearer(await intake.post("/v1/ops/auth/token", json=ADMIN))
    created = await intake.post(
        "/v1/ops/operators", headers=chief, json={"login": login, "password": PASSWORD, "roles": ["admin"]}
    )
    assert created.status_code == 201, created.text


async def enrol(intake: httpx.AsyncClient, login: str) -> tuple[str, str]:
    """Enrol ``login``'s second factor: its secret and the code that confirmed it."""
    password_only = await intake.post("/v1/ops/auth/token", json={"login": login, "password": PASSWORD})
    assert password_only.json()["second_factor"] == "enrol"
    begun = await intake.post("/v1/ops/auth/second-factor", headers=bearer(password_only))
    assert begun.status_code == 201, begun.text
    secret = begun.json()["secret"]
    code = pyotp.TOTP(secret).now()
    confirmed = await intake.post(
        "/v1/ops/auth/second-factor/confirm", headers=bearer(password_only), json={"one_time_code": code}
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, code


async def test_an_admin_enrols_once_and_then_signs_in_with_a_code_each_passing_once(intake):
    await new_admin(intake, "otp-chief")
    credentials = {"login": "otp-chief", "password": PASSWORD}
    password_only = await intake.post("/v1/ops/auth/token", json=credentials)
    assert password_only.json()["second_factor"] == "enrol"
    old = bearer(password_only)
    state = (await intake.get("/v1/ops/auth/second-factor", headers=old)).json()
    assert (state["status"], state["enrolled"], state["login"]) == ("enrol", False, "otp-chief")

    begun = (await intake.post("/v1/ops/auth/second-factor", headers=old)).json()
    secret = begun["secret"]
    assert begun["provisioning_uri"].startswith("otpauth://totp/") and f"secret={secret}" in begun["provisioning_uri"]
    assert len(base64.b32decode(secret)) == 20  # 160 bits
    wrong = await intake.post("/v1/ops/auth/second-factor/confirm", headers=old, json={"one_time_code": "000000"})
    assert (wrong.status_code, wrong.json()["code"]) == (400, "second_factor_invalid")
    # Until a code confirms it, the secret is only pending: sign-in still takes the password alone.
    assert (await intake.post("/v1/ops/auth/token", json=credentials)).json()["second_factor"] == "enrol"

    code = pyotp.TOTP(secret).now()
    confirmed = await intake.post("/v1/ops/auth/second-factor/confirm", headers=old, json={"one_time_code": code})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["second_factor"] == "verified"
    fresh = bearer(confirmed)
    assert (await intake.get("/v1/ops/auth/second-factor", headers=fresh)).json()["status"] == "verified"
    # The session signed in with the password alone ended with the enrolment.
    assert (await intake.get("/v1/ops/auth/second-factor", headers=old)).status_code == 401
    # The secret is shown once: a second enrolment is refused until an admin resets it.
    again = await intake.post("/v1/ops/auth/second-factor", headers=fresh)
    assert (again.status_code, again.json()["code"]) == (409, "second_factor_enrolled")

    missing = await intake.post("/v1/ops/auth/token", json=credentials)
    assert (missing.status_code, missing.json()["code"]) == (401, "second_factor_required")
    wrong = await intake.post("/v1/ops/auth/token", json={**credentials, "one_time_code": "12345"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "second_factor_invalid")
    # The code that confirmed the enrolment is used up; so is each code that signs in.
    replayed = await intake.post("/v1/ops/auth/token", json={**credentials, "one_time_code": code})
    assert (replayed.status_code, replayed.json()["code"]) == (401, "second_factor_invalid")
    following = code_after(secret, code)
    signed_in = await intake.post("/v1/ops/auth/token", json={**credentials, "one_time_code": following})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["second_factor"] == "verified"
    reused = await intake.post("/v1/ops/auth/token", json={**credentials, "one_time_code": following})
    assert (reused.status_code, reused.json()["code"]) == (401, "second_factor_invalid")
    # A wrong password with a right code tells nothing about the code.
    bad = await intake.post("/v1/ops/auth/token", json={**credentials, "password": "wrong-password-1"})
    assert (bad.status_code, bad.json()["code"]) == (401, "invalid_credentials")


async def test_two_sign_ins_racing_with_one_code_let_one_in(intake):
    await new_admin(intake, "otp-racer")
    secret, used = await enrol(intake, "otp-racer")
    code = code_after(secret, used)
    body = {"login": "otp-racer", "password": PASSWORD, "one_time_code": code}
    answers = await asyncio.gather(*(intake.post("/v1/ops/auth/token", json=body) for _ in range(4)))
    assert sorted(answer.status_code for answer in answers) == [200, 401, 401, 401]


async def test_another_admin_resets_a_lost_second_factor_and_its_holder_enrols_again(intake):
    await new_admin(intake, "otp-lost")
    secret, used = await enrol(intake, "otp-lost")
    holder = bearer(
        await intake.post(
            "/v1/ops/auth/token",
            json={"login": "otp-lost", "password": PASSWORD, "one_time_code": code_after(secret, used)},
        )
    )
    chief = bearer(await intake.post("/v1/ops/auth/token", json=ADMIN))
    listed = {row["login"]: row for row in (await intake.get("/v1/ops/operators", headers=chief)).json()}
    assert listed["otp-lost"]["second_factor"] is True and listed["otp-lost"]["roles"] == ["admin"]
    # The holder cannot remove their own (a stolen session would), nor can an operator.
    own = await intake.post("/v1/ops/operators/otp-lost/second-factor/reset", headers=holder)
    assert (own.status_code, own.json()["code"]) == (409, "own_account")

    reset = await intake.post("/v1/ops/operators/otp-lost/second-factor/reset", headers=chief)
    assert reset.status_code == 200, reset.text
    assert reset.json()["second_factor"] is False
    # Every session of the account ended, and the next sign-in leads to enrolment again.
    assert (await intake.get("/v1/ops/auth/second-factor", headers=holder)).status_code == 401
    again = await intake.post("/v1/ops/auth/token", json={"login": "otp-lost", "password": PASSWORD})
    assert again.json()["second_factor"] == "enrol"
    unknown = await intake.post("/v1/ops/operators/nobody-here/second-factor/reset", headers=chief)
    assert unknown.status_code == 404
    audit = (await intake.get("/v1/ops/audit", headers=chief, params={"action": "second_factor_reset"})).json()
    assert [(entry["operator_login"], entry["target"]) for entry in audit["items"]] == [("admin", "otp-lost")]


def production_secrets() -> dict[str, str]:
    """Values of its own for every secret intake requires in production."""
    values: dict[str, str] = {}
    for name, rule in Settings.secret_rules.items():
        if rule.key_ring:
            values[name] = json.dumps({"k1": base64.b64encode(os.urandom(32)).decode()})
            values[rule.active_key_setting] = "k1"
        else:
            values[name] = secrets.token_urlsafe(48)
    return values


async def test_outside_development_an_admin_acts_as_admin_only_after_the_code(mongo_url, broker_namespace, run_id):
    values = production_secrets()
    settings = app_settings(
        mongo_url,
        f"t{run_id}_intake_second_factor_production",
        broker_namespace.isolated("intake-2fa-production"),
        greenchannel_env="production",
        **values,
    )
    bootstrap = {"login": "admin", "password": values["operator_bootstrap_password"]}
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as intake:
        password_only = await intake.post("/v1/ops/auth/token", json=bootstrap)
        assert password_only.json()["second_factor"] == "enrol"
        refused = await intake.get("/v1/ops/audit", headers=bearer(password_only))
        assert (refused.status_code, refused.json()["code"]) == (403, "second_factor_required")
        # The operator's work stays open to the password alone; an admin's waits for the code.
        assert (await intake.get("/v1/ops/queue?kind=appeals", headers=bearer(password_only))).status_code == 200
        begun = (await intake.post("/v1/ops/auth/second-factor", headers=bearer(password_only))).json()
        confirmed = await intake.post(
            "/v1/ops/auth/second-factor/confirm",
            headers=bearer(password_only),
            json={"one_time_code": pyotp.TOTP(begun["secret"]).now()},
        )
        assert (await intake.get("/v1/ops/audit", headers=bearer(confirmed))).status_code == 200
