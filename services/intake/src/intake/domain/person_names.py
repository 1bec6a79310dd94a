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
#: Words right after a name that say it is a person's: titles and verbs of speech and promise.
CUES_AFTER = (
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
_tagger = None


def _posseg():
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


# --- the complainant's name in other scripts ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _converters():
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
