"""Removing personal data from text before it is published (公示).

Everything the platform shows the public passes through :func:`scrub` first. It reads the text through
:mod:`intake.domain.text_normalisation`, which undoes the disguises people use to slip data past a filter
(full-width and circled digits, invisible characters, 幺三八 for 138, O and l for 0 and 1, commas and
line breaks inside a number, tone marks), and replaces with a visible mask (:data:`MASK` for numbers and addresses,
:data:`NAME_MASK` for names) the stretch of the ORIGINAL text each finding came from:

* mainland resident ID numbers: 18 characters (check character a digit, ``X`` or ``x``) and the old
  15-digit ones, also the residence permits of Hong Kong, Macao and Taiwan residents (83...) and the
  foreigners' permanent residence ID of 2023 (9 + a province code). What counts is the *shape*: a
  region code in use and a plausible birth date. The check digit is not required, because a
  mistyped ID number is still nearly the person's ID number;
* Hong Kong identity card numbers (A123456(7), with or without brackets when the check digit holds),
  Macao ones (1234567(8), or after a cue), Taiwan ones (A123456789), passports (E/G + 8 digits, EA1234567,
  the Hong Kong, Macao and Taiwan travel permits C, H, M, T...), and any 6-12 character number after
  护照, 通行证, 回乡证, 台胞证 or passport;
* mobile numbers (1[3-9] and nine digits), with or without +86, 86, 0086 or a leading 0; Taiwan's
  (09 and eight digits); any number written with a country code (+852 9123 4567);
* landline numbers with their area code (010-12345678, (0755)12345678, +86 755 1234 5678) and
  an extension written after them (转123, 分机123, ext 123, -123); a 7-8 digit local number without
  area code only right after 电话, 座机, 固话, tel or phone;
* bank card numbers: 16 to 19 digits that pass the Luhn check, and 12 to 19 digits after 卡号, 银行卡,
  账号 or card whatever their check (a mistyped card number is still nearly the card's). 16-19 digits
  that fail it without such a cue are kept: they are order and tracking numbers;
* e-mail addresses, also with a full-width ＠, spaces around the @, and the disguises people
  write to keep them from crawlers: ``#`` for @ (zhangsan#qq.com), ``(at)``, ``[at]``, 艾特,
  ``(dot)``, 点, ``。`` for the dot, and spelled out in words when both the at and a dot are words
  (``zhang at example dot com``) or the domain is a mail provider's (``zhangsan at qq.com``, also
  ``123456@qq`` without its ending). ``look at example.com`` stays: that names a website;
* QQ numbers (5-11 digits) and WeChat ids right after QQ, 扣扣, 企鹅, 微信, 威信, V信, wechat, vx or wx;
* licence plates: a province's character, a letter and five or six letters and digits (粤B·12345,
  京AD12345, 粤Z1234港), spaced or dotted;
* street addresses below the district: a road, street or lane with its number (建国路88号, 人民街3号院),
  a residential compound with its buildings (阳光小区3栋2单元501室), and the building, unit, floor and
  room numbers themselves. The district, city and province stay: they are what a statistic needs;
* the complainant's own name, as given, with spaces or dots between its characters, in any
  case and in full-width letters, in Traditional or Simplified characters and in pinyin
  (:mod:`intake.domain.person_names`); Latin names only as whole words. Where the full name is known,
  its surname followed by a title (张先生, 张女士, 欧阳小姐, Mr. Smith) loses the surname:
  "**先生". In the complainant's own text those words are most often the complainant; a clerk
  of the same surname is masked too, which costs nothing. Given names alone (建国, 国庆) and 老张
  or 小张 are not masked: they are too often ordinary words or other people, and with the full
  name gone a bare surname identifies no one;
* other people's full names, where jieba's tagger takes a word for a name and the words around it say
  it is a person (客服王小明说, 联系人李四), and any word starting with a common surname right after a cue
  that always introduces a name (收件人：李华, 姓名 王五).

Where the two kinds of error compete, a false negative is worse than a false positive: a leaked
ID number cannot be taken back, a masked order number costs a reader a detail. So numbers are
found inside words (手机号13800138000联系我, abc13800138000), split by spaces, dashes, dots, commas,
slashes, underscores, line breaks or brackets, and a card-shaped number that happens to pass Luhn or an
order number that looks like a landline is masked with them.

What is kept, because it is no person's: amounts (¥1,280.00, 1280元), dates and times, order and
tracking numbers that are neither ID-shaped nor Luhn-valid at card length, version numbers, app
and company names, URLs (a phone number inside one is still masked), and companies' service
numbers: 400/800 hotlines, 95xxx and 96xxx, 10086-style carrier and 123xx government numbers.
None of these has a person's shape, so they are kept by construction, not by a list. A company's
ordinary landline cannot be told from a person's and is masked.

How: numbers are read as runs of digit groups joined by separators; every stretch of consecutive
groups is tried, longest first, so "138 0013 8000" is one mobile number and "13800138000 0755 12345678"
is two numbers. No pattern backtracks over what it cannot match (e-mail addresses are read outwards
from their at sign, a stretch of groups never exceeds 19 digits), so the slowest hostile 5,000-character
rows take milliseconds (``bench.scrubbing``), and text with nothing a finding could start from returns
at once: this runs on every public write and export row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from intake.domain.identity import PROVINCE_CODES
from intake.domain.person_names import (
    character_forms,
    cued_name_spans,
    may_name_someone,
    syllables,
    tagged_person_spans,
)
from intake.domain.text_normalisation import Normalised, normalise

MASK = "***"
NAME_MASK = "**"

# Hong Kong, Macao and Taiwan residents' residence permits start 81, 82 and 83.
_ID_REGIONS = PROVINCE_CODES | {"83"}
# A card number has at most 19 digits; +86 / 0086 with a landline and extension stays below it too.
_MAX_DIGITS = 19

Span = tuple[int, int]


def fold(text: str) -> str:
    """The text as the scrubber reads it (see :mod:`intake.domain.text_normalisation`)."""
    return normalise(text).text


# --- numbers ----------------------------------------------------------------------------------------

_GROUP = r"[0-9]+(?:[Xx](?![A-Za-z]))?"
# An ID number's check character may stand apart, as its own group: 11010519491231002 X.
_LONE_X = r"(?<![A-Za-z])[Xx](?![A-Za-z])"
# Spaces, line breaks, dashes, dots, middle dots, brackets, commas, slashes and underscores (not 、, which lists).
_SEPARATOR = r"[ \t\r\n\-.·(),/_]{1,3}"
_RUN = re.compile(rf"[(+]{{0,2}}{_GROUP}(?:{_SEPARATOR}(?:{_GROUP}|{_LONE_X}))*")
_GROUP_IN_RUN = re.compile(rf"{_GROUP}|{_LONE_X}")
_MOBILE = re.compile(r"(?:0086|86|0)?1[3-9][0-9]{9}")
# Taiwan's mobiles, 09 and eight digits (no mainland number is ten digits starting 09: Xinjiang's 09xx area codes
# take seven or eight more).
_TAIWAN_MOBILE = re.compile(r"(?:00886|886)?0?9[0-9]{8}")
_LANDLINE = re.compile(r"(?:(?:00)?860?|0)(?:10|2[0-9]|[3-9][0-9]{2})[1-9][0-9]{6,7}")
_EXTENSION = re.compile(r"[ \t]{0,2}(?:转|分机|ext\.?|x|#)[ \t]{0,2}[0-9]{1,6}(?![0-9])", re.IGNORECASE)
# Cues right before a run that make a short number personal: at most a few characters before it, and
# no other number (nor the mask of one) in between.
_PHONE_CUE = re.compile(r"(?:电话|座机|固话|(?<![A-Za-z])(?:tel|phone))[^0-9\n*]{0,4}\Z", re.IGNORECASE)
_QQ_CUE = re.compile(r"(?:(?<![A-Za-z])(?:qq|q号|q[:：])|扣扣|企鹅号?|球球)[^0-9\n*]{0,4}\Z", re.IGNORECASE)
_CARD_CUE = re.compile(
    r"(?:卡号|银行卡|储蓄卡|信用卡|借记卡|账号|帐号|账户|帐户|(?<![A-Za-z])(?:card|account))"
    r"[^0-9\n*]{0,6}\Z",
    re.IGNORECASE,
)
# A number followed by one of these is an amount, a date or a count, not a local phone number.
_UNITS = frozenset("元块年月日时分秒次个%")
# The fewest digits a personal number has: a QQ number after its cue, a local number after 电话, a bank
# account after 账号, else a landline with its area code (0 + 2 + 7).
_SHORTEST = {"qq": 5, "phone": 7, "card": 12, None: 10}


def _plausible_birth(year: int, month: int, day: int) -> bool:
    return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def _id_shaped(value: str) -> bool:
    """An 18- or 15-character resident ID by its shape: a region code in use and a plausible birth date."""
    if len(value) == 18 and value[:17].isdigit() and value[17] in "0123456789Xx":
        region_ok = value[:2] in _ID_REGIONS or (value[0] == "9" and value[1:3] in PROVINCE_CODES)
        return region_ok and _plausible_birth(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    if len(value) == 15 and value.isdigit():
        return value[:2] in _ID_REGIONS and _plausible_birth(
            1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])
        )
    return False


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _personal_number(value: str, cue: str | None) -> str | None:
    """What kind of personal number ``value`` (digits, perhaps a final X) is, None if none."""
    if _id_shaped(value):
        return "id"
    if not value.isdigit():
        return None
    if 16 <= len(value) <= 19 and luhn_valid(value):
        return "card"
    if cue == "card" and 12 <= len(value) <= 19:
        return "card"
    if _MOBILE.fullmatch(value) or _TAIWAN_MOBILE.fullmatch(value):
        return "mobile"
    if _LANDLINE.fullmatch(value):
        return "landline"
    if cue == "phone" and 7 <= len(value) <= 8 and value[0] in "23456789":
        return "local"
    if cue == "qq" and 5 <= len(value) <= 11 and value[0] != "0":
        return "qq"
    return None


def _cue_before(folded: str, position: int) -> str | None:
    window = max(0, position - 12)
    if _PHONE_CUE.search(folded, window, position):
        return "phone"
    if _QQ_CUE.search(folded, window, position):
        return "qq"
    if _CARD_CUE.search(folded, window, position):
        return "card"
    return None


# A phone number with its country code (+852 9123 4567, +1 (415) 555-0100): whatever the country, it is a phone.
_INTERNATIONAL = re.compile(
    r"(?<![0-9A-Za-z])\+[ ]?\(?[1-9][0-9]{0,2}\)?[ \-.]?\(?(?:[0-9][ \-.()]?){6,12}[0-9](?![0-9])"
)


def _number_spans(folded: str) -> list[Span]:
    spans = [match.span() for match in _INTERNATIONAL.finditer(folded)] if "+" in folded else []
    for run in _RUN.finditer(folded):
        if run.end() - run.start() < _SHORTEST["qq"]:
            continue  # dates, counts and amounts: shorter than any personal number
        cue = _cue_before(folded, run.start())
        offset = run.start()
        groups = [
            (offset + match.start(), offset + match.end(), match.group())
            for match in _GROUP_IN_RUN.finditer(run.group())
        ]
        first = 0
        while first < len(groups):
            found = _longest_number(folded, groups, first, offset, cue if first == 0 else None)
            # Right after a cue the number is the person's (QQ：12345 6789), whatever it starts like.
            hotline = None if first == 0 and cue else _hotline_end(groups, first)
            if found is None and len(groups[first][2]) >= _GLUED_FROM:
                glued = _glued_numbers(groups[first], cue if first == 0 else None)
                spans += glued
                group_start, group_end, digits = groups[first]
                if len(glued) == 1 and glued[0][0] == group_start and glued[0][1] < group_end:
                    # What follows the number at the start of the group may begin the next one (138 of
                    # 13800138000138-0013-8000): it is read on as a group of its own.
                    groups[first] = (glued[0][1], group_end, digits[glued[0][1] - group_start :])
                    continue
                if glued:
                    first += 1
                    continue
            if found is None or (hotline is not None and found[3] not in ("id", "card") and found[2] != hotline):
                # A company's service number is no person's, nor is it the start of a phone number: go on after it.
                # An ID or card number that starts like one (a Visa card may start 400) is masked all the same.
                first = first + 1 if hotline is None else hotline + 1
                continue
            start, end, last, kind = found
            if kind in ("landline", "local"):
                end = _with_extension(folded, groups, last, end)
            spans.append((start, end))
            first = last + 1
    return spans


def _longest_number(
    folded: str, groups: list[tuple[int, int, str]], first: int, run_start: int, cue: str | None
) -> tuple[int, int, int, str] | None:
    """The longest stretch of groups from ``first`` that is a personal number: (start, end, last group, kind)."""
    stretch, total = [], 0
    for _, _, text in groups[first:]:
        total += len(text)
        if total > _MAX_DIGITS + 1:
            break
        stretch.append(text)
        if text[-1] in "Xx":
            break  # an X ends an ID number: no stretch goes on past it
    start = groups[first][0]
    value = "".join(stretch)
    for last in range(first + len(stretch) - 1, first - 1, -1):
        end = groups[last][1]
        if len(value) < min(_SHORTEST[cue], _SHORTEST[None]):
            return None
        kind = _personal_number(value, cue)
        if kind is None and value[-1] in "Xx":
            # A number followed by a stray X (13800138000X): the X is no part of it.
            kind = _personal_number(value[:-1], cue)
            if kind is not None:
                end = groups[last - 1][1] if groups[last][2] in "Xx" and last > first else end - 1
        if kind in ("landline", "local", "qq") and len(value) <= 11 and folded[end : end + 3].lstrip()[:1] in _UNITS:
            kind = None
        if kind == "local" and last - first == 2 and len(groups[first][2]) == 4:
            kind = None  # 2026-10-20 after 电话 is the date of a call, not a number
        if kind is not None:
            # A leading + belongs to the number, and so does a ( closed inside it: (0755)12345678.
            prefix = folded[run_start:start] if first == 0 else ""
            if "+" in prefix or (prefix and ")" in folded[start:end]):
                start = run_start
            return start, end, last, kind
        value = value[: len(value) - len(groups[last][2])]
    return None


_MOBILE_INSIDE = re.compile(r"1[3-9][0-9]{9}")
_GLUED = re.compile(r"(?=([0-9]{17}[0-9Xx]|1[3-9][0-9]{9}))")


_GLUED_FROM = 12


def _glued_numbers(group: tuple[int, int, str], cue: str | None) -> list[Span]:
    """Numbers glued together (13800138000138, 12345678 then a mobile after QQ) in a group no one number matches.

    Past 19 digits every ID number and mobile in the group is masked; from 12 digits on, one at the start of the
    group, or the whole group right after a QQ cue (or a phone cue, when a mobile is in it). An order number of 12-19 digits that merely
    contains a mobile's shape somewhere in its middle is kept.
    """
    start, end, digits = group
    if cue == "qq" or (cue == "phone" and _MOBILE_INSIDE.search(digits)):
        return [(start, end)]
    if len(digits) <= _MAX_DIGITS:
        first = _GLUED.match(digits)
        if first is None:
            return []
        candidate = first.group(1)
        if len(candidate) == 18 and not _id_shaped(candidate):
            candidate = candidate[:11] if _MOBILE.fullmatch(candidate[:11]) else ""
        return [(start, start + len(candidate))] if candidate else []
    spans: list[Span] = []
    for match in _GLUED.finditer(digits):
        candidate = match.group(1)
        if spans and start + match.start() < spans[-1][1]:
            continue
        if len(candidate) == 18 and not _id_shaped(candidate):
            mobile = _MOBILE.match(candidate)
            candidate = mobile.group() if mobile and len(mobile.group()) == 11 else ""
        if candidate:
            spans.append((start + match.start(), start + match.start() + len(candidate)))
    return spans


_HOTLINE = re.compile(r"(?:400|800)[0-9]{7}|9[56][0-9]{3,4}|1[0-2][0-9]{3}")


def _hotline_end(groups: list[tuple[int, int, str]], first: int) -> int | None:
    """The last group of a service number (400/800 hotline, 95xxx, 96xxx, 10xxx-12xxx) starting at ``first``.

    A hotline is written as its companies print it: 400 and 800 in their first group (400-820-8820), 95588 as
    one group. A number that merely starts with 4 0 0 digit by digit is no hotline (a Visa card may)."""
    if not groups[first][2].startswith(("400", "800", "95", "96", "10", "11", "12")):
        return None
    if not groups[first][2].startswith(("400", "800")):
        # A short service number is one group as printed (95588, 12315): "12" and "138" apart are a count and
        # the start of a mobile number (12 138-0013-8000), never the hotline 12138.
        return first if _HOTLINE.fullmatch(groups[first][2]) else None
    value = ""
    for last in range(first, min(first + 4, len(groups))):
        value += groups[last][2]
        if len(value) > 10:
            return None
        if _HOTLINE.fullmatch(value):
            return last
    return None


def _with_extension(folded: str, groups: list[tuple[int, int, str]], last: int, end: int) -> int:
    """The end of a landline number with its extension: "-123" as the next group, or "转123" after it."""
    if last + 1 < len(groups):
        following_start, following_end, following = groups[last + 1]
        if len(following) <= 6 and "-" in folded[end:following_start]:
            end = following_end
    extension = _EXTENSION.match(folded, end)
    return extension.end() if extension else end


# --- identity documents with letters ---------------------------------------------------------------------

# Letters and digits of one document number may be spaced or dashed apart: A 123 456 (7), E-1234-5678.
_DOC_GAP = r"[ \-.·_]?"


def _spaced(pattern: str) -> str:
    """``pattern`` (a sequence of single-character classes) with an optional gap between its characters."""
    parts = re.findall(r"\[[^\]]+\](?:\{\d+(?:,\d+)?\})?|\\?.(?:\{\d+(?:,\d+)?\})?", pattern)
    out = []
    for part in parts:
        repeat = re.fullmatch(r"(.+)\{(\d+)(?:,(\d+))?\}", part)
        if repeat and repeat.group(1) not in ("\\", ""):
            atom, low, high = repeat.group(1), int(repeat.group(2)), int(repeat.group(3) or repeat.group(2))
            out.append(f"{atom}(?:{_DOC_GAP}{atom}){{{low - 1},{high - 1}}}")
        else:
            out.append(part)
    return _DOC_GAP.join(out)


_EDGE_BEFORE, _EDGE_AFTER = r"(?<![A-Za-z0-9])", r"(?![A-Za-z])"
_HONG_KONG = re.compile(
    _EDGE_BEFORE + rf"([A-Z]{{1,2}}){_DOC_GAP}((?:[0-9]{_DOC_GAP}){{5}}[0-9])"
    rf"{_DOC_GAP}(?:\(([0-9A])\)|([0-9A]))" + _EDGE_AFTER,
    re.IGNORECASE,
)
_MACAO = re.compile(_EDGE_BEFORE + rf"[157](?:{_DOC_GAP}[0-9]){{6}}{_DOC_GAP}\([0-9]\)" + _EDGE_AFTER)
_TAIWAN = re.compile(_EDGE_BEFORE + rf"[A-Z]{_DOC_GAP}[12890](?:{_DOC_GAP}[0-9]){{8}}" + _EDGE_AFTER, re.IGNORECASE)
# Passports (E/G + 8 digits, EA1234567, diplomatic and service DE/SE/PE), the travel permits to Hong Kong and
# Macao (C), the home-return permits (H/M) and the Taiwan permits (T): one letter or two and 7-10 digits.
_PASSPORT = re.compile(
    _EDGE_BEFORE + rf"(?:[EGDSPCHMT]|E[A-HJ-NP-Z]|[DSP]E|C[A-Z])(?:{_DOC_GAP}[0-9]){{7,10}}" + _EDGE_AFTER,
    re.IGNORECASE,
)
_DOCUMENT_CUE = re.compile(
    r"(?:护照|通行证|回乡证|台胞证|居留证|居住证|证件号?码?|(?:香港|澳门|台湾|澳門|臺灣)身份[证證]号?码?|身份證|passport|HKID|"
    r"ID\s?(?:No|number))"
    r"[^A-Za-z0-9\n*]{0,6}([A-Z0-9](?:[ \-]?[A-Z0-9]){5,24}(?:\([0-9A]\))?)" + _EDGE_AFTER,
    re.IGNORECASE,
)


def _hong_kong_check_valid(prefix: str, digits: str, check: str) -> bool:
    letters = prefix.upper().rjust(2, " ")
    values = [36 if char == " " else ord(char) - 55 for char in letters] + [int(char) for char in digits]
    total = sum(value * weight for value, weight in zip(values, range(9, 1, -1), strict=True))
    expected = (11 - total % 11) % 11
    return check.upper() == ("A" if expected == 10 else str(expected))


def _document_spans(folded: str) -> list[Span]:
    spans = _document_matches(folded)
    # A document number glued to more digits (A12345678913800138000) takes them with it.
    return [(start, _digits_end(folded, end)) for start, end in spans]


def _digits_end(folded: str, end: int) -> int:
    while end < len(folded) and folded[end].isdigit():
        end += 1
    return end


def _document_matches(folded: str) -> list[Span]:
    spans = []
    for match in _HONG_KONG.finditer(folded):
        digits = re.sub(r"[^0-9]", "", match.group(2))
        bracketed = match.group(3) is not None
        if bracketed or _hong_kong_check_valid(match.group(1), digits, match.group(4)):
            spans.append(match.span())
    spans += [match.span() for match in _MACAO.finditer(folded)]
    spans += [match.span() for match in _TAIWAN.finditer(folded)]
    spans += [
        match.span() for match in _PASSPORT.finditer(folded) if sum(char.isdigit() for char in match.group()) >= 7
    ]
    for match in _DOCUMENT_CUE.finditer(folded):
        if sum(char.isdigit() for char in match.group(1)) >= 6:
            spans.append(match.span(1))
    return spans


# --- licence plates --------------------------------------------------------------------------------------

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
_PLATE_GAP = r"[ ·.\-]{0,2}"
_PLATE = re.compile(
    rf"[{_PROVINCES}]{_PLATE_GAP}[A-Z]{_PLATE_GAP}((?:[A-Z0-9]{_PLATE_GAP}){{4,5}}[A-Z0-9挂学警港澳领试超])"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def _plate_spans(folded: str) -> list[Span]:
    return [match.span() for match in _PLATE.finditer(folded) if sum(char.isdigit() for char in match.group(1)) >= 2]


# --- street addresses -------------------------------------------------------------------------------------

# A road's name: up to eight characters back from 路/街/巷..., not across the district or a verb of place.
_ROAD_NAME_STOP = set("省市区县州旗镇乡在住于的是到从和与及至、，。；：:,;()（） \n\t")
_ROAD = re.compile(r"(?:大道|大街|路|街|巷|弄|胡同|道)(?=[0-9一二三四五六七八九十东西南北中甲乙丙])")
_UNIT = r"(?:号楼|号院|号|栋|幢|座|单元|楼|层|室|户|房|门|期|区|排|组)"
_UNIT_NUMBER = rf"(?:[0-9]+|[A-Z]|[一二三四五六七八九十]+)(?:[\-之][0-9]+)?{_UNIT}"
_UNITS_RUN = re.compile(rf"(?:{_UNIT_NUMBER}[ \t]?)+", re.IGNORECASE)
_COMPOUND = re.compile(
    r"(?:小区|花园|公寓|大厦|家园|新村|社区|苑|府|城|广场|村|里|坊|公馆)(?=[ \t]?[0-9A-Z一二三四五六七八九十])"
)
_BUILDING_UNITS = ("号楼", "号院", "栋", "幢", "单元", "室", "户", "层", "排")


def _road_start(folded: str, end: int) -> int:
    start = end
    while (
        start > 0 and end - start < 8 and folded[start - 1] not in _ROAD_NAME_STOP and not folded[start - 1].isdigit()
    ):
        start -= 1
    return start


# A room number written bare after its building or unit: 3栋2单元501.
_BARE_ROOM = re.compile(r"[ \t\-]?[0-9零〇一二三四五六七八九]{2,5}(?![0-9零〇一二三四五六七八九])")
_ROOM_AFTER = ("单元", "栋", "幢", "座", "楼", "号")


def _address_spans(folded: str) -> list[Span]:
    spans = []
    for units in _UNITS_RUN.finditer(folded):
        text = units.group().rstrip()
        start, end = units.start(), units.start() + len(text)
        room = _BARE_ROOM.match(folded, end) if text.endswith(_ROOM_AFTER) else None
        if room is not None and folded[room.end() : room.end() + 1] not in _UNITS:
            end = room.end()
        before = folded[max(0, start - 6) : start]
        road = _ROAD.search(folded, max(0, start - 4), start + 1)
        compound = _COMPOUND.search(folded, max(0, start - 4), start + 1)
        if road and road.end() <= start + 1 and folded[road.end() : start].strip() == "":
            spans.append((_road_start(folded, road.start()), end))
        elif compound and folded[compound.end() : start].strip() == "":
            spans.append((_road_start(folded, compound.start()), end))
        elif any(unit in text for unit in _BUILDING_UNITS) and not before.endswith(("月", "第")):
            spans.append((start, end))
    return spans


# --- e-mail addresses and messenger ids ----------------------------------------------------------------

# An e-mail address is found from its at sign: the local part is read backwards from it (at most 64
# characters, RFC 5321) and the domain forwards, so every at sign costs a bounded look and an address
# glued to the text before it (...com123@qq.com) is still found.
_LOCAL_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_LOCAL_MAX = 64
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_AT_SIGN = re.compile(r"[ \t]{0,2}(?:@|\(at\)|\[at\]|\{at\}|<at>|（at）|艾特|圈a)[ \t]{0,2}|#", re.IGNORECASE)
_DOT = r"(?:[ \t]+dot[ \t]+|[ \t]{0,2}(?:\.|。|\(dot\)|\[dot\]|\{dot\}|<dot>|\[\.\]|\(\.\)|点|點)[ \t]{0,2})"
_DOMAIN = re.compile(rf"{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[A-Za-z]{{2,24}}(?![A-Za-z])", re.IGNORECASE)
# The mail providers people name: an address on one of them is an address even spelled "at" or without its ending.
_MAIL_PROVIDERS = (
    "qq",
    "foxmail",
    "163",
    "126",
    "yeah",
    "sina",
    "sohu",
    "139",
    "189",
    "wo",
    "aliyun",
    "tom",
    "gmail",
    "googlemail",
    "hotmail",
    "outlook",
    "live",
    "msn",
    "yahoo",
    "icloud",
    "me",
    "proton",
    "protonmail",
    "yandex",
    "mail",
    "21cn",
    "263",
)
_PROVIDER = "|".join(_MAIL_PROVIDERS)
_BARE_PROVIDER = re.compile(rf"(?:{_PROVIDER})(?![A-Za-z.])", re.IGNORECASE)
_SPELLED_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*[ \t]+at[ \t]+(?:{_LABEL}"
    rf"(?:[ \t]+dot[ \t]+{_LABEL})+|(?:{_PROVIDER}){_DOT}(?:com|net|cn|com\.cn|org))"
    rf"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_EMAIL_HINT = re.compile(r"[@#]|艾特|圈a|(?<![A-Za-z])at(?![A-Za-z])", re.IGNORECASE)
# A WeChat id: 6-20 letters, digits, _ or -, starting with a letter (the rule WeChat sets for them); what
# runs on past 20 such characters is glued-on text, and the id is masked all the same.
_WECHAT = re.compile(
    r"(?:微信号?|威信|薇信|徽信|[vV]信|(?<![A-Za-z])(?:wechat|weixin|vx|wx|v))(?:号码|号|id)?"
    r"(?:是|为|：|:)?[:\s]{0,3}([A-Za-z][A-Za-z0-9_\-]{5,19})",
    re.IGNORECASE,
)


def _email_spans(folded: str) -> list[Span]:
    spans = []
    for at in _AT_SIGN.finditer(folded):
        start = at.start()
        while start > 0 and at.start() - start < _LOCAL_MAX and folded[start - 1] in _LOCAL_CHARACTERS:
            start -= 1
        while start < at.start() and not folded[start].isalnum():
            start += 1  # a local part starts with a letter or digit
        if start >= at.start():
            continue
        domain = _DOMAIN.match(folded, at.end())
        if domain is None and "#" not in at.group():
            domain = _BARE_PROVIDER.match(folded, at.end())
        if domain is not None:
            spans.append((start, domain.end()))
    return spans + [match.span() for match in _SPELLED_EMAIL.finditer(folded)]


def _contact_spans(folded: str) -> list[Span]:
    spans = _email_spans(folded) if _EMAIL_HINT.search(folded) else []
    return spans + [match.span(1) for match in _WECHAT.finditer(folded)]


# --- names ------------------------------------------------------------------------------------------

# What may stand between the characters of a name as people write it: spaces, middle dots, dashes, quotes.
_NAME_GAP = r"[ \t·.\-_'’]{0,3}"
_NAME_SKIPPED = frozenset(" \t·.-_'’")
_TITLES_AFTER = "先生|女士|小姐|太太|夫人|同学|老师|师傅"
_TITLES_BEFORE = r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Dr)\.?[ \t]{1,2}"


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _character_class(char: str) -> str:
    forms = character_forms(char) if _is_han(char) else {char}
    return re.escape(char) if len(forms) == 1 else "[" + "".join(map(re.escape, sorted(forms))) + "]"


def _pinyin_pattern(letters: list[str]) -> re.Pattern[str] | None:
    """The name in pinyin, each syllable any reading of its character, glued or apart, surname first or last."""
    readings = [syllables(char) for char in letters]
    if len(readings) < 2 or not all(readings):
        return None
    alternatives = [
        "(?:" + "|".join(map(re.escape, sorted(reading, key=len, reverse=True))) + ")" for reading in readings
    ]
    surname_first = _NAME_GAP.join(alternatives)
    given_first = _NAME_GAP.join(alternatives[1:] + alternatives[:1])
    if len(alternatives) >= 3:
        given_first = f"(?:{given_first}|{_NAME_GAP.join(alternatives[2:] + alternatives[:2])})"
    return re.compile(rf"(?<![A-Za-z])(?:{surname_first}|{given_first})(?![A-Za-z])", re.IGNORECASE)


@lru_cache(maxsize=256)
def _name_patterns(name: str) -> tuple[re.Pattern[str], ...]:
    """The patterns that find ``name`` (the whole name, and its surname with a title), none for a name under 2 letters."""
    letters = [char for char in fold(name) if char not in _NAME_SKIPPED and not char.isspace()]
    if len(letters) < 2:
        return ()
    whole = _NAME_GAP.join(_character_class(char) for char in letters)
    if _is_latin(letters[0]):
        whole = "(?<![A-Za-z])" + whole
    if _is_latin(letters[-1]):
        whole += "(?![A-Za-z])"
    patterns = [re.compile(whole, re.IGNORECASE)]
    if all(_is_latin(char) for char in letters):
        words = [word for word in re.split(r"[\s·.\-_'’]+", fold(name)) if len(word) >= 2]
        if words:
            alternatives = "|".join(re.escape(word) for word in words)
            patterns.append(re.compile(rf"{_TITLES_BEFORE}((?:{alternatives})(?![A-Za-z]))", re.IGNORECASE))
    elif all(_is_han(char) for char in letters):
        surnames = [_character_class(letters[0])]
        if len(letters) >= 3:
            surnames.insert(0, _character_class(letters[0]) + _character_class(letters[1]))
        patterns.append(re.compile(rf"((?:{'|'.join(surnames)}))(?=[ \t]?(?:{_TITLES_AFTER}))"))
        pinyin = _pinyin_pattern(letters)
        if pinyin is not None:
            patterns.append(pinyin)
            surname = "(?:" + "|".join(map(re.escape, syllables(letters[0]))) + ")"
            patterns.append(re.compile(rf"{_TITLES_BEFORE}({surname})(?![A-Za-z])", re.IGNORECASE))
    return tuple(patterns)


def _name_spans(folded: str, names: Iterable[str]) -> list[Span]:
    spans = []
    for name in {name.strip() for name in names if name and name.strip()}:
        for pattern in _name_patterns(name):
            spans += [match.span(match.lastindex or 0) for match in pattern.finditer(folded)]
    return spans


# --- the scrubber -----------------------------------------------------------------------------------

_ANYTHING_TO_LOOK_AT = re.compile(
    r"[0-9０-９@＠﹫#〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖幺两洞拐勾\u2460-\u24ff\u2776-\u2793\U0001D7CE-\U0001D7FF]"
    r"|艾特|圈a|微信|威信|薇信|徽信|[vV]信|(?<![A-Za-z])(?:at|wechat|weixin|vx|wx)(?![A-Za-z])"
    r"|(?<![A-Za-z])(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)(?![A-Za-z])",
    re.IGNORECASE,
)


def scrub(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with personal data masked; ``names`` are names known to belong to the person (the complainant's)."""
    names = [name for name in names if name]
    if not text:
        return text
    cued = may_name_someone(text)
    if not names and not cued and not _ANYTHING_TO_LOOK_AT.search(text) and text.isascii():
        return text
    normalised = normalise(text)
    folded = normalised.text
    numbers = _number_spans(folded)
    if normalised.unconverted != folded:
        numbers += _number_spans(normalised.unconverted)
    spans = [
        (start, end, MASK)
        for start, end in numbers
        + _document_spans(folded)
        + _contact_spans(folded)
        + _plate_spans(folded)
        + _address_spans(folded)
    ]
    spans += [(start, end, NAME_MASK) for start, end in _name_spans(folded, names)]
    if cued:
        spans += [(start, end, NAME_MASK) for start, end in tagged_person_spans(folded) + cued_name_spans(folded)]
    return _apply(normalised, spans)


def _apply(normalised: Normalised, spans: list[tuple[int, int, str]]) -> str:
    """The original text with each span (in normalised positions) replaced by its mask, overlapping spans merged."""
    merged: list[tuple[int, int, str]] = []
    for start, end, mask in sorted(
        (*normalised.original_span(start, end), mask) for start, end, mask in spans if end > start
    ):
        if merged and start < merged[-1][1]:
            last_start, last_end, last_mask = merged[-1]
            merged[-1] = (last_start, max(last_end, end), MASK if MASK in (mask, last_mask) else NAME_MASK)
        else:
            merged.append((start, end, mask))
    text = normalised.original
    out, position = [], 0
    for start, end, mask in merged:
        out += [text[position:start], mask]
        position = end
    out.append(text[position:])
    return "".join(out)
