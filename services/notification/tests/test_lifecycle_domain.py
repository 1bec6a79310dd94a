"""Unit tests of the lifecycle rules: which event makes which company webhook, the complainant's
message texts, e-mail and SMS composition, phone masking and the inbox cursor."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from greenchannel.contracts import (
    EVENT_MODELS,
    FORWARDING_WEBHOOK_TYPE,
    ComplainantContact,
    ComplaintAccepted,
    ComplaintAppealed,
    ComplaintClosed,
    ComplaintForwarded,
    ComplaintInfoRequested,
    ComplaintRated,
    ComplaintRedirected,
    ComplaintRejected,
    ComplaintResponded,
    ComplaintSupplemented,
    ComplaintWithdrawn,
    EventData,
    SlaOverdue,
    SlaReminder,
    WebhookType,
)
from notification.adapters.message_texts import packaged_texts
from notification.domain.company_webhooks import COMPANY_WEBHOOKS, CompanyWebhook, company_webhook
from notification.domain.dispatches import email_subject, email_text, mask_phone, sms_text
from notification.domain.messages import (
    REQUIRED_TEXT_KEYS,
    SMS_KINDS,
    InvalidMessageTexts,
    MessageFacts,
    MessageTexts,
    facts_of,
    message_text_key,
)
from notification.domain.pagination import InvalidCursor, decode_cursor, encode_cursor

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
N = "GC-20260310-000042"


def accepted(company_id: str = "co-1") -> ComplaintAccepted:
    return ComplaintAccepted(
        number=N,
        company_id=company_id,
        company_name="示例科技",
        category="refund",
        title="标题",
        description="描述",
        occurred_on=date(2026, 3, 1),
        desired_outcome="退款",
        complainant=ComplainantContact(name="张*", phone="138****5678"),
        accepted_at=NOW,
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (accepted(), CompanyWebhook("complaint.forwarded", "co-1")),
        (ComplaintForwarded(number=N, company_id="co-1", forwarded_at=NOW), None),
        (
            ComplaintForwarded(number=N, company_id="co-1", forwarded_at=NOW, round=2),
            CompanyWebhook("complaint.reforwarded", "co-1"),
        ),
        (
            ComplaintForwarded(number=N, company_id="co-1", forwarded_at=NOW, round=3),
            CompanyWebhook("complaint.reforwarded", "co-1"),
        ),
        (
            ComplaintSupplemented(number=N, company_id="co-1", text="补充", supplemented_at=NOW),
            CompanyWebhook("complaint.supplemented", "co-1"),
        ),
        (
            ComplaintAppealed(number=N, company_id="co-1", reason="不满意", appealed_at=NOW),
            CompanyWebhook("complaint.appealed", "co-1"),
        ),
        (
            ComplaintWithdrawn(number=N, company_id="co-1", withdrawn_at=NOW),
            CompanyWebhook("complaint.withdrawn", "co-1"),
        ),
        (ComplaintWithdrawn(number=N, withdrawn_at=NOW), None),
        (
            ComplaintRedirected(number=N, from_company_id="co-old", to_company_id="co-new", redirected_at=NOW),
            CompanyWebhook("complaint.redirected", "co-old"),
        ),
        (ComplaintRedirected(number=N, to_company_id="co-new", redirected_at=NOW), None),
        (
            SlaReminder(
                number=N,
                company_id="co-1",
                kind="response",
                due=date(2026, 3, 20),
                working_days_left=2,
                reminded_at=NOW,
            ),
            CompanyWebhook("complaint.deadline_reminder", "co-1"),
        ),
        (
            SlaReminder(
                number=N, company_id="co-1", kind="appeal", due=date(2026, 3, 20), working_days_left=2, reminded_at=NOW
            ),
            None,
        ),
        (SlaReminder(number=N, kind="response", due=date(2026, 3, 20), working_days_left=2, reminded_at=NOW), None),
        (
            SlaOverdue(number=N, company_id="co-1", kind="response", due=date(2026, 3, 20), overdue_at=NOW),
            CompanyWebhook("complaint.overdue", "co-1"),
        ),
        (SlaOverdue(number=N, company_id="co-1", kind="appeal", due=date(2026, 3, 20), overdue_at=NOW), None),
        (SlaOverdue(number=N, kind="response", due=date(2026, 3, 20), overdue_at=NOW), None),
        (ComplaintRejected(number=N, reason="company_unknown", rejected_at=NOW), None),
        (
            ComplaintResponded(
                number=N, company_id="co-1", response_type="explained", text="t", timely=True, responded_at=NOW
            ),
            None,
        ),
        (ComplaintRated(number=N, company_id="co-1", rating=4, rated_at=NOW), None),
    ],
    ids=lambda value: getattr(value, "EVENT_TYPE", None) or repr(value),
)
def test_company_webhook_table(data: EventData, expected: CompanyWebhook | None) -> None:
    assert company_webhook(data) == expected


def test_the_webhook_table_knows_only_contracted_events_and_one_type_each() -> None:
    assert set(COMPANY_WEBHOOKS) <= set(EVENT_MODELS.values())
    types = [rule.webhook_type for rule in COMPANY_WEBHOOKS.values()]
    # Every type but the test webhook's, which no event makes (it is sent when asked for through the API).
    assert len(types) == len(set(types)) and set(types) == set(WebhookType) - {WebhookType.TEST}
    # intake marks a case forwarded on exactly this type; the first forwarding must keep it.
    assert COMPANY_WEBHOOKS[ComplaintAccepted].webhook_type == FORWARDING_WEBHOOK_TYPE == "complaint.forwarded"


def every_message_event() -> list[EventData]:
    return [
        accepted(),
        ComplaintRejected(number=N, reason="company_unknown", detail="两家企业同名", rejected_at=NOW),
        ComplaintForwarded(number=N, company_id="co-1", forwarded_at=NOW),
        ComplaintForwarded(number=N, company_id="co-1", forwarded_at=NOW, round=2, note="调解后重新转交"),
        ComplaintInfoRequested(number=N, company_id="co-1", question="请提供订单号 13812345678", requested_at=NOW),
        ComplaintResponded(
            number=N,
            company_id="co-1",
            response_type="monetary_relief",
            text="已退款至尾号1234的银行卡",
            timely=True,
            responded_at=NOW,
        ),
        ComplaintAppealed(number=N, company_id="co-1", reason="我叫张三，身份证110105194912310020", appealed_at=NOW),
        ComplaintClosed(number=N, company_id="co-1", outcome="rated", closed_at=NOW),
        ComplaintWithdrawn(number=N, company_id="co-1", reason="已私下解决", withdrawn_at=NOW),
        ComplaintRedirected(number=N, from_company_id="co-1", to_company_id="co-2", redirected_at=NOW),
        SlaOverdue(number=N, company_id="co-1", kind="response", due=date(2026, 3, 20), overdue_at=NOW),
    ]


def test_every_message_kind_renders_in_both_languages_with_no_placeholder_left() -> None:
    texts = packaged_texts()
    rendered_keys = set()
    for data in every_message_event():
        key = message_text_key(data)
        assert key is not None, data.EVENT_TYPE
        rendered_keys.add(key)
        for company_name in ("示例科技", None):
            message = texts.render(key, facts_of(data, company_name))
            for field in ("title_zh", "title_en", "body_zh", "body_en"):
                value = getattr(message, field)
                assert value.strip() and "{" not in value and "}" not in value, (key, field, value)
            assert N in message.body_zh and N in message.body_en
            assert re.search(r"[\u4e00-\u9fff]", message.title_zh + message.body_zh)
            english = (message.title_en + message.body_en).replace("示例科技", "")  # the directory name stays as it is
            assert not re.search(r"[\u4e00-\u9fff]", english), (key, message.body_en)
    assert rendered_keys == REQUIRED_TEXT_KEYS == texts.text_keys


def test_messages_never_quote_free_text_from_events() -> None:
    texts = packaged_texts()
    for data in every_message_event():
        message = texts.render(message_text_key(data), facts_of(data, "示例科技"))
        everything = " ".join((message.title_zh, message.title_en, message.body_zh, message.body_en))
        for free_text in (
            "13812345678",
            "尾号1234",
            "张三",
            "110105194912310020",
            "私下解决",
            "调解后重新转交",
            "两家企业同名",
        ):
            assert free_text not in everything


def test_codes_become_words_and_unknown_codes_fall_back() -> None:
    texts = packaged_texts()
    rejected = texts.render("complaint.rejected", MessageFacts(N, reason="company_unknown"))
    assert "无法确定被投诉企业" in rejected.body_zh and "could not be identified" in rejected.body_en
    odd = texts.render("complaint.rejected", MessageFacts(N, reason="something_new"))
    assert "不符合受理条件" in odd.body_zh and "something_new" not in odd.body_en
    responded = texts.render("complaint.responded", MessageFacts(N, company_name="示例科技", response_type="declined"))
    assert "示例科技" in responded.body_zh and "不予支持" in responded.body_zh
    anonymous = texts.render("complaint.responded", MessageFacts(N, response_type="declined"))
    assert "被投诉企业" in anonymous.body_zh and "the company" in anonymous.body_en
    overdue = texts.render("sla.overdue", MessageFacts(N, due=date(2026, 3, 20)))
    assert "2026-03-20" in overdue.body_zh and "2026-03-20" in overdue.body_en


def test_which_events_make_messages_and_sms() -> None:
    assert message_text_key(ComplaintForwarded(number=N, company_id="c", forwarded_at=NOW)) == "complaint.forwarded"
    assert (
        message_text_key(ComplaintForwarded(number=N, company_id="c", forwarded_at=NOW, round=2))
        == "complaint.reforwarded"
    )
    assert message_text_key(SlaOverdue(number=N, kind="appeal", due=date(2026, 3, 20), overdue_at=NOW)) is None
    assert message_text_key(ComplaintSupplemented(number=N, company_id="c", text="x", supplemented_at=NOW)) is None
    assert message_text_key(ComplaintRated(number=N, company_id="c", rating=5, rated_at=NOW)) is None
    assert {"complaint.info_requested", "complaint.responded", "complaint.closed"} == SMS_KINDS


def test_a_broken_texts_file_is_refused_at_load() -> None:
    good = {"title_zh": "题", "title_en": "T", "body_zh": "{number}", "body_en": "{number}"}
    labels = {name: {"_default": {"zh": "默认", "en": "default"}} for name in ("reason", "response_type", "outcome")}
    fallback = {"company_name": {"zh": "企业", "en": "the company"}}
    complete = {key: dict(good) for key in REQUIRED_TEXT_KEYS}
    MessageTexts({"messages": complete, "labels": labels, "fallback": fallback})
    with pytest.raises(InvalidMessageTexts, match=r"uses \{complainant_name\}"):
        MessageTexts(
            {
                "messages": {**complete, "complaint.closed": {**good, "body_en": "{complainant_name}"}},
                "labels": labels,
                "fallback": fallback,
            }
        )
    with pytest.raises(InvalidMessageTexts, match=r"no text for complaint\.closed"):
        MessageTexts(
            {
                "messages": {k: v for k, v in complete.items() if k != "complaint.closed"},
                "labels": labels,
                "fallback": fallback,
            }
        )
    with pytest.raises(InvalidMessageTexts, match="body_zh is missing"):
        MessageTexts(
            {
                "messages": {**complete, "complaint.closed": {**good, "body_zh": ""}},
                "labels": labels,
                "fallback": fallback,
            }
        )
    with pytest.raises(InvalidMessageTexts, match=r"labels\.outcome has no _default"):
        MessageTexts({"messages": complete, "labels": {**labels, "outcome": {}}, "fallback": fallback})


def test_email_and_sms_put_chinese_first_then_english() -> None:
    message = packaged_texts().render("complaint.closed", MessageFacts(N, outcome="auto_closed"))
    assert email_subject(message) == "投诉已办结 | Complaint closed"
    text = email_text(message)
    assert text.index(message.body_zh) < text.index(message.body_en)
    sms = sms_text(message)
    assert sms.index(message.body_zh) < sms.index(message.body_en)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13912345678", "139****5678"), ("+8613912345678", "+86*******5678"), ("12345", "***45"), ("", "")],
)
def test_phone_masking(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_cursor_round_trip_and_refusal() -> None:
    moment = datetime(2026, 3, 10, 8, 30, 1, 123000, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment, "abc123")) == (moment, "abc123")
    for bad in ("not-a-cursor", "", "e30", encode_cursor(moment, "x")[:-3], "WyIyMDI2LTAzLTEwIiwgMV0"):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad)
