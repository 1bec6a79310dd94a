"""Complainant identity rules: the mainland ID number (GB 11643-1999), mobile numbers, and masking.

GB 11643-1999: 18 characters = 6-digit administrative division code, 8-digit birth date
(YYYYMMDD), 3-digit sequence, and a check character computed with ISO 7064 MOD 11-2 over the first
17 digits (weights 2^(17-i) mod 11; the remainder maps to "10X98765432").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

import phonenumbers

from intake.domain.statistics import CHINA

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
# Province-level division codes (first two digits) in use, GB/T 2260: one line of codes (a list literal would take
# a line per code).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()  # noqa: SIM905
)
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


class IdentityError(ValueError):
    """A value that is not a valid identity detail; ``code`` is machine-readable, the message says what to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def id_check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def normalize_id_number(raw: str) -> str:
    """Validate a resident ID number and answer it upper-cased; raises :class:`IdentityError`."""
    value = raw.strip().upper()
    if not _ID_SHAPE.match(value):
        raise IdentityError("id_number_format", "ID number must be 17 digits followed by a digit or X (18 characters).")
    if value[:2] not in PROVINCE_CODES:
        raise IdentityError("id_number_region", f"ID number starts with an unknown region code {value[:2]}.")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdentityError("id_number_birth_date", "ID number contains an impossible birth date.") from None
    if born > datetime.now(CHINA).date() or born.year < 1900:
        raise IdentityError("id_number_birth_date", "ID number contains a birth date out of range.")
    # The message never names the expected character: after a slip in a middle digit, changing the last one to
    # match would pass the check with a wrong number.
    if value[17] != id_check_character(value[:17]):
        raise IdentityError("id_number_check_digit", "The ID number fails its check; please check each digit.")
    return value


def region_code(id_number: str) -> str:
    """The province code of an ID number (its first two digits); used for statistics, never published per person."""
    return id_number[:2]


def normalize_mobile(raw: str) -> str:
    """Validate a mainland China mobile number and answer it in E.164 (+86...); raises :class:`IdentityError`."""
    try:
        parsed = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException:
        raise IdentityError("phone_format", "Phone must be a mainland China mobile number, e.g. 13800138000.") from None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        raise IdentityError("phone_format", "Phone must be a valid mainland China mobile number, e.g. 13800138000.")
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise IdentityError("phone_not_mobile", "Phone must be a mobile number (11 digits starting with 1).")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***, Alice Smith -> A**********."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def mask_id_number(id_number: str) -> str:
    return id_number[:4] + "*" * 10 + id_number[-4:]


def mask_phone(e164: str) -> str:
    national = e164.removeprefix("+86")
    return national[:3] + "****" + national[-4:]


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


# The complainant's identity as staff see it by default, each field masked; one field in full is a
# separate, audited request (``POST /v1/ops/complaints/{number}/reveal``).
IDENTITY_FIELDS = ("name", "id_number", "phone", "email")
_MASKS = {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone, "email": mask_email}


def mask_identity(identity: Mapping[str, str | None]) -> dict[str, str | None]:
    """Every identity field masked (张三 -> 张*, 11010519491231002X -> 1101**********002X); absent ones stay None."""
    return {name: _MASKS[name](value) if (value := identity.get(name)) else None for name in IDENTITY_FIELDS}
