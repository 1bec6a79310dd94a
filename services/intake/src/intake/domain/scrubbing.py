"""Removing personal data from text before it is published (公示): DESIGN.md, "Security and privacy".

Mainland ID numbers, mobile and landline numbers, e-mail addresses, bank card numbers and the
complainant's own name are replaced by a visible mask. Detection runs on a normalised copy of the
text (full-width forms folded to ASCII) and the replacement is applied to the original text at the
same positions, so everything that is not personal data stays exactly as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MASK = "***"
NAME_MASK = "**"

# Separators people put inside long numbers: spaces (also the ideographic one after folding) and dashes.
_SEP = r"[ \-]?"
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9](?:" + _SEP + r"\d){16}" + _SEP + r"[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86" + _SEP + r")?1[3-9]\d(?:" + _SEP + r"\d){8}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}" + _SEP + r"\d{7,8}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<!\d)\d(?:" + _SEP + r"\d){12,18}(?!\d)")


def _fold(text: str) -> str:
    """Full-width digits, letters and punctuation to ASCII, one character for one, so positions agree."""
    folded = []
    for char in text:
        candidate = unicodedata.normalize("NFKC", char)
        folded.append(candidate if len(candidate) == 1 else char)
    return "".join(folded)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _spans(folded: str, names: Iterable[str]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for pattern in (_EMAIL, _ID_NUMBER, _MOBILE, _LANDLINE):
        spans += [(match.start(), match.end(), MASK) for match in pattern.finditer(folded)]
    for match in _CARD.finditer(folded):
        if luhn_valid(re.sub(r"\D", "", match.group())):
            spans.append((match.start(), match.end(), MASK))
    for name in {name.strip() for name in names if name and len(name.strip()) >= 2}:
        pattern = re.compile(r"\s?".join(re.escape(char) for char in _fold(name) if not char.isspace()), re.IGNORECASE)
        spans += [(match.start(), match.end(), NAME_MASK) for match in pattern.finditer(folded)]
    return spans


def scrub(text: str, *, names: Iterable[str] = ()) -> str:
    """``text`` with personal data masked; ``names`` are names known to belong to the person (the complainant's)."""
    if not text:
        return text
    folded = _fold(text)
    merged: list[list] = []
    for start, end, mask in sorted(_spans(folded, names)):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, mask])
    out, position = [], 0
    for start, end, mask in merged:
        out += [text[position:start], mask]
        position = end
    out.append(text[position:])
    return "".join(out)
