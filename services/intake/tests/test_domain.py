"""Unit tests of intake's pure rules: GB 11643 ID numbers, mobile numbers, masking, the lifecycle table, the form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from intake.domain.filing import (
    ACCESS_CODE_ALPHABET,
    ComplaintForm,
    complaint_number,
    new_access_code,
    normalize_access_code,
)
from intake.domain.identity import (
    IdentityError,
    id_check_character,
    mask_email,
    mask_id_number,
    mask_identity,
    mask_name,
    mask_phone,
    normalize_id_number,
    normalize_mobile,
)
from intake.domain.lifecycle import (
    FINAL,
    TRANSITIONS,
    Action,
    IllegalTransition,
    Status,
    complainant_actions,
    rating_action,
    transition,
)
from intake.domain.statistics import CHINA

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("44030119900101123", "4"), ("11010119900307451", "4"), ("32010219800101001", "6")],
)
def test_check_character_follows_iso7064_mod_11_2(first17, check):
    # Worked by hand: sum(digit * weight) mod 11 indexes "10X98765432"; the first is the standard's own example.
    assert id_check_character(first17) == check


def test_valid_id_number_is_normalised_to_upper_case():
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110101199003074515", "id_number_check_digit"),
        ("11010119900307451", "id_number_format"),
        ("1101011990030745A4", "id_number_format"),
        ("990101199003074514", "id_number_region"),
        ("110101199002304519", "id_number_birth_date"),
    ],
)
def test_invalid_id_numbers_say_what_is_wrong(value, code):
    with pytest.raises(IdentityError) as caught:
        normalize_id_number(value)
    assert caught.value.code == code


def test_wrong_check_digit_message_does_not_give_the_expected_character_away():
    with pytest.raises(IdentityError) as caught:
        normalize_id_number("110101199003074515")  # the check character of these 17 digits is 4
    assert "4" not in str(caught.value) and "check each digit" in str(caught.value)


def test_mobile_numbers():
    assert normalize_mobile("138 0013 8000") == "+8613800138000"
    assert normalize_mobile("+86 139-1234-5678") == "+8613912345678"
    for bad in ("12345", "010-12345678", "+1 415 555 0100", "23800138000"):
        with pytest.raises(IdentityError):
            normalize_mobile(bad)


def test_masks_keep_only_what_identifies_loosely():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_phone("+8613800138000") == "138****8000"
    assert mask_email("zhang.san@example.cn") == "z***@example.cn"


def test_staff_see_every_identity_field_masked_and_nothing_else():
    identity = {
        "name": "张三",
        "id_number": "11010519491231002X",
        "phone": "+8613800138000",
        "email": None,
        "address": "北京市朝阳区",
    }
    assert mask_identity(identity) == {
        "name": "张*",
        "id_number": "1101**********002X",
        "phone": "138****8000",
        "email": None,
    }


def test_every_final_state_refuses_every_action_but_an_operator_override_of_a_rejection():
    for state in FINAL:
        for action in Action:
            if (state, action) == (Status.REJECTED, Action.OVERRIDE_ACCEPT):
                assert transition(action, state) is Status.ACCEPTED
                continue
            with pytest.raises(IllegalTransition):
                transition(action, state)


def test_main_path_and_appeal_loop():
    path = [
        Action.ACCEPT,
        Action.FORWARD,
        Action.REQUEST_INFO,
        Action.SUPPLEMENT,
        Action.RESPOND,
        Action.APPEAL,
        Action.REFORWARD,
        Action.RESPOND,
        Action.RATE,
    ]
    state = Status.SUBMITTED
    for action in path:
        state = transition(action, state)
    assert state is Status.CLOSED


def test_withdraw_from_every_open_state_and_illegal_jumps():
    for state in set(Status) - FINAL:
        assert transition(Action.WITHDRAW, state) is Status.WITHDRAWN
    with pytest.raises(IllegalTransition) as caught:
        transition(Action.RESPOND, Status.SUBMITTED)
    assert caught.value.current is Status.SUBMITTED
    assert set(TRANSITIONS) == set(Action)


@pytest.mark.parametrize(
    ("rating", "action", "after"),
    [
        (1, Action.RATE_UNSATISFIED, Status.RESPONDED),
        (2, Action.RATE_UNSATISFIED, Status.RESPONDED),
        (3, Action.RATE, Status.CLOSED),
        (4, Action.RATE, Status.CLOSED),
        (5, Action.RATE, Status.CLOSED),
    ],
)
def test_a_satisfied_rating_closes_and_an_unsatisfied_one_keeps_the_answer_open(rating, action, after):
    assert rating_action(rating) is action
    assert transition(action, Status.RESPONDED) is after


def test_after_an_unsatisfied_rating_the_appeal_and_the_quiet_period_close_still_apply():
    state = transition(Action.RATE_UNSATISFIED, Status.RESPONDED)
    assert transition(Action.APPEAL, state) is Status.APPEALED
    assert transition(Action.AUTO_CLOSE, state) is Status.CLOSED
    assert transition(Action.REFORWARD, transition(Action.APPEAL, state)) is Status.FORWARDED
    for rate in (Action.RATE, Action.RATE_UNSATISFIED, Action.APPEAL, Action.AUTO_CLOSE):
        with pytest.raises(IllegalTransition):
            transition(rate, Status.CLOSED)
    for rate in (Action.RATE, Action.RATE_UNSATISFIED):
        with pytest.raises(IllegalTransition):
            transition(rate, Status.APPEALED)


def test_the_complainant_is_offered_rating_and_appeal_together_and_the_appeal_after_an_unsatisfied_rating():
    answered = datetime(2026, 3, 2, 2, tzinfo=UTC)
    windows = {"rating_days": 60, "appeal_days": 30}
    soon = answered + timedelta(days=1)
    assert complainant_actions(Status.RESPONDED, answered, soon, **windows) == ["rate", "appeal", "withdraw"]
    assert complainant_actions(Status.RESPONDED, answered, soon, rated=True, **windows) == ["appeal", "withdraw"]
    late = answered + timedelta(days=31)
    assert complainant_actions(Status.RESPONDED, answered, late, rated=True, **windows) == ["withdraw"]
    assert complainant_actions(Status.CLOSED, answered, soon, rated=True, **windows) == []


def valid_form(**overrides):
    body = {
        "complainant": {
            "name": "张三",
            "id_number": "11010519491231002X",
            "phone": "13800138000",
            "email": "z@example.cn",
        },
        "company": {"name": "迅联"},
        "category": "billing",
        "title": "自动续费未提醒",
        "description": "会员到期前未收到任何提醒即被扣费三十元。",
        "occurred_on": "2026-10-01",
        "desired_outcome": "退还扣费",
    }
    body.update(overrides)
    return body


def test_form_accepts_a_complete_filing_and_normalises_identity():
    form = ComplaintForm.model_validate(valid_form())
    assert form.complainant.phone == "+8613800138000"
    assert form.complainant.id_number == "11010519491231002X"


@pytest.mark.parametrize(
    ("overrides", "error_type"),
    [
        ({"company": {}}, "company_missing"),
        ({"occurred_on": "2999-01-01"}, "occurred_on_future"),
        ({"category": "Billing!"}, "string_pattern_mismatch"),
        ({"title": "短"}, "string_too_short"),
        ({"evidence_ids": ["a" * 32, "a" * 32]}, "evidence_repeated"),
        ({"unexpected": 1}, "extra_forbidden"),
    ],
)
def test_form_errors_carry_machine_readable_types(overrides, error_type):
    with pytest.raises(ValidationError) as caught:
        ComplaintForm.model_validate(valid_form(**overrides))
    assert error_type in {error["type"] for error in caught.value.errors()}


def test_numbers_and_access_codes():
    assert complaint_number(datetime(2026, 11, 23, tzinfo=CHINA), 123) == "GC-20261123-000123"
    code = new_access_code()
    assert len(code) == 10 and set(code) <= set(ACCESS_CODE_ALPHABET)
    assert normalize_access_code(" abcd-efgh ") == "ABCDEFGH"
    assert new_access_code() != new_access_code()
