"""Finding people's names in published text: the complainant's in every spelling, and other people's by context.

The complainant's name is known, so it is looked for in the ways people write it: as given, in
Traditional or Simplified characters (OpenCC's character tables, both directions, mainland, Taiwan and
Hong Kong forms), and in pinyin, every reading of each character (单 is shan and dan), with or without
tone marks (the normaliser drops them), glued or spaced, surname first or last (Zhang San, zhangsan,
San Zhang, ZHANG-SAN), ü written u, v or yu.

Other people's names are not known. jieba's part-of-speech tagger marks the words it takes for a
person's name (``nr``); alone that is too eager (it tags place names, brand names and ordinary words),
so a tagged word is masked only where the context says it is a person: a cue before it (我叫, 联系人,
客服, 经理…) or a title or a verb of speech after it (先生, 经理, 说, 告诉…). The tagger runs only on text
that holds such a cue at all, which most published text does not.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from typing import Any

#: Words right before a name that say it is a person's.
CUES_BEFORE = (
    "我叫",
    "名叫",
    "叫做",
    "姓名",
    "名字",
    "联系人",
    "收件人",
    "收货人",
    "投诉人",
    "当事人",
    "本人",
    "我是",
    "签名",
    "署名",
    "客服",
    "员工",
    "业务员",
    "销售",
    "经理",
    "店长",
    "主管",
    "负责人",
    "工作人员",
    "师傅",
    "司机",
    "快递员",
    "骑手",
    "医生",
    "护士",
    "老师",
    "律师",
    "警官",
    "民警",
    "法人",
    "老板",
    "朋友",
    "同事",
    "邻居",
    "丈夫",
    "妻子",
    "老公",
    "老婆",
    "儿子",
    "女儿",
    "父亲",
    "母亲",
    "爸爸",
    "妈妈",
    "找到",
    "联系了",
    "致电",
    "委托",
    "代理人",
)
#: A person's titles: after a name they say it is a person's (王先生, 李经理).
PERSON_TITLES = (
    "先生",
    "女士",
    "小姐",
    "太太",
    "同学",
    "老师",
    "师傅",
    "经理",
    "总监",
    "主任",
    "主管",
    "医生",
    "护士",
    "律师",
    "警官",
    "同志",
    "老板",
    "店长",
    "阿姨",
    "大爷",
)
#: Words right after a name that say it is a person's: titles and verbs of speech and promise.
CUES_AFTER = (
    *PERSON_TITLES,
    "说",
    "称",
    "表示",
    "告诉",
    "答应",
    "承诺",
    "保证",
    "回复",
    "承认",
    "拒绝",
    "打电话",
    "来电",
    "签字",
    "本人",
    "等人",
)
#: Titles that jieba may tag together with the name before them (王先生 is one word to it).
TITLES = (
    *PERSON_TITLES,
    "总",
    "姐",
    "哥",
)
_CUE_PATTERN = re.compile("|".join(map(re.escape, sorted(set(CUES_BEFORE + CUES_AFTER), key=len, reverse=True))))
_CUES_BEFORE = re.compile(f"(?:{'|'.join(map(re.escape, CUES_BEFORE))})[：:，,是为 ]{{0,2}}$")
_CUES_AFTER = re.compile(f"[ ]?(?:{'|'.join(map(re.escape, CUES_AFTER))})")
#: jieba's tags for a person's name: Chinese (nr), a foreign name in transliteration (nrt), a full name (nrfg).
PERSON_TAGS = frozenset({"nr", "nrt", "nrfg"})
#: A tagged word longer than this is no name (a name has 2-4 characters; compound surnames make 4).
_LONGEST_NAME = 4

_tagger_lock = threading.Lock()
_tagger: Any = None


def _posseg() -> Any:
    """jieba's tagger, loaded once (its dictionary takes a second) and quiet about it."""
    global _tagger
    if _tagger is None:
        with _tagger_lock:
            if _tagger is None:
                import jieba
                import jieba.posseg

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _tagger = jieba.posseg
    return _tagger


def load() -> None:
    """Load the dictionaries (jieba's, OpenCC's, pypinyin's) now rather than on the first text that needs them."""
    _posseg()
    character_forms("张")
    syllables("张")


def may_name_someone(text: str) -> bool:
    """Whether ``text`` holds any cue that makes a tagged word a person's name (else the tagger need not run)."""
    return _CUE_PATTERN.search(text) is not None


#: How far around a cue the tagger looks (a name has at most four characters, a cue and its name share a clause).
_REACH = 10
_CLAUSE_END = frozenset("，。；！？,.;!?\n：:、（）()")


