"""The scrubber against a corpus of tricky Chinese texts, each with the exact expected output, and
properties over generated ID numbers, mobile and card numbers embedded in arbitrary Chinese text."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.domain.identity import PROVINCE_CODES, id_check_character
from intake.domain.scrubbing import MASK, NAME_MASK, luhn_valid, scrub

pytestmark = pytest.mark.unit

M, N = MASK, NAME_MASK

IDS = [
    pytest.param("身份证号11010519491231002X已提交", f"身份证号{M}已提交", id="id-check-X"),
    pytest.param("身份证 31011519900307451x", f"身份证 {M}", id="id-check-lowercase-x"),
    pytest.param("证件号：440306198512031234。", f"证件号：{M}。", id="id-digit-check"),
    pytest.param("身份证号 4403 0619 8512 0312 34", f"身份证号 {M}", id="id-split-by-spaces"),
    pytest.param("身份证号 440306-19851203-1234", f"身份证号 {M}", id="id-split-by-dashes"),
    pytest.param("身份证号４４０３０６１９８５１２０３１２３４", f"身份证号{M}", id="id-full-width"),
    pytest.param("身份证号 440306 19851203 123４", f"身份证号 {M}", id="id-mixed-width"),
    pytest.param("老身份证：440306851203123", f"老身份证：{M}", id="id-15-digit-old"),
    pytest.param(
        "身份证440306198512031235（校验位输错）", f"身份证{M}（校验位输错）", id="id-wrong-check-digit-still-masked"
    ),
    pytest.param("港澳居民居住证830000199001011234", f"港澳居民居住证{M}", id="id-residence-permit-83"),
    pytest.param("身份证31011519900307451x13800138000", f"身份证{M}{M}", id="id-x-then-mobile"),
]

MOBILES = [
    pytest.param("手机号13800138000联系我", f"手机号{M}联系我", id="mobile-inside-words"),
    pytest.param("abc13800138000def", f"abc{M}def", id="mobile-inside-latin-word"),
    pytest.param("电话：+86 138 0013 8000", f"电话：{M}", id="mobile-plus86-3-4-4"),
    pytest.param("电话86-13800138000", f"电话{M}", id="mobile-86-dash"),
    pytest.param("电话0086 13800138000", f"电话{M}", id="mobile-0086"),
    pytest.param("(+86)13800138000 或（＋８６）13800138000", f"{M} 或{M}", id="mobile-bracketed-plus86"),
    pytest.param("电话8613800138000", f"电话{M}", id="mobile-86-fused"),
    pytest.param("电话013800138000", f"电话{M}", id="mobile-leading-0"),
    pytest.param("138-0013-8000", M, id="mobile-3-4-4-dashes"),
    pytest.param("１３８ ００１３ ８０００", M, id="mobile-full-width-spaces"),
    pytest.param("我的手机是１３８００１３８０００。", f"我的手机是{M}。", id="mobile-full-width"),
    pytest.param("138.0013.8000", M, id="mobile-dots"),
    pytest.param("138　0013　8000", M, id="mobile-ideographic-spaces"),
    pytest.param("138－0013－8000", M, id="mobile-full-width-dashes"),
    pytest.param("138—0013—8000", M, id="mobile-em-dashes"),
    pytest.param("1 3 8 0 0 1 3 8 0 0 0", M, id="mobile-every-digit-spaced"),
    pytest.param("手机：138\u200b0013\u200b8000", f"手机：{M}", id="mobile-zero-width-spaces"),
    pytest.param("(13800138000)", f"({M})", id="mobile-in-brackets"),
    pytest.param("138-0013-8000 139 0013 9000", f"{M} {M}", id="two-mobiles-one-run"),
    pytest.param("13800138000、13900139000", f"{M}、{M}", id="two-mobiles-listed"),
    pytest.param("13800138000X", f"{M}X", id="mobile-stray-x"),
    pytest.param("https://example.com/u/13800138000", f"https://example.com/u/{M}", id="mobile-inside-url"),
]

LANDLINES = [
    pytest.param("座机010-12345678", f"座机{M}", id="landline-beijing"),
    pytest.param("(0755)12345678", M, id="landline-bracketed-area"),
    pytest.param("电话（0755）12345678", f"电话{M}", id="landline-full-width-brackets"),
    pytest.param("0755 1234 5678", M, id="landline-spaced"),
    pytest.param("电话0755-12345678转123找我", f"电话{M}找我", id="landline-extension-zhuan"),
    pytest.param("0755-12345678-123", M, id="landline-extension-dash"),
    pytest.param("电话0755-8765-4321分机 12", f"电话{M}", id="landline-extension-fenji"),
    pytest.param("tel:+86-10-12345678", f"tel:{M}", id="landline-international"),
    pytest.param("+86 (0)755 1234 5678", M, id="landline-international-0"),
    pytest.param("电话：8765 4321", f"电话：{M}", id="local-number-after-cue"),
    pytest.param("座机 8765-4321 转 12", f"座机 {M}", id="local-number-with-extension"),
    pytest.param("电话86-13800138000 2026-10-20 14:30", f"电话{M} 2026-10-20 14:30", id="cue-used-by-the-first-number"),
    pytest.param("Phone 87654321", f"Phone {M}", id="local-number-after-english-cue"),
    pytest.param("13800138000 0755 12345678", f"{M} {M}", id="mobile-then-landline-one-run"),
]

EMAILS = [
    pytest.param("邮箱zhang.san@example.com谢谢", f"邮箱{M}谢谢", id="email-inside-chinese"),
    pytest.param("zhang＠example.com", M, id="email-full-width-at"),
    pytest.param("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", M, id="email-all-full-width"),
    pytest.param("邮箱 zhang ＠ example ． com 联系", f"邮箱 {M} 联系", id="email-spaced"),
    pytest.param("邮箱 zhang@example。com", f"邮箱 {M}", id="email-ideographic-full-stop"),
    pytest.param("123456789@qq.com", M, id="email-qq-digits"),
    pytest.param("zhang@example.com13800138000", f"{M}{M}", id="email-then-mobile"),
    pytest.param("邮箱zhangsan#qq.com", f"邮箱{M}", id="email-hash-for-at"),
    pytest.param("zhang(at)example(dot)com", M, id="email-bracketed-words"),
    pytest.param("call me: zhang [at] example [dot] com", f"call me: {M}", id="email-square-brackets"),
    pytest.param("zhangsan艾特qq点com", M, id="email-chinese-at-and-dot"),
    pytest.param("写信给 zhang at example dot com 吧", f"写信给 {M} 吧", id="email-spelled-out"),
    pytest.param("https://user:secret@example.com/x", f"https://user:{M}/x", id="email-credentials-in-url"),
]

CARDS = [
    pytest.param("卡号6222021234567894", f"卡号{M}", id="card-16-luhn"),
    pytest.param("卡号 6222 0212 3456 7894 扣款", f"卡号 {M} 扣款", id="card-16-grouped"),
    pytest.param("卡号6228-4800-1234-5678-903", f"卡号{M}", id="card-19-grouped-dashes"),
    pytest.param("卡号６２１７０００１２３４５６７８９０１９", f"卡号{M}", id="card-19-full-width"),
    pytest.param("卡号6222021234567891", f"卡号{M}", id="card-16-not-luhn-after-cue"),
    pytest.param("银行账号 6222 0212 3456 7891", f"银行账号 {M}", id="card-grouped-not-luhn-after-cue"),
    pytest.param("单号6222021234567891", "单号6222021234567891", id="card-length-not-luhn-without-cue-kept"),
    pytest.param("单号 6222 0212 3456 7891", "单号 6222 0212 3456 7891", id="card-grouped-not-luhn-without-cue-kept"),
]

NAMES = [
    pytest.param("投诉人张三称，张三的账号被盗", ["张三"], f"投诉人{N}称，{N}的账号被盗", id="name-as-given"),
    pytest.param("我叫张 三，签名：张　三", ["张三"], f"我叫{N}，签名：{N}", id="name-with-spaces"),
    pytest.param("张三先生来电", ["张三"], f"{N}先生来电", id="name-with-title"),
    pytest.param("本人张先生，客服称张女士", ["张三"], f"本人{N}先生，客服称{N}女士", id="surname-with-title"),
    pytest.param("欧阳小姐和欧阳娜娜", ["欧阳娜娜"], f"{N}小姐和{N}", id="compound-surname-with-title"),
    pytest.param("小张和建国都说", ["张建国"], "小张和建国都说", id="given-name-and-xiao-kept"),
    pytest.param("王先生说", ["张三"], "王先生说", id="other-surname-kept"),
    pytest.param("张三丰", ["张三"], f"{N}丰", id="name-inside-longer-word"),
    pytest.param("阿卜杜拉 · 买买提和阿卜杜拉买买提", ["阿卜杜拉·买买提"], f"{N}和{N}", id="name-with-middle-dot"),
    pytest.param(
        "John Smith, JOHN SMITH, Ｊｏｈｎ　Ｓｍｉｔｈ", ["John Smith"], f"{N}, {N}, {N}", id="latin-name-cases-widths"
    ),
    pytest.param(
        "Dear Mr. Smith and Ms Smith", ["John Smith"], f"Dear Mr. {N} and Ms {N}", id="latin-surname-with-title"
    ),
    pytest.param("Johnson and Smithers", ["John Smith"], "Johnson and Smithers", id="latin-name-whole-words-only"),
    pytest.param("张先生", ["张"], "张先生", id="one-letter-name-ignored"),
    pytest.param("  李四 说", ["  李四 "], f"  {N} 说", id="name-given-with-spaces"),
]

KEPT = [
    pytest.param("退款金额¥1,280.00，实付1280元，另扣 12,800.00 元", id="amounts"),
    pytest.param("2026-10-20 14:30 下单，2026年10月20日14:30:00 扣费，2026/10/20", id="dates-and-times"),
    pytest.param("订单号：2026102012345678", id="order-number-16-not-luhn"),
    pytest.param("订单号 DD202610201234567", id="order-number-with-letters"),
    pytest.param("快递单号 SF1234567890123，中通 73123456789012", id="tracking-numbers"),
    pytest.param("版本号 3.10.2，iOS 17.2.1，v8.0.48", id="version-numbers"),
    pytest.param("在12306、58同城、微信、抖音、支付宝上", id="app-names"),
    pytest.param("北京字节跳动科技有限公司与深圳市腾讯计算机系统有限公司", id="company-names"),
    pytest.param("拨打客服电话 400-820-8820、400 820 8820、95588、95xxx 和 96777", id="service-hotlines"),
    pytest.param("打了10086和12315，又向12321、12377举报", id="carrier-and-government-numbers"),
    pytest.param("见 https://www.example.com/help/faq?id=12345#top 和 www.example.cn/a/b", id="urls"),
    pytest.param("look at example.com, C#.NET 和 #话题#", id="at-and-hash-not-addresses"),
    pytest.param("电话费 12345678元，电话打了 20261020 次", id="number-after-cue-with-unit"),
    pytest.param("电话 2026-10-20 打过，电话：2026年10月20日", id="date-after-cue"),
    pytest.param("共 3 笔，第 2 次，IP 192.168.1.100", id="small-numbers"),
    pytest.param("微信支付和微信客服都没回复", id="wechat-without-id"),
    pytest.param("", id="empty"),
]

MESSENGERS = [
    pytest.param("QQ号：123456789", f"QQ号：{M}", id="qq-number"),
    pytest.param("qq号码是 1234567890，群号 987654", f"qq号码是 {M}，群号 987654", id="qq-number-lower-case"),
    pytest.param("微信号：zhangsan_1990", f"微信号：{M}", id="wechat-id"),
    pytest.param("WeChat: Zhang_San88", f"WeChat: {M}", id="wechat-id-english"),
    pytest.param("加vx zs199001", f"加vx {M}", id="wechat-id-vx"),
]


@pytest.mark.parametrize(("text", "expected"), IDS + MOBILES + LANDLINES + EMAILS + CARDS + MESSENGERS)
def test_personal_numbers_and_addresses_are_masked(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(("text", "names", "expected"), NAMES)
def test_the_complainants_name_is_masked(text, names, expected):
    assert scrub(text, names=names) == expected


@pytest.mark.parametrize("text", KEPT)
def test_what_is_no_persons_is_kept(text):
    assert scrub(text, names=["张三"]) == text


def test_everything_at_once():
    text = (
        "我是张三（身份证11010519491231002X），2026年10月20日在某App充值¥1,280.00，订单号2026102012345678，"
        "用卡号6222 0212 3456 7894支付。客服400-820-8820不处理。请联系张先生：138-0013-8000，或 zhang@example.com。"
    )
    assert scrub(text, names=["张三"]) == (
        f"我是{N}（身份证{M}），2026年10月20日在某App充值¥1,280.00，订单号2026102012345678，"
        f"用卡号{M}支付。客服400-820-8820不处理。请联系{N}先生：{M}，或 {M}。"
    )


# --- properties -------------------------------------------------------------------------------------

# Text around a number, without what would make the number part of something larger: the units of an address
# (3栋, 5单元, 路) or Chinese numerals (read as digits next to a number; their own tests are in test_disguises).
NOT_AROUND_A_NUMBER = (
    "号栋幢座单元楼层室户房门期区排组路街巷弄道胡同" + "零〇○洞一壹幺么二两贰貳俩三叁參四肆五伍六陆陸七柒拐八捌九玖勾"
)
CHINESE = st.text(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF, exclude_characters=NOT_AROUND_A_NUMBER), max_size=20
)
SEPARATORS = st.sampled_from([" ", "-", "\u3000", ".", "－", " - ", "\u200b"])
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


@st.composite
def id_numbers(draw) -> str:
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)))
    first17 = (
        f"{draw(st.sampled_from(sorted(PROVINCE_CODES)))}{draw(st.integers(0, 9999)):04d}{born:%Y%m%d}"
        f"{draw(st.integers(0, 999)):03d}"
    )
    check = id_check_character(first17)
    return first17 + (draw(st.sampled_from("Xx")) if check == "X" else check)


@st.composite
def mobiles(draw) -> str:
    number = f"1{draw(st.sampled_from('3456789'))}{draw(st.integers(0, 10**9 - 1)):09d}"
    return draw(st.sampled_from(["", "+86", "+86 ", "86", "0086-", "(+86)"])) + number


@st.composite
def cards(draw, *, valid: bool) -> str:
    # Issuer prefixes that are no region code, so a card that fails Luhn is not ID-shaped either.
    body = draw(st.sampled_from(["30", "39", "40", "49", "55", "60", "62", "68", "70"]))
    body += "".join(str(draw(st.integers(0, 9))) for _ in range(draw(st.integers(16, 19)) - 3))
    fitting = [digit for digit in "0123456789" if luhn_valid(body + digit) == valid]
    return body + draw(st.sampled_from(fitting))


@st.composite
def written(draw, number: str) -> str:
    """``number`` as people write it: separators between some characters, some of them full-width."""
    out = []
    for position, char in enumerate(number):
        if position and char.isdigit() and number[position - 1].isdigit() and draw(st.booleans()):
            out.append(draw(SEPARATORS))
        out.append(char.translate(FULL_WIDTH) if draw(st.booleans()) else char)
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), before=CHINESE, after=CHINESE)
def test_any_valid_id_number_in_chinese_text_is_masked(data, before, after):
    number = data.draw(written(data.draw(id_numbers())))
    assert scrub(before + number + after) == before + MASK + after


@settings(max_examples=200, deadline=None)
@given(data=st.data(), before=CHINESE, after=CHINESE)
def test_any_mobile_number_in_chinese_text_is_masked(data, before, after):
    number = data.draw(written(data.draw(mobiles())))
    assert scrub(before + number + after) == before + MASK + after


@settings(max_examples=200, deadline=None)
@given(data=st.data(), before=CHINESE, after=CHINESE)
def test_any_luhn_valid_card_number_grouped_by_four_is_masked(data, before, after):
    number = data.draw(cards(valid=True))
    grouped = data.draw(st.sampled_from([" ", "-", ""])).join(number[i : i + 4] for i in range(0, len(number), 4))
    assert scrub(before + grouped + after) == before + MASK + after


@settings(max_examples=200, deadline=None)
@given(data=st.data(), before=CHINESE, after=CHINESE)
def test_card_length_numbers_failing_luhn_are_kept(data, before, after):
    text = before + data.draw(cards(valid=False)) + after
    assert scrub(text) == text


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(categories=["Lo", "Po", "Ps", "Pe", "Pd", "Zs"])))
def test_text_without_digits_letters_or_the_name_is_unchanged(text):
    assert scrub(text, names=["张三"] if "张" not in text else []) == text


FRAGMENTS = [param.values[0] for param in IDS + MOBILES + LANDLINES + EMAILS + CARDS + KEPT + MESSENGERS]


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), CHINESE), max_size=6),
    joiner=st.sampled_from(["", " ", "，", "\n"]),
)
def test_scrubbing_twice_changes_nothing_more(parts, joiner):
    once = scrub(joiner.join(parts), names=["张三", "John Smith"])
    assert scrub(once, names=["张三", "John Smith"]) == once


@pytest.mark.parametrize("count", ["12", "95", "10", "11", "96"])
@pytest.mark.parametrize("joiner", [" ", "，", "\n", " 转 "])
def test_a_phone_after_a_short_number_is_masked_and_no_service_number_is_made_of_the_two(count, joiner):
    """ "12 138-0013-8000": a count and a mobile, never the service number 12138 followed by digits of no one."""
    text = f"共 {count}{joiner}138-0013-8000"
    scrubbed = scrub(text)
    assert "0013" not in scrubbed and "8000" not in scrubbed, scrubbed
    assert scrub(scrubbed) == scrubbed
