"""The publication scrubber as it was before it read a normalised copy of the text: the baseline that
``bench.scrubbing`` measures the current scrubber against, in the same run. Not used by the platform.

It folded full-width forms and odd spaces one character for one and matched numbers, e-mail addresses,
messenger ids and the complainant's name as given; no Chinese numerals, no documents with letters, no
plates, addresses, other scripts or tagged names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from intake.domain.identity import PROVINCE_CODES

MASK = "***"
NAME_MASK = "**"

# Hong Kong, Macao and Taiwan residents' residence permits start 81, 82 and 83.
_ID_REGIONS = PROVINCE_CODES | {"83"}
# A card number has at most 19 digits; +86 / 0086 with a landline and extension stays below it too.
_MAX_DIGITS = 19


def _fold_table() -> dict[int, str]:
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}  # full-width ASCII forms
    spaces = [0x3000, 0x00A0, 0x202F, 0x205F, *range(0x2000, 0x200B)]
    invisible = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]  # zero-width characters slipped into numbers
    dashes = [*range(0x2010, 0x2016), 0x2212, 0xFE58, 0xFE63, 0x30FC]
    middle_dots = [0x2022, 0x2027, 0x30FB, 0xFF65, 0x2219, 0x22C5]
    table.update(dict.fromkeys(spaces + invisible, " "))
    table.update(dict.fromkeys(dashes, "-"))
    table.update(dict.fromkeys(middle_dots, "·"))
    table.update({0xFE6B: "@", 0xFE52: ".", 0xFE59: "(", 0xFE5A: ")"})
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Full-width forms, odd spaces, dashes and dots to their plain forms, one character for one."""
    return text.translate(_FOLD)


# --- numbers ----------------------------------------------------------------------------------------

_GROUP = r"[0-9]+(?:[Xx](?![A-Za-z]))?"
_SEPARATOR = r"[ \t\-.·()]{1,3}"
_RUN = re.compile(rf"[(+]{{0,2}}{_GROUP}(?:{_SEPARATOR}{_GROUP})*")
_GROUP_IN_RUN = re.compile(_GROUP)
_MOBILE = re.compile(r"(?:0086|86|0)?1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"(?:(?:00)?860?|0)(?:10|2[0-9]|[3-9][0-9]{2})[1-9][0-9]{6,7}")
_EXTENSION = re.compile(r"[ \t]{0,2}(?:转|分机|ext\.?|x|#)[ \t]{0,2}[0-9]{1,6}(?![0-9])", re.IGNORECASE)
# Cues right before a run that make a short number personal: at most a few characters before it, and
# no other number (nor the mask of one) in between.
_PHONE_CUE = re.compile(r"(?:电话|座机|固话|(?<![A-Za-z])(?:tel|phone))[^0-9\n*]{0,4}\Z", re.IGNORECASE)
_QQ_CUE = re.compile(r"(?:(?<![A-Za-z])qq|扣扣)[^0-9\n*]{0,4}\Z", re.IGNORECASE)
# A number followed by one of these is an amount, a date or a count, not a local phone number.
_UNITS = frozenset("元块年月日时分秒次个%")
# The fewest digits a personal number has: a QQ number after its cue, a local number after 电话, else a
# landline with its area code (0 + 2 + 7).
_SHORTEST = {"qq": 5, "phone": 7, None: 10}


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
    if _MOBILE.fullmatch(value):
        return "mobile"
    if _LANDLINE.fullmatch(value):
        return "landline"
    if cue == "phone" and 7 <= len(value) <= 8 and value[0] in "23456789":
        return "local"
    if cue == "qq" and 5 <= len(value) <= 11 and value[0] != "0":
        return "qq"
    return None


def _cue_before(folded: str, position: int) -> str | None:
    window = max(0, position - 10)
    if _PHONE_CUE.search(folded, window, position):
        return "phone"
    if _QQ_CUE.search(folded, window, position):
        return "qq"
    return None


def _number_spans(folded: str) -> list[tuple[int, int]]:
    spans = []
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
            if found is None:
                first += 1
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
        if len(value) < _SHORTEST[cue]:
            return None
        kind = _personal_number(value, cue)
        if kind is None and value[-1] in "Xx":
            # A number followed by a stray X (13800138000X): the X is no part of it.
            kind = _personal_number(value[:-1], cue)
            end -= kind is not None
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


def _with_extension(folded: str, groups: list[tuple[int, int, str]], last: int, end: int) -> int:
    """The end of a landline number with its extension: "-123" as the next group, or "转123" after it."""
    if last + 1 < len(groups):
        following_start, following_end, following = groups[last + 1]
        if len(following) <= 6 and "-" in folded[end:following_start]:
            end = following_end
    extension = _EXTENSION.match(folded, end)
    return extension.end() if extension else end


# --- e-mail addresses and messenger ids ----------------------------------------------------------------

# An e-mail address is found from its at sign: the local part is read backwards from it (at most 64
# characters, RFC 5321) and the domain forwards, so every at sign costs a bounded look and an address
# glued to the text before it (...com123@qq.com) is still found.
_LOCAL_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_LOCAL_MAX = 64
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_AT_SIGN = re.compile(r"[ \t]{0,2}(?:@|\(at\)|\[at\]|\{at\}|<at>|艾特)[ \t]{0,2}|#", re.IGNORECASE)
_DOT = r"(?:[ \t]{0,2}(?:\.|。|\(dot\)|\[dot\]|\{dot\}|<dot>|点)[ \t]{0,2})"
_DOMAIN = re.compile(rf"{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}[A-Za-z]{{2,24}}(?![A-Za-z])", re.IGNORECASE)
_SPELLED_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]*[ \t]+at[ \t]+{_LABEL}"
    rf"(?:[ \t]+dot[ \t]+{_LABEL})+(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_EMAIL_HINT = re.compile(r"[@#]|艾特|(?<![A-Za-z])at(?![A-Za-z])", re.IGNORECASE)
# A WeChat id: 6-20 letters, digits, _ or -, starting with a letter (the rule WeChat sets for them); what
# runs on past 20 such characters is glued-on text, and the id is masked all the same.
_WECHAT = re.compile(
    r"(?:微信号?|(?<![A-Za-z])(?:wechat|weixin|vx|wx))(?:号码|号)?(?:是|为)?[:\s]{0,3}"
    r"([A-Za-z][A-Za-z0-9_\-]{5,19})",
    re.IGNORECASE,
)


def _email_spans(folded: str) -> list[tuple[int, int]]:
    spans = []
    for at in _AT_SIGN.finditer(folded):
        start = at.start()
        while start > 0 and at.start() - start < _LOCAL_MAX and folded[start - 1] in _LOCAL_CHARACTERS:
            start -= 1
        while start < at.start() and not folded[start].isalnum():
            start += 1  # a local part starts with a letter or digit
        domain = _DOMAIN.match(folded, at.end()) if start < at.start() else None
        if domain is not None:
            spans.append((start, domain.end()))
    return spans + [match.span() for match in _SPELLED_EMAIL.finditer(folded)]


def _address_spans(folded: str) -> list[tuple[int, int]]:
    spans = _email_spans(folded) if _EMAIL_HINT.search(folded) else []
    return spans + [match.span(1) for match in _WECHAT.finditer(folded)]


# --- names ------------------------------------------------------------------------------------------

# What may stand between the characters of a name as people write it: spaces, middle dots, dashes, quotes.
_NAME_GAP = r"[ \t·.\-'’]{0,3}"
_NAME_SKIPPED = frozenset(" \t·.-'’")
_TITLES_AFTER = "先生|女士|小姐|太太|夫人|同学|老师|师傅"
_TITLES_BEFORE = r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Dr)\.?[ \t]{1,2}"


