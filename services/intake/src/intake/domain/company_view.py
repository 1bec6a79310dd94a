"""What a company receives of the complainant's own words: the minimum it needs to act.

The complaint's texts (title, description, desired outcome, supplements, appeal and withdrawal reasons) reach
the company through its webhooks and the company API. Before they do, :func:`for_company` masks what no company
needs to handle a complaint: ID numbers (mainland, Hong Kong, Macao, Taiwan, passports and travel permits), bank
card numbers, other people's phone numbers and street addresses. It reads the text as the publication scrubber
does (:mod:`intake.domain.scrubbing`: the same normalisation, so the disguised forms are found too, and the same
detectors), but keeps what the company needs to reach the complainant: their name, and their own phone number as
they typed it. A phone number is the complainant's when its digits, without a country code or trunk prefix, are
those of the phone given at filing; any other is masked. With no phone known (``complainant_phone`` is None)
every phone number is masked.
"""

from __future__ import annotations

import re

from intake.domain.scrubbing import (
    _ANYTHING_TO_LOOK_AT,
    MASK,
    _address_spans,
    _apply,
    _document_spans,
    _number_spans,
)
from intake.domain.text_normalisation import normalise

_NOT_DIGIT = re.compile(r"[^0-9]")
# How a mainland number may be prefixed when written: +86, 86, 0086, or the trunk 0.
_PREFIXES = ("", "86", "0086", "0")


def national_digits(phone: str) -> str:
    """The national significant number of a mainland phone (``+8613800138000`` -> ``13800138000``)."""
    digits = _NOT_DIGIT.sub("", phone)
    for prefix in ("0086", "86"):
        if len(digits) == len(prefix) + 11 and digits.startswith(prefix):
            return digits[len(prefix) :]
    return digits


def for_company(text: str, *, complainant_phone: str | None) -> str:
    """``text`` with what the company does not need masked; ``complainant_phone`` (E.164) stays where it is written."""
    if not text or (not _ANYTHING_TO_LOOK_AT.search(text) and text.isascii()):
        return text
    normalised = normalise(text)
    own = {prefix + national_digits(complainant_phone) for prefix in _PREFIXES} if complainant_phone else set()
    spans = [span for span in _number_spans(normalised.text) if _digits(normalised.text, span) not in own]
    if normalised.unconverted != normalised.text:
        spans += [
            span for span in _number_spans(normalised.unconverted) if _digits(normalised.unconverted, span) not in own
        ]
    spans += _document_spans(normalised.text) + _address_spans(normalised.text)
    return _apply(normalised, [(start, end, MASK) for start, end in spans])


def _digits(text: str, span: tuple[int, int]) -> str:
    return _NOT_DIGIT.sub("", text[span[0] : span[1]])
