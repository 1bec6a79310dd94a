"""The similarity rules on a corpus of realistic complaint texts: near-duplicates must reach the duplicate
threshold, different complaints about the same topic must stay below the cluster threshold, complaints
filed from one template by several complainants must reach the cluster threshold (and share LSH band
keys), and the same incident told independently must not. The thresholds in domain/similarity.py were
chosen on this corpus; a change of shingling or threshold has to keep both sides here."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timezone

import pytest
from datasketch import MinHashLSH
from routing.adapters.segmenter import load_segmenter
from routing.domain import similarity
from routing.domain.similarity import (
    CLUSTER_SIMILARITY,
    DUPLICATE_SIMILARITY,
    LSH_BANDS,
    LSH_ROWS,
    NUM_PERM,
    Earlier,
    Signature,
    choose_cluster,
    original_of,
)

pytestmark = pytest.mark.unit

# --- the corpus: complaints against one company (海纳), each a (title, description) pair --------------------------

# Different auto-renewal complaints of different complainants.
A1 = ("视频会员到期自动续费未提前通知",
      "我于2026年3月开通了海纳视频月度会员，当时页面没有明确提示会自动续费。4月15日会员到期后，平台在未发送任何短信"
      "或站内提醒的情况下，从我的微信支付扣款25元续费了一个月。我联系在线客服要求退款，客服称自动续费协议已在开通时"
      "勾选，不予退款。我认为平台未履行到期前提醒义务，要求退还25元并关闭自动续费。")
A2 = ("连续包年会员被自动扣费198元",
      "去年11月我参加活动以1元试用了7天会员，试用结束后平台直接按连续包年扣了198元，扣款前没有任何提示。我是在查看"
      "银行卡账单时才发现这笔扣费，第二天就申请取消并退款，客服说包年会员一经扣费不能退。试用页面上“自动续费”字样"
      "非常小，属于诱导消费，请平台退还198元。")
A3 = ("取消自动续费后仍被扣款",
      "我在5月2日已经在APP里关闭了自动续费功能，并截图保存。但是6月2日支付宝还是被扣了19.9元的会员费。客服先是说"
      "系统延迟，后来又说我关闭的是另一个账号的续费，来回推诿一个多星期都没有结果。请求平台核实扣款记录，退还19.9元。")
# The same complainant, a later and different auto-renewal, in their own habitual phrasing.
A4 = ("音乐会员自动续费扣款未提醒",
      "我于2026年6月开通了海纳音乐的季度会员，开通时选择的是单次购买，并没有选择连续包季。9月20日会员到期后，平台"
      "没有任何提醒就通过支付宝扣了45元，又续了一个季度。我找客服申请退款，客服说系统显示我开通的是连续包季，只能"
      "关闭下次续费，本次费用不退。我要求平台提供我勾选连续包季的记录，并退还45元。")
B = ("课程退款被拒绝",
     "我在8月1日购买了一套编程课程，价格1280元。课程宣传时承诺七天无理由退款，我在第三天因为课程内容与宣传不符申请"
     "退款，客服以我已经观看了两节课为由拒绝退款。宣传页面并没有写观看后不能退款，请平台按照承诺全额退款。")
C = ("游戏账号被无故封禁",
     "我的游戏账号于9月10日突然被封禁十年，系统提示使用第三方外挂。我从未使用过任何外挂软件，账号里累计充值超过"
     "三千元。申诉三次都只收到模板回复，没有给出任何证据。要求平台说明封号依据并解封账号。")
D = ("注销账号后仍收到营销短信",
     "我在七月份已经申请注销了该平台的账号，注销成功的短信也收到了。但是最近一个月几乎每天都收到该平台的营销短信和"
     "推销电话，说明平台在注销后仍然保留并使用我的手机号。要求平台删除我的个人信息并停止骚扰。")
E = ("商家虚假发货拒不退款",
     "10月5日在平台购买了一台空气净化器，付款899元。商家显示已发货，但物流信息三天后就停止更新，联系快递公司说根本"
     "没有揽收记录。商家一直让我等待，超过十五天仍未收到货，我申请退款被商家拒绝，平台客服介入后也没有处理。请求退还"
     "货款899元。")
# Another refund complaint about a course, by someone else (same topic as B).
B2 = ("网课不满意申请退款遭拒",
      "9月份给孩子报了平台上的英语直播课，一共花了2680元。上了两周发现老师经常迟到，直播还频繁卡顿，于是申请退剩下"
      "的课时费。客服说课程已经开课超过七天，按合同只能退一半。购买时销售从没提过这个条款，合同也是付款后才发给我的。"
      "要求按未上课时全额退款。")

NEAR = {
    # A1 reworded: synonyms here and there.
    "A1-reworded": ("视频会员到期自动续费没有提前告知",
                    "我在2026年3月开通了海纳视频月度会员，当时页面没有清楚提示会自动续费。4月15日会员到期以后，平台在没有发送"
                    "任何短信或站内提醒的情况下，从我的微信支付扣了25元续费了一个月。我找在线客服要求退款，客服说自动续费协议"
                    "已在开通时勾选，不给退款。我认为平台没有履行到期前提醒义务，要求退还25元并关闭自动续费。"),
    "A1-reordered": ("视频会员到期自动续费未提前通知",
                     "4月15日会员到期后，平台在未发送任何短信或站内提醒的情况下，从我的微信支付扣款25元续费了一个月。我于2026年3月"
                     "开通了海纳视频月度会员，当时页面没有明确提示会自动续费。我认为平台未履行到期前提醒义务，要求退还25元并关闭"
                     "自动续费。我联系在线客服要求退款，客服称自动续费协议已在开通时勾选，不予退款。"),
    "A1-added": ("视频会员到期自动续费未提前通知",
                 "我于2026年3月开通了海纳视频月度会员，当时页面没有明确提示会自动续费。4月15日会员到期后，平台在未发送任何短信"
                 "或站内提醒的情况下，从我的微信支付扣款25元续费了一个月。我联系在线客服要求退款，客服称自动续费协议已在开通时"
                 "勾选，不予退款。之后我又打了两次客服电话，都是同样的答复。我认为平台未履行到期前提醒义务，要求退还25元并关闭"
                 "自动续费。"),
    "A1-typos": ("视频会员到期自动续废未提前通知",
                 "我于2026年3月开通了海纳视频月度会员，当时页面没有明确提示会自动续费。4月15日会员到其后，平台在未发送任何短信"
                 "或站内提醒的情况下，从我的微信支付扣款25元续费了一个月。我联系在线客户要求退款，客服称自动续费协义已在开通时"
                 "勾选，不予退款。我认为平台未履行到期前提醒义务，要求退还25元并关闭自动续费。"),
    "A1-punctuation": ("视频会员到期自动续费未提前通知!!!",
                       "我于2026年3月开通了海纳视频月度会员 当时页面没有明确提示会自动续费. 4月15日会员到期后 平台在未发送任何短信"
                       "或站内提醒的情况下 从我的微信支付扣款25元续费了一个月... 我联系在线客服要求退款, 客服称“自动续费协议已在开通时"
                       "勾选”, 不予退款!! 我认为平台未履行到期前提醒义务, 要求退还25元并关闭自动续费"),
    "A1-fullwidth": ("视频会员到期自动续费未提前通知",
                     "我于２０２６年３月开通了海纳视频月度会员，当时页面没有明确提示会自动续费。４月１５日会员到期后，平台在未发送任何短信"
                     "或站内提醒的情况下，从我的微信支付扣款２５元续费了一个月。我联系在线客服要求退款，客服称自动续费协议已在开通时"
                     "勾选，不予退款。我认为平台未履行到期前提醒义务，要求退还２５元并关闭自动续费。"),
    "A1-mixed": ("会员到期被自动续费，没有提前通知",
                 "4月15日会员到期后，平台没有发任何短信或站内提醒，就从我的微信支付扣款25元续费了一个月，我于2026年3月开通的"
                 "海纳视频月度会员，开通页面没有明确提示会自动续费。联系在线客服要求退款，客服称自动续费协议在开通时已经勾选，"
                 "不予退款. 我认为平台未履行到期前提醒义务，要求退还２５元并关闭自动续费，请尽快处理。"),
    "B-reworded": ("课程退款申请被拒绝",
                   "我在8月1日购买了一套编程课程，价格是1280元。课程宣传的时候承诺七天无理由退款，我在第三天因为课程内容和宣传不符"
                   "申请退款，客服以我已经看了两节课为由拒绝退款。宣传页面并没有写看过后不能退款，请平台按照承诺全额退款。"),
    "B-added-typos": ("课程退款被拒绝",
                      "我在8月1日购买了一套编程课程，价格1280元，订单号KC20260801。课程宣传时承诺七天无理由退款，我在第三天因为课程"
                      "内容与宣传不符申请退款，客服以我已经观看了两节课为由拒决退款。宣传页面并没有写观看后不能退款，请平台按照承诺"
                      "全额退款。"),
    "C-reordered": ("游戏账号无故被封禁",
                    "我从未使用过任何外挂软件，账号里累计充值超过三千元。我的游戏账号于9月10日突然被封禁十年，系统提示使用第三方"
                    "外挂。要求平台说明封号依据并解封账号。申诉三次都只收到模板回复，没有给出任何证据。"),
    "D-punctuation-fullwidth": ("注销账号后仍收到营销短信！",
                                "我在七月份已经申请注销了该平台的账号，注销成功的短信也收到了；但是最近一个月几乎每天都收到该平台的营销短信和"
                                "推销电话！！说明平台在注销后仍然保留并使用我的手机号……要求平台删除我的个人信息并停止骚扰"),
    "E-added": ("商家虚假发货拒不退款",
                "10月5日在平台购买了一台空气净化器，付款899元。商家显示已发货，但物流信息三天后就停止更新，联系快递公司说根本"
                "没有揽收记录。商家一直让我等待，超过十五天仍未收到货，我申请退款被商家拒绝，平台客服介入后也没有处理。聊天记录"
                "和物流截图都已上传。请求退还货款899元。"),
}
NEAR_OF = {key: {"A1": A1, "B": B, "C": C, "D": D, "E": E}[key.split("-")[0]] for key in NEAR}

# Different complaints against the same company about the same topic: never duplicates, never a cluster.
DIFFERENT = [(A1, A2), (A1, A3), (A2, A3), (A1, A4), (A3, A4), (B, B2), (A2, A4)]
# Different topics altogether.
UNRELATED = [(A1, B), (A1, C), (B, C), (C, D), (D, E), (A3, E)]

# A collective complaint: victims of one prepaid platform that stopped service, filing from a shared
# template with their own details, some adding a sentence or trimming one.
COLLECTIVE = [
    ("海纳学堂停止服务拒不退还预付学费",
     "本人于2026年1月8日在海纳学堂平台充值3600元购买年度学习卡。2026年5月平台突然发布公告称停止服务，账户余额无法"
     "使用也无法提现，客服电话一直无人接听，官方公众号也停止更新。平台收取大量用户预付款后不提供服务，要求平台退还剩余"
     "学费2700元。"),
    ("海纳学堂停止服务拒不退还预付学费",
     "本人于2025年11月20日在海纳学堂平台充值5800元购买两年学习卡。2026年5月平台突然发布公告称停止服务，账户余额无法"
     "使用也无法提现，客服电话一直无人接听，官方公众号也停止更新。平台收取大量用户预付款后不提供服务，要求平台退还剩余"
     "学费4950元。"),
    ("海纳学堂停止服务，预付学费不退",
     "本人于2026年3月2日在海纳学堂平台给孩子充值1980元购买半年学习卡，才上了六节课。2026年5月平台突然发布公告称停止"
     "服务，账户余额无法使用也无法提现，客服电话一直无人接听。平台收取大量用户预付款后不提供服务，要求平台退还剩余学费"
     "1650元。"),
    ("海纳学堂停止服务拒不退还预付学费",
     "本人于2025年9月15日在海纳学堂平台充值2400元购买年度学习卡。今年5月平台突然发布公告称停止服务，账户里的余额无法"
     "使用也无法提现，客服电话一直无人接听，官方公众号也停止更新，群里上百位家长都是同样情况。平台收取大量用户预付款后不"
     "提供服务，要求平台退还剩余学费900元。"),
    ("海纳学堂跑路 要求退还学费",
     "本人于2026年2月1日在海纳学堂平台充值4200元购买年度学习卡. 2026年5月平台突然发布公告称停止服务, 账户余额无法"
     "使用也无法提现, 客服电话一直无人接听, 官方公众号也停止更新. 平台收取大量用户预付款后不提供服务, 要求平台退还剩余"
     "学费3500元."),
]
# Independent complaints about the same incident, each in the complainant's own words: not a template.
INDEPENDENT_SAME_INCIDENT = [
    ("海纳学堂倒闭了钱退不回来",
     "我家孩子在海纳学堂报了英语课，交了三千多，五月份说关门就关门了，打电话没人接，找不到负责人，钱也退不了，希望"
     "有关部门帮忙追回学费。"),
    ("预付课时费无法退还",
     "今年年初在海纳学堂的小程序上买了一年的编程课，现在平台停止运营了，剩下四十多节课没上，申请退款一直没有回应，"
     "APP也打不开了。请求协助退款。"),
]


@pytest.fixture(scope="module")
def signature():
    segment = load_segmenter()

    def of(complaint: tuple[str, str]) -> Signature:
        made = Signature.of_text(similarity.complaint_text(*complaint), segment)
        assert made is not None
        return made

    return of


def test_the_thresholds_and_the_lsh_layout_belong_together():
    assert CLUSTER_SIMILARITY < DUPLICATE_SIMILARITY
    # The band layout is what datasketch's own LSH picks for the cluster threshold, false negatives weighted 0.7.
    lsh = MinHashLSH(threshold=CLUSTER_SIMILARITY, num_perm=NUM_PERM, weights=(0.3, 0.7))
    assert (lsh.b, lsh.r) == (LSH_BANDS, LSH_ROWS)


@pytest.mark.parametrize("variant", sorted(NEAR))
def test_near_duplicates_reach_the_duplicate_threshold(signature, variant):
    assert signature(NEAR[variant]).similarity(signature(NEAR_OF[variant])) >= DUPLICATE_SIMILARITY


@pytest.mark.parametrize(("first", "second"), DIFFERENT + UNRELATED)
def test_different_complaints_stay_below_both_thresholds_and_share_no_band(signature, first, second):
    a, b = signature(first), signature(second)
    assert a.similarity(b) < CLUSTER_SIMILARITY < DUPLICATE_SIMILARITY
    assert not set(a.band_keys()) & set(b.band_keys()), "not even read as a candidate"


def test_a_templated_collective_complaint_reaches_the_cluster_threshold_and_shares_bands(signature):
    signatures = [signature(complaint) for complaint in COLLECTIVE]
    for a, b in itertools.combinations(signatures, 2):
        assert a.similarity(b) >= CLUSTER_SIMILARITY
        assert set(a.band_keys()) & set(b.band_keys())


def test_the_same_incident_told_independently_is_no_cluster(signature):
    for told in INDEPENDENT_SAME_INCIDENT:
        for other in COLLECTIVE + [item for item in INDEPENDENT_SAME_INCIDENT if item is not told]:
            assert signature(told).similarity(signature(other)) < CLUSTER_SIMILARITY


def test_normalisation_folds_width_and_case_and_drops_punctuation_symbols_and_spaces():
    assert similarity.normalise("ＡＰＰ扣费２５元！！") == "app扣费25元  "
    assert similarity.normalise("客服:“不退”…\t😡 OK").split() == ["客服", "不退", "ok"]
    segment = load_segmenter()
    assert similarity.words("自动续费，未提醒。", segment) == similarity.words("自动续费 未提醒", segment)
    assert similarity.shingles(["会员", "自动", "续费"]) == {"会员 自动", "自动 续费"}
    assert similarity.shingles(["扣费"]) == {"扣费"}
    assert Signature.of_text("！！！ …… ", segment) is None, "nothing left to compare"


def test_signatures_are_deterministic_compact_and_survive_storage():
    made = Signature.of_shingles(["会员 自动", "自动 续费", "续费 扣款"])
    assert made is not None
    stored = made.to_bytes()
    assert len(stored) < 600
    # The same shingles give the same bytes in every process and release: fixed seed, scheme and byte order.
    assert hashlib.sha256(stored).hexdigest()[:16] == "e6d3b6989309b3e6"
    again = Signature.from_bytes(stored)
    assert again.similarity(made) == 1.0 and again.band_keys() == made.band_keys()
    keys = made.band_keys()
    assert len(keys) == LSH_BANDS and all(-(2**63) <= key < 2**63 for key in keys)
    assert Signature.of_shingles([]) is None


def _earlier(number: str, day: int, text: tuple[str, str], signature, cluster: str | None = None, formed: int | None = None):
    at = datetime(2026, 5, day, tzinfo=timezone.utc)
    return Earlier(number=number, submitted_at=at, signature=signature(text), cluster_id=cluster,
                   cluster_formed_at=None if formed is None else datetime(2026, 5, formed, tzinfo=timezone.utc))


def test_the_original_is_the_earliest_complaint_nearly_repeated(signature):
    earlier = [_earlier("GC-3", 3, A1, signature), _earlier("GC-2", 2, NEAR["A1-reworded"], signature),
               _earlier("GC-1", 1, A2, signature)]
    found = original_of(signature(NEAR["A1-typos"]), earlier, DUPLICATE_SIMILARITY)
    assert found is not None and found.number == "GC-2"
    assert original_of(signature(B), earlier, DUPLICATE_SIMILARITY) is None


def test_a_complaint_joins_the_oldest_cluster_it_matches_or_forms_one_with_the_earliest_match(signature):
    new = signature(COLLECTIVE[0])
    formed = choose_cluster(new, [_earlier("GC-7", 7, COLLECTIVE[1], signature), _earlier("GC-5", 5, COLLECTIVE[2], signature),
                                  _earlier("GC-6", 6, A1, signature)], CLUSTER_SIMILARITY)
    assert formed == similarity.ClusterChoice(cluster_id="CL-GC-5", also_joining=["GC-5", "GC-7"], first_number="GC-5")
    assert formed.forms
    joined = choose_cluster(new, [
        _earlier("GC-9", 9, COLLECTIVE[1], signature, cluster="CL-GC-8", formed=9),
        _earlier("GC-4", 4, COLLECTIVE[2], signature, cluster="CL-GC-3", formed=4),
        _earlier("GC-10", 10, COLLECTIVE[3], signature),
    ], CLUSTER_SIMILARITY)
    assert joined == similarity.ClusterChoice(cluster_id="CL-GC-3", also_joining=["GC-10"])
    assert not joined.forms
    assert choose_cluster(new, [_earlier("GC-6", 6, A1, signature)], CLUSTER_SIMILARITY) is None
