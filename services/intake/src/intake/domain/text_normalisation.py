"""The copy of a text that the scrubber reads: disguises undone, every character traced to the original.

People who want a number or an address to survive a filter write it so that a plain pattern misses it:
full-width or circled digits, a soft hyphen or a zero-width character between two digits, 幺三八 for
138, a comma or a line break in the middle of a phone number, pinyin with tone marks. The scrubber
therefore never matches the text as typed. It matches :class:`Normalised` text, whose every character
knows the stretch of the original it came from, and masks that stretch of the ORIGINAL: what is not
personal keeps the characters its author typed.

What is undone, character by character:

* compatibility forms (NFKC): full-width letters and digits, circled and parenthesised digits,
  superscripts, the ＠ sign, ligatures;
* marks on letters (zhāng → zhang) and invisible characters, which are dropped: soft hyphen U+00AD,
  the zero-width space, joiners and the BOM, U+2060-2064, bidirectional controls, variation selectors
  and any other format (Cf) or combining (Mn, Me) character;
* odd spaces to a space, dashes to ``-``, middle dots to ``·`` (what the patterns expect); letters spaced
  out one by one (z h a n g s a n @ q q . c o m) closed up;
* Chinese numerals, also 幺 (1), 两 (2), the financial forms 壹贰叁…, and the radio alphabet's 洞 (0),
  拐 (7) and 勾 (9), to ASCII digits, but only inside a run of at least :data:`NUMERAL_RUN` numerals and
  digits (separators allowed): 一直 and 两个 stay words, 幺三八 零零幺三 八零零零 becomes a number;
* digits spelled in English, five or more in a row (one three eight zero zero one three ...);
* the letters O, o, I and l written for 0 and 1 inside a run of digits that is no part of a word and holds
  at least :data:`NUMERAL_RUN` real digits (138OO138OOO); Hotel and Model keep their letters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: How many numerals in a row (digits or Chinese numerals, separators between them allowed) make the
#: Chinese numerals among them digits. Below it they are words (一直, 三个, 五六个人).
NUMERAL_RUN = 5

CHINESE_DIGITS = {
    **dict.fromkeys("零〇○洞", "0"),
    **dict.fromkeys("一壹幺么", "1"),
    **dict.fromkeys("二两贰貳俩", "2"),
    **dict.fromkeys("三叁參", "3"),
    **dict.fromkeys("四肆", "4"),
    **dict.fromkeys("五伍", "5"),
    **dict.fromkeys("六陆陸", "6"),
    **dict.fromkeys("七柒拐", "7"),
    **dict.fromkeys("八捌", "8"),
    **dict.fromkeys("九玖勾", "9"),
}
#: What may stand between two digits of one number as people write it: spaces, line breaks, commas (also
#: the ideographic ones), slashes, underscores, dashes, dots, middle dots and brackets.
DIGIT_SEPARATORS = " \t\r\n,，、/_-.·()"

_SPACES = {0x3000, 0x00A0, 0x202F, 0x205F, 0x1680, *range(0x2000, 0x200B)}
_DASHES = {*range(0x2010, 0x2016), 0x2212, 0xFE58, 0xFE63, 0x30FC, 0x2E3A, 0x2E3B}
_CROSSES = {0x00D7, 0x2715, 0x2716, 0x2573}
_MIDDLE_DOTS = {0x2022, 0x2027, 0x30FB, 0xFF65, 0x2219, 0x22C5, 0x00B7, 0x0387}
_NUMERAL_CLASS = "0-9" + "".join(CHINESE_DIGITS)
_SEPARATOR_CLASS = re.escape(DIGIT_SEPARATORS)
_NUMERAL_RUN = re.compile(rf"[{_NUMERAL_CLASS}](?:[{_SEPARATOR_CLASS}]{{0,3}}[{_NUMERAL_CLASS}])+")
_DIGIT_OR_NUMERAL = re.compile(rf"[{_NUMERAL_CLASS}]")
_CHINESE_NUMERAL = re.compile(f"[{''.join(CHINESE_DIGITS)}]")


@lru_cache(maxsize=4096)
def _normalise_character(char: str) -> str:
    """What one character reads as: '' for an invisible one, else its plain form (one or more characters)."""
    code = ord(char)
    if code < 0x80:
        return char
    if code in _SPACES:
        return " "
    if code in _DASHES:
        return "-"
    if code in _MIDDLE_DOTS:
        return "·"
    if code in _CROSSES:
        return "X"  # an ID number's check character written as a multiplication sign
    if unicodedata.category(char) in ("Cf", "Mn", "Me"):
        return ""
    plain = unicodedata.normalize("NFKC", char)
    # Marks on letters go (zhāng -> zhang); a Chinese character has none, so this costs nothing there.
    decomposed = unicodedata.normalize("NFKD", plain)
    plain = "".join(part for part in decomposed if unicodedata.category(part) not in ("Mn", "Me", "Cf"))
    if plain != char:
        return "".join(_normalise_character(part) if part != char else part for part in plain)
    return plain


@dataclass(frozen=True)
class Normalised:
    """``text`` as the scrubber reads it, and for each of its characters the stretch of ``original`` it stands for."""

    original: str
    text: str
    #: ``text`` before Chinese numerals became digits (same length): a numeral glued to a number (13800138000一)
    #: may be a word after all, so numbers are also looked for here.
    unconverted: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The stretch of the original text that characters ``start:end`` of the normalised text come from."""
        if start >= end:
            position = self.starts[start] if start < len(self.starts) else len(self.original)
            return position, position
        return self.starts[start], self.ends[end - 1]


