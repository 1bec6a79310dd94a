"""Complainant messages: which lifecycle events the complainant is told about, and in which words.

One message per event, in Simplified Chinese first and English second; the words live in the
packaged ``message_texts.toml`` keyed by the event type (see its header). A message is built from
codes and the complaint number only (:class:`MessageFacts`): free text an event carries (the
company's question or answer, an appeal's reason, an operator's note) stays in the case file,
where the complainant reads it after signing in, and never travels by e-mail or SMS.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from greenchannel.contracts import (
    ComplaintAccepted,
    ComplaintAppealed,
    ComplaintClosed,
    ComplaintForwarded,
    ComplaintInfoRequested,
    ComplaintRedirected,
    ComplaintRejected,
    ComplaintResponded,
    ComplaintWithdrawn,
    EventData,
    SlaOverdue,
)

LANGUAGES = ("zh", "en")
PLACEHOLDERS = frozenset({"number", "company_name", "reason", "response_type", "outcome", "due"})
LABELLED_PLACEHOLDERS = ("reason", "response_type", "outcome")
DEFAULT_LABEL = "_default"
MESSAGE_FIELDS = ("title_zh", "title_en", "body_zh", "body_en")
REFORWARDED_TEXT = "complaint.reforwarded"


def _event_type(data: EventData) -> str | None:
    return data.EVENT_TYPE


def _forwarded(data: EventData) -> str | None:
    if not isinstance(data, ComplaintForwarded):
        raise TypeError(f"{type(data).__name__} is not a forwarding")
    return ComplaintForwarded.EVENT_TYPE if data.round < 2 else REFORWARDED_TEXT


def _response_overdue(data: EventData) -> str | None:
    # The complainant waits for the company's response; the platform's own appeal clock is not the company's lateness.
    if not isinstance(data, SlaOverdue):
        raise TypeError(f"{type(data).__name__} is not an overdue notice")
    return data.EVENT_TYPE if data.kind == "response" else None


# The contract of each event that may make a message -> the key of the text the complainant gets, or None when
# this event makes no message; notification subscribes to these models.
COMPLAINANT_MESSAGES: dict[type[EventData], Callable[[EventData], str | None]] = {
    ComplaintAccepted: _event_type,
    ComplaintRejected: _event_type,
    ComplaintForwarded: _forwarded,
    ComplaintInfoRequested: _event_type,
    ComplaintResponded: _event_type,
    ComplaintAppealed: _event_type,
    ComplaintClosed: _event_type,
    ComplaintWithdrawn: _event_type,
    ComplaintRedirected: _event_type,
    SlaOverdue: _response_overdue,
}

REQUIRED_TEXT_KEYS = frozenset(model.EVENT_TYPE for model in COMPLAINANT_MESSAGES) | {REFORWARDED_TEXT}

# The moments the complainant has to act or learns the result: worth a text message as well.
SMS_KINDS = frozenset({ComplaintInfoRequested.EVENT_TYPE, ComplaintResponded.EVENT_TYPE, ComplaintClosed.EVENT_TYPE})


def message_text_key(data: EventData) -> str | None:
    """The text the complainant gets for ``data`` (a parsed integration event), or ``None``."""
    choose = COMPLAINANT_MESSAGES.get(type(data))
    return choose(data) if choose is not None else None


@dataclass(frozen=True)
class MessageFacts:
    """What a message may say: the number, the company's directory name and codes; no personal data."""

    number: str
    company_name: str | None = None
    reason: str | None = None
    response_type: str | None = None
    outcome: str | None = None
    due: date | None = None


def facts_of(data: EventData, company_name: str | None) -> MessageFacts:
    """The facts of an event; ``company_name`` is the one notification last learnt for the complaint."""
    number: str = data.number  # type: ignore[attr-defined]  # every event with a message names its complaint
    match data:
        case ComplaintAccepted():
            return MessageFacts(number, company_name=data.company_name)
        case ComplaintRejected():
            return MessageFacts(number, company_name=company_name, reason=data.reason)
        case ComplaintResponded():
            return MessageFacts(number, company_name=company_name, response_type=data.response_type)
        case ComplaintClosed():
            return MessageFacts(number, company_name=company_name, outcome=data.outcome)
        case SlaOverdue():
            return MessageFacts(number, company_name=company_name, due=data.due)
        case _:
            return MessageFacts(number, company_name=company_name)


@dataclass(frozen=True)
class RenderedMessage:
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


class InvalidMessageTexts(ValueError):
    """The texts file is incomplete or uses a placeholder no message can fill."""


class MessageTexts:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.messages: dict[str, dict[str, str]] = dict(document.get("messages", {}))
        self.labels: dict[str, dict[str, dict[str, str]]] = dict(document.get("labels", {}))
        self.fallback: dict[str, dict[str, str]] = dict(document.get("fallback", {}))
        self._check()

    @property
    def text_keys(self) -> frozenset[str]:
        return frozenset(self.messages)

    def render(self, text_key: str, facts: MessageFacts) -> RenderedMessage:
        texts = self.messages[text_key]
        values = {language: self._values(facts, language) for language in LANGUAGES}
        return RenderedMessage(**{field: texts[field].format_map(values[field[-2:]]) for field in MESSAGE_FIELDS})

    def _values(self, facts: MessageFacts, language: str) -> dict[str, str]:
        values = {
            "number": facts.number,
            "company_name": facts.company_name or self.fallback["company_name"][language],
            "due": facts.due.isoformat() if facts.due else "-",
        }
        for placeholder in LABELLED_PLACEHOLDERS:
            labels = self.labels[placeholder]
            code = getattr(facts, placeholder)
            values[placeholder] = labels.get(code or DEFAULT_LABEL, labels[DEFAULT_LABEL])[language]
        return values

    def _check(self) -> None:
        """Fail at start-up, not at the first event, when a text could not be rendered."""
        problems = [f"no text for {key}" for key in sorted(REQUIRED_TEXT_KEYS - self.messages.keys())]
        for key, texts in self.messages.items():
            for field in MESSAGE_FIELDS:
                if not isinstance(texts.get(field), str) or not texts[field].strip():
                    problems.append(f"{key}: {field} is missing")
                    continue
                try:
                    fields = [
                        (name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(texts[field])
                    ]
                except ValueError as error:
                    problems.append(f"{key}: {field} does not parse ({error})")
                    continue
                for name, spec, conversion in fields:
                    if name is not None and (name not in PLACEHOLDERS or spec or conversion):
                        problems.append(f"{key}: {field} uses {{{name}}}, which no message fills")
        for placeholder in LABELLED_PLACEHOLDERS:
            labels = self.labels.get(placeholder, {})
            if DEFAULT_LABEL not in labels:
                problems.append(f"labels.{placeholder} has no {DEFAULT_LABEL}")
            for code, words in labels.items():
                problems.extend(
                    f"labels.{placeholder}.{code} has no {language}"
                    for language in LANGUAGES
                    if not words.get(language)
                )
        problems.extend(
            f"fallback.company_name has no {language}"
            for language in LANGUAGES
            if not self.fallback.get("company_name", {}).get(language)
        )
        if problems:
            raise InvalidMessageTexts("; ".join(problems))
