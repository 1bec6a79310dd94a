"""The operator console without a browser: its catalogs complete in both languages and naming every action the
audit log records and every queue, its templates and scripts free of inline code and outside addresses, and
its pages served by intake with the public client's Content-Security-Policy, in either language."""

from __future__ import annotations

import re
from importlib import resources

import httpx
import pytest

from intake.adapters.dead_letters import SERVICES
from intake.core.work_queues import KINDS, OPERATOR_ACTIONS
from intake.domain.identity import IDENTITY_FIELDS
from intake.main import create_app
from intake.web.console import ConsoleTranslator, console_catalog
from intake.web.i18n import LANGUAGES
from intake.web.pages import CONTENT_SECURITY_POLICY

WEB = resources.files("intake.web")
TEMPLATES = {item.name: item.read_text(encoding="utf-8") for item in WEB.joinpath("templates", "ops").iterdir()}
SCRIPTS = {item.name: item.read_text(encoding="utf-8") for item in WEB.joinpath("static", "ops").iterdir()}
CODE = resources.files("intake")
# Every action a use case records (the second argument of ``audit.action``), read from the code that records it.
RECORDED = {
    action
    for module in (
        "core/operators.py",
        "core/operations.py",
        "core/staff.py",
        "core/second_factor.py",
        "core/feedback.py",
        "core/evidence_release.py",
    )
    for action in re.findall(r"""audit\.action\(\s*\w+,\s*"([a-z_]+)\"""", CODE.joinpath(module).read_text())
} | {"reveal", "webhook_redeliver", "webhook_endpoint_set", "webhook_secret_rotate", "alert_ack"}
PAGES = ("/ops/", "/ops/login", "/ops/queue/appeals", "/ops/complaints/GC-20260101-000001", "/ops/audit")
PAGES += ("/ops/dead-letters", "/ops/webhooks", "/ops/feedback", "/ops/staff", "/ops/directory", "/ops/regulator")


@pytest.mark.unit
def test_both_console_catalogs_hold_the_same_keys_and_placeholders():
    chinese, english = console_catalog("zh-CN"), console_catalog("en")
    assert chinese.keys() == english.keys()
    for key in chinese:
        assert set(re.findall(r"\{(\w+)\}", chinese[key])) == set(re.findall(r"\{(\w+)\}", english[key])), key
        assert chinese[key].strip() and english[key].strip(), key


@pytest.mark.unit
def test_every_key_the_console_names_and_every_value_it_shows_is_in_its_catalog():
    known = ConsoleTranslator("zh-CN").messages.keys()
    used = set()
    for text in TEMPLATES.values():
        # t("key"); a prefix a template completes (t("ops.queue." ~ kind)) is held by ``shown`` below.
        named = re.findall(r"""t\(["']([a-z_]+(?:\.[a-z0-9_]+)+)["']""", text)
        used |= {key for key in named if not key.endswith("_")}
    for text in SCRIPTS.values():
        used |= set(re.findall(r"""\bt\(\s*"([a-z0-9_.]+)"\s*[,)]""", text))
    shown = (
        {f"ops.queue.{kind}" for kind in KINDS}
        | {f"ops.service.{service}" for service in SERVICES}
        | {f"ops.identity.{field}" for field in IDENTITY_FIELDS}
        | {f"ops.action.{action}" for action in [*OPERATOR_ACTIONS, "review"]}
        | {f"ops.action.{action}_submit" for action in [*OPERATOR_ACTIONS, "review"]}
        | {
            f"ops.audit.action.{action}"
            for action in RECORDED | {"webhook_endpoint_disable", "webhook_endpoint_enable"}
        }
        | {f"ops.regulator.by_{by}" for by in ("month", "category", "company", "region")}
    )
    assert used and not (used | shown) - known, sorted((used | shown) - known)
    assert {"reforward", "close", "dead_letter_replay", "operator_create", "second_factor_reset"} <= RECORDED
    assert {"feedback_handle", "evidence_release", "api_key_issue", "directory_save"} <= RECORDED


@pytest.mark.unit
def test_console_files_hold_no_inline_code_and_load_nothing_from_elsewhere():
    for name, text in TEMPLATES.items():
        for script in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in script or 'type="application/json"' in script, (name, script)
        assert not re.search(r"\son[a-z]+\s*=", text), name
        assert " style=" not in text, name
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
    for name, text in SCRIPTS.items():
        assert "innerHTML" not in text and "eval(" not in text and "document.write" not in text, name
        assert not re.search(r"https?://", text), name
        assert "localStorage" not in text, name


@pytest.mark.unit
async def test_console_pages_are_served_with_the_clients_policy_in_either_language():
    app = create_app()  # the shells need no store: the scripts ask the API for everything
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        for language in LANGUAGES:
            for path in PAGES:
                page = await client.get(path, params={"lang": language}, headers={"Accept": "text/html"})
                assert page.status_code == 200, (path, page.text[:200])
                assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
                assert f'<html lang="{language}">' in page.text
                assert console_catalog(language)["ops.name"] in page.text
        unknown = await client.get("/ops/queue/everything", headers={"Accept": "text/html"})
        assert unknown.status_code == 404
        assert (await client.get("/ops")).headers["location"] == "/ops/"