# ASCII and the common Chinese characters read as themselves: runs of them are copied whole, the rest (full-width
# punctuation and forms, odd spaces, invisible characters, marks) one character at a time.
_UNCHANGED = re.compile(r"[\x00-\x7f\u4e00-\u9fff]+")


def normalise(original: str) -> Normalised:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def one_by_one(first: int, last: int) -> None:
        for position in range(first, last):
            for part in _normalise_character(original[position]):
                chars.append(part)
                starts.append(position)
                ends.append(position + 1)

    done = 0
    for run in _UNCHANGED.finditer(original):
        one_by_one(done, run.start())
        chars.append(run.group())
        starts.extend(range(run.start(), run.end()))
        ends.extend(range(run.start() + 1, run.end() + 1))
        done = run.end()
    one_by_one(done, len(original))
    unconverted = "".join(chars)
    if _SPACED_OUT.search(unconverted):
        unconverted, starts, ends = _close_up(unconverted, starts, ends)
    if _NUMBER_WORDS.search(unconverted):
        unconverted, starts, ends = _words_to_digits(unconverted, starts, ends)
    text = _numerals_to_digits(unconverted) if _CHINESE_NUMERAL.search(unconverted) else unconverted
    if _LOOKALIKE_HINT.search(text):
        text = _lookalikes_to_digits(text)
    return Normalised(original, text, unconverted, tuple(starts), tuple(ends))


# Letters spaced out one by one to slip past a filter (z h a n g s a n @ q q . c o m): four or more single
# characters each followed by one space, closed up.
_SPACED_OUT = re.compile(r"(?<![^\s(（:：,，])(?:[A-Za-z0-9@._\-] ){3,}[A-Za-z0-9@._\-](?![^\s)）,，.。;；])")


def _close_up(text: str, starts: list[int], ends: list[int]) -> tuple[str, list[int], list[int]]:
    dropped: set[int] = set()
    for run in _SPACED_OUT.finditer(text):
        if not any(char.isalpha() for char in run.group()):
            continue  # spaced digits are a number's business (separators inside numbers)
        dropped.update(range(run.start() + 1, run.end(), 2))
    if not dropped:
        return text, starts, ends
    kept = [index for index in range(len(text)) if index not in dropped]
    return "".join(text[index] for index in kept), [starts[index] for index in kept], [ends[index] for index in kept]


#: Digits spelled in English (one three eight zero zero ...), read as digits in runs of :data:`NUMERAL_RUN` or more.
ENGLISH_DIGITS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_WORD = "(?:" + "|".join(sorted(ENGLISH_DIGITS, key=len, reverse=True)) + ")"
_NUMBER_WORDS = re.compile(
    rf"(?<![A-Za-z]){_WORD}(?:[\s,\-]{{1,3}}{_WORD}){{{NUMERAL_RUN - 1},}}(?![A-Za-z])", re.IGNORECASE
)
_ONE_WORD = re.compile(rf"(?<![A-Za-z]){_WORD}(?![A-Za-z])", re.IGNORECASE)


def _words_to_digits(text: str, starts: list[int], ends: list[int]) -> tuple[str, list[int], list[int]]:
    """Each spelled digit of a long enough run becomes one digit standing for the whole word."""
    out_text: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    done = 0
    for run in _NUMBER_WORDS.finditer(text):
        for word in _ONE_WORD.finditer(text, run.start(), run.end()):
            out_text.append(text[done : word.start()])
            out_starts += starts[done : word.start()]
            out_ends += ends[done : word.start()]
            out_text.append(ENGLISH_DIGITS[word.group().lower()])
            out_starts.append(starts[word.start()])
            out_ends.append(ends[word.end() - 1])
            done = word.end()
    out_text.append(text[done:])
    out_starts += starts[done:]
    out_ends += ends[done:]
    return "".join(out_text), out_starts, out_ends


#: Letters written for digits inside a number (138OO138OOO, l38 OO13 8OOO): O and o for 0, I and l for 1.
LOOKALIKES = {"O": "0", "o": "0", "I": "1", "l": "1"}
_LOOKALIKE_CLASS = "0-9" + "".join(LOOKALIKES)
_LOOKALIKE_HINT = re.compile(r"[0-9][OoIl]|[OoIl][0-9]")
# A run of digits and look-alikes that is no part of a word (Hotel 12345 keeps its l).
_LOOKALIKE_RUN = re.compile(
    rf"(?<![A-Za-z])[{_LOOKALIKE_CLASS}](?:[{_SEPARATOR_CLASS}]{{0,3}}[{_LOOKALIKE_CLASS}])+(?![A-Za-z])"
)


def _lookalikes_to_digits(text: str) -> str:
    """Look-alike letters to digits inside runs holding at least :data:`NUMERAL_RUN` real digits."""
    out = list(text)
    for run in _LOOKALIKE_RUN.finditer(text):
        if sum(char.isdigit() for char in run.group()) < NUMERAL_RUN:
            continue
        for offset, char in enumerate(run.group()):
            if char in LOOKALIKES:
                out[run.start() + offset] = LOOKALIKES[char]
    return "".join(out)


def _numerals_to_digits(text: str) -> str:
    """Chinese numerals to digits inside runs of :data:`NUMERAL_RUN` or more numerals, one character for one."""
    out = list(text)
    for run in _NUMERAL_RUN.finditer(text):
        if len(_DIGIT_OR_NUMERAL.findall(run.group())) < NUMERAL_RUN:
            continue
        for offset, char in enumerate(run.group()):
            digit = CHINESE_DIGITS.get(char)
            if digit is not None:
                out[run.start() + offset] = digit
    return "".join(out)