def _windows(text: str) -> list[tuple[int, int]]:
    """The stretches of ``text`` around its cues, each cut at the clause's punctuation, overlapping ones merged."""
    windows: list[list[int]] = []
    for cue in _CUE_PATTERN.finditer(text):
        start = cue.start()
        while start > 0 and cue.start() - start < _REACH and text[start - 1] not in _CLAUSE_END:
            start -= 1
        end = cue.end()
        while end < len(text) and end - cue.end() < _REACH and text[end] not in _CLAUSE_END:
            end += 1
        if windows and start <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], end)
        else:
            windows.append([start, end])
    return [(start, end) for start, end in windows]


def tagged_person_spans(text: str) -> list[tuple[int, int]]:
    """Where jieba tags a person's name that its context confirms: (start, end) in ``text``.

    Only the clauses around a cue are tagged: the tagger is the costliest step of the scrubber, and a name
    without a cue near it is not masked anyway.
    """
    spans = []
    for window_start, window_end in _windows(text):
        position = window_start
        for pair in _posseg().cut(text[window_start:window_end]):
            word = pair.word
            start, end = position, position + len(word)
            position = end
            if pair.flag not in PERSON_TAGS or not 2 <= len(word) <= _LONGEST_NAME + 2:
                continue
            title = next((title for title in TITLES if word.endswith(title)), None)
            if title is not None:
                # 王先生 is tagged as one name: the surname with its title identifies no one, a full name before it does.
                word, end = word[: -len(title)], end - len(title)
            if not 2 <= len(word) <= _LONGEST_NAME or not all("\u4e00" <= char <= "\u9fff" for char in word):
                continue
            if _CUES_BEFORE.search(text, max(0, start - 8), start) or _CUES_AFTER.match(text, end, end + 4):
                spans.append((start, end))
    return spans


# --- names right after a cue that always introduces one -------------------------------------------------------

#: Cues after which a name follows whatever the tagger makes of it (收件人：李华, 姓名 王五).
NAMING_CUES = (
    "我叫",
    "名叫",
    "姓名",
    "联系人",
    "收件人",
    "收货人",
    "投诉人",
    "当事人",
    "署名",
    "签名",
    "户主",
    "持卡人",
    "经办人",
    "代理人",
    "法定代表人",
)
#: The commonest surnames (single and compound): a cued word starting with one is a name.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲"
    "翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米"
    "柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "慕容",
    "令狐",
    "皇甫",
    "东方",
    "尉迟",
    "公孙",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "端木",
    "独孤",
    "南宫",
    "西门",
)
#: Characters that begin what follows a name rather than end the name (李华电话, 王五先生, 张三的).
_AFTER_NAME = frozenset("电手先女小的地住身性年男联邮微说是在和与及等称表告打来签同经老师")
_CUED_NAME = re.compile(
    rf"(?:{'|'.join(NAMING_CUES)})[：:\s]{{0,2}}((?:{'|'.join(COMPOUND_SURNAMES)}|[{SURNAMES}])[\u4e00-\u9fff]{{1,2}})"
)
#: A surname followed by one of these is a date or a count (于十月, 于2026年), not a name.
_NOT_A_GIVEN_NAME = frozenset("〇一二三四五六七八九十百千年月日号时分")


def cued_name_spans(text: str) -> list[tuple[int, int]]:
    """Names right after a cue that always introduces one (收件人：李华), cut before what follows them."""
    spans = []
    for match in _CUED_NAME.finditer(text):
        start, end = match.span(1)
        while end - start > 2 and text[end - 1] in _AFTER_NAME:
            end -= 1
        if text[start + 1] in _NOT_A_GIVEN_NAME:
            continue
        if text[start + 1] not in _AFTER_NAME or end - start > 2:
            spans.append((start, end))
    return spans


# --- the complainant's name in other scripts ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _converters() -> tuple[Any, ...]:
    import opencc

    return tuple(opencc.OpenCC(config) for config in ("s2t", "t2s", "s2tw", "tw2s", "s2hk", "hk2s"))


@lru_cache(maxsize=4096)
def character_forms(char: str) -> frozenset[str]:
    """``char`` and its Traditional and Simplified forms (one character each)."""
    forms = {char}
    if "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf":
        for converter in _converters():
            converted = converter.convert(char)
            if len(converted) == 1:
                forms.add(converted)
    return frozenset(forms)


_U_FORMS = {"ü": ("u", "v", "yu"), "v": ("u", "v", "yu")}


@lru_cache(maxsize=4096)
def syllables(char: str) -> tuple[str, ...]:
    """Every toneless pinyin reading of a Chinese character, ü also spelled u, v and yu; () for anything else."""
    if not ("\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"):
        return ()
    from pypinyin import Style, pinyin

    readings: set[str] = set()
    for reading in pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore", v_to_u=True)[0]:
        reading = reading.lower()
        readings.add(reading)
        for letter, spellings in _U_FORMS.items():
            if letter in reading:
                readings.update(reading.replace(letter, spelling) for spelling in spellings)
    return tuple(sorted(readings))
