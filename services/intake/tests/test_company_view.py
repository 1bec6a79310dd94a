"""The company-view scrubber: what a company must not receive is masked, disguised or not; the complainant's name
and own phone, which the company needs to reach them, stay as written."""

from __future__ import annotations

import pytest

from intake.domain.company_view import for_company, national_digits
from intake.domain.scrubbing import MASK as M

pytestmark = pytest.mark.unit

OWN = "+8613811113333"

CASES = [
    pytest.param("身份证110105194912310021已提交", f"身份证{M}已提交", id="mainland-id"),
    pytest.param("身份证号 4403 0619 8512 0312 34", f"身份证号 {M}", id="mainland-id-split"),
    pytest.param("身份证号４４０３０６１９８５１２０３１２３４", f"身份证号{M}", id="mainland-id-full-width"),
    pytest.param("香港身份证 A123456(3) 已登记", f"香港身份证 {M} 已登记", id="hong-kong-id"),
    pytest.param("台湾身份证A123456789", f"台湾身份证{M}", id="taiwan-id"),
    pytest.param("护照E12345678", f"护照{M}", id="passport"),
    pytest.param("银行卡6222021234567890128被扣款", f"银行卡{M}被扣款", id="card"),
    pytest.param("卡号 6222 0212，3456 7890，128 被扣款", f"卡号 {M} 被扣款", id="card-split-by-commas"),
    pytest.param("卡号６２２２０２１２３４５６７８９０１２８", f"卡号{M}", id="card-full-width"),
    pytest.param("经理电话13922224444", f"经理电话{M}", id="other-phone"),
    pytest.param("经理电话幺三九二二二二四四四四", f"经理电话{M}", id="other-phone-in-words"),
    pytest.param("经理电话139 2222 4444", f"经理电话{M}", id="other-phone-spaced"),
    pytest.param("寄到朝阳区建国路88号阳光小区3栋2单元501室", f"寄到朝阳区{M}", id="street-address"),
    pytest.param("请打13811113333找我", "请打13811113333找我", id="own-phone"),
    pytest.param("请打+86 138 1111 3333找我", "请打+86 138 1111 3333找我", id="own-phone-with-country-code"),
    pytest.param("请打138-1111-3333找我", "请打138-1111-3333找我", id="own-phone-dashed"),
    pytest.param("我是赵六，客服王小明说不退", "我是赵六，客服王小明说不退", id="names-stay"),
    pytest.param("订单号 20261101123456，金额1280元", "订单号 20261101123456，金额1280元", id="order-and-amount"),
    pytest.param("客服热线400-820-8820", "客服热线400-820-8820", id="hotline"),
    pytest.param("", "", id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_for_company(text: str, expected: str) -> None:
    assert for_company(text, complainant_phone=OWN) == expected


def test_an_almost_identical_phone_is_another_persons() -> None:
    # Same first three and last four digits as the complainant's (what a masked phone shows): still masked.
    assert for_company("他的电话13899993333", complainant_phone=OWN) == f"他的电话{M}"


def test_without_a_known_phone_every_phone_is_masked() -> None:
    assert for_company("请打13811113333找我", complainant_phone=None) == f"请打{M}找我"


@pytest.mark.parametrize("written", ["+8613811113333", "8613811113333", "008613811113333", "13811113333"])
def test_national_digits(written: str) -> None:
    assert national_digits(written) == "13811113333"
