"""What a complainant files: the validated complaint form, the complaint number and the guest access code."""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from intake.domain.identity import IdentityError, normalize_id_number, normalize_mobile
from intake.domain.statistics import CHINA

# No 0/O, 1/I/L: an access code is read from paper and typed on phones.
ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ACCESS_CODE_LENGTH = 10  # 31^10 ~ 8e14 codes: with rate limits, guessing is infeasible
MAX_EVIDENCE_PER_COMPLAINT = 20


def _identity(check: Callable[[str], str]) -> AfterValidator:
    def run(value: str) -> str:
        try:
            return check(value)
        except IdentityError as error:
            raise PydanticCustomError(error.code, str(error)) from None

    return AfterValidator(run)


def normalize_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "email_format", "E-mail address is not valid: {reason}", {"reason": str(error)}
        ) from None


# Embedding, override and isolate controls reorder what a reader sees ("Trojan Source", CVE-2021-42574).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Besides letters, names hold the middle dots of transliterated names (阿卜杜拉·买买提), spaces, - ' .
NAME_PUNCTUATION = frozenset(" ·•‧・.-'’")


def plain_text(value: str) -> str:
    for char in value:
        if (unicodedata.category(char) == "Cc" and char not in "\t\n\r") or char in BIDI_CONTROLS:
            raise PydanticCustomError(
                "text_control_character",
                "Text cannot hold control characters or direction overrides (U+{code}).",
                {"code": f"{ord(char):04X}"},
            )
    return value


def person_name(value: str) -> str:
    for char in value:
        if unicodedata.category(char)[0] not in "LM" and char not in NAME_PUNCTUATION:
            raise PydanticCustomError(
                "name_character",
                "A name holds letters, spaces and · - ' . only (U+{code} is not one).",
                {"code": f"{ord(char):04X}"},
            )
    return value


def free_text(min_length: int = 0, max_length: int | None = None, **constraints: Any) -> Any:
    """A free-text field: whitespace stripped, its length checked, no control characters.

    A type made by a call, which type checkers do not follow: a field declared with it carries
    ``# type: ignore[valid-type]`` and is checked by pydantic at run time."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length, **constraints),
        AfterValidator(plain_text),
    ]


Text = free_text()
# Contact details as the complaint form takes them: an e-mail address (normalised) and a mainland mobile (E.164).
EmailAddress = Annotated[str, AfterValidator(normalize_email)]
MobileNumber = Annotated[str, _identity(normalize_mobile)]
PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), AfterValidator(person_name)
]


class Complainant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName
    id_number: Annotated[str, _identity(normalize_id_number)]
    phone: MobileNumber
    email: EmailAddress | None = None


class CompanyRef(BaseModel):
    """The company complained about: a directory id, or a free-text name routing will resolve."""

    model_config = ConfigDict(extra="forbid")

    id: free_text(min_length=1, max_length=64) | None = None  # type: ignore[valid-type]
    name: free_text(min_length=1, max_length=100) | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def one_of(self) -> CompanyRef:
        if not self.id and not self.name:
            raise PydanticCustomError("company_missing", "Give the company's directory id or its name.")
        return self


class ComplaintForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complainant: Complainant
    company: CompanyRef
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{1,39}$")]
    title: free_text(min_length=4, max_length=100)  # type: ignore[valid-type]
    description: free_text(min_length=10, max_length=5000)  # type: ignore[valid-type]
    occurred_on: date
    desired_outcome: free_text(min_length=2, max_length=500)  # type: ignore[valid-type]
    publication_consent: bool = False
    evidence_ids: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]] = Field(
        default_factory=list, max_length=MAX_EVIDENCE_PER_COMPLAINT
    )

    @model_validator(mode="after")
    def plausible_dates(self) -> ComplaintForm:
        if self.occurred_on > datetime.now(CHINA).date():
            raise PydanticCustomError("occurred_on_future", "The date it happened cannot be in the future.")
        if len(set(self.evidence_ids)) != len(self.evidence_ids):
            raise PydanticCustomError("evidence_repeated", "The same evidence file is listed twice.")
        return self

    def fingerprint_source(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def complaint_number(day: datetime, sequence: int) -> str:
    """Human-readable and sortable: GC-20261123-000123 (date in China time, per-day sequence)."""
    return f"GC-{day:%Y%m%d}-{sequence:06d}"


def new_access_code() -> str:
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def normalize_access_code(raw: str) -> str:
    return raw.strip().upper().replace("-", "").replace(" ", "")
