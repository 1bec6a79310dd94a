from enum import StrEnum


class AnswerResponseType(StrEnum):
    DECLINED = "declined"
    EXPLAINED = "explained"
    IN_PROGRESS = "in_progress"
    MONETARY_RELIEF = "monetary_relief"
    NON_MONETARY_RELIEF = "non_monetary_relief"

    def __str__(self) -> str:
        return str(self.value)