def _is_latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


@lru_cache(maxsize=256)
def _name_patterns(name: str) -> tuple[re.Pattern[str], ...]:
    """The patterns that find ``name`` (the whole name, and its surname with a title), none for a name under 2 letters."""
    letters = [char for char in fold(name) if char not in _NAME_SKIPPED and not char.isspace()]
    if len(letters) < 2:
        return ()
    whole = _NAME_GAP.join(re.escape(char) for char in letters)
    if _is_latin(letters[0]):
        whole = "(?<![A-Za-z])" + whole
    if _is_latin(letters[-1]):
        whole += "(?![A-Za-z])"
    patterns = [re.compile(whole, re.IGNORECASE)]
    if all(_is_latin(char) for char in letters):
        words = [word for word in re.split(r"[\s·.\-'’]+", fold(name)) if len(word) >= 2]
        if words:
            alternatives = "|".join(re.escape(word) for word in words)
            patterns.append(re.compile(rf"{_TITLES_BEFORE}((?:{alternatives})(?![A-Za-z]))", re.IGNORECASE))
    elif not any(_is_latin(char) for char in letters):
        surnames = [re.escape(letters[0])] + ([re.escape("".join(letters[:2]))] if len(letters) >= 3 else [])
        patterns.append(
            re.compile(
                rf"((?:{'|'.join(sorted(surnames, key=len, reverse=True))}))"
                rf"(?=[ \t]?(?:{_TITLES_AFTER}))"
            )
        )
    return tuple(patterns)


def _name_spans(folded: str, names: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for name in {name.strip() for name in names if name and name.strip()}:
        for pattern in _name_patterns(name):
            spans += [match.span(match.lastindex or 0) for match in pattern.finditer(folded)]
    return spans


# --- the scrubber -----------------------------------------------------------------------------------

_ANYTHING_TO_LOOK_AT = re.compile(
    r"[0-9０-９@＠﹫#]|艾特|微信|(?<![A-Za-z])(?:at|wechat|weixin|vx|wx)(?![A-Za-z])", re.IGNORECASE
)


def scrub(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with personal data masked; ``names`` are names known to belong to the person (the complainant's)."""
    names = [name for name in names if name]
    if not text or (not names and not _ANYTHING_TO_LOOK_AT.search(text)):
        return text
    folded = fold(text)
    spans = [(start, end, MASK) for start, end in _number_spans(folded) + _address_spans(folded)]
    spans += [(start, end, NAME_MASK) for start, end in _name_spans(folded, names)]
    merged: list[list] = []
    for start, end, mask in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = MASK if MASK in (mask, merged[-1][2]) else NAME_MASK
        else:
            merged.append([start, end, mask])
    out, position = [], 0
    for start, end, mask in merged:
        out += [text[position:start], mask]
        position = end
    out.append(text[position:])
    return "".join(out)
