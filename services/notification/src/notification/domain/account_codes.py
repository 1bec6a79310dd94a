"""What a login is sent when someone asks for a one-time code (``account.code_issued``).

The notice comes sealed in the event (:class:`greenchannel.contracts.CodeNotice`): a code for a
registration or a password reset, or, when the purpose cannot go on, a notice saying why (the
login has an account already; the login has none), or a company staff member's invitation link. Simplified Chinese first, English second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from greenchannel.contracts import CodeNotice, CodePurpose

SITE_ZH = "互联网信息服务投诉平台"
SITE_EN = "Green Channel"

_PURPOSE = {
    "registration": ("注册账户", "registration"),
    "password_reset": ("重置密码", "password reset"),
    "sign_in": ("登录", "sign-in"),
    "access_recovery": ("找回查询码", "access code recovery"),
    "company_invitation": ("企业账户邀请", "company account invitation"),
}


@dataclass(frozen=True)
class CodeMessage:
    subject: str
    text: str
    sms: str


def code_message(purpose: CodePurpose, notice: CodeNotice, minutes: int) -> CodeMessage:
    """The e-mail (subject, text) and the SMS for ``notice``; ``minutes`` is how long the code has left."""
    purpose_zh, purpose_en = _PURPOSE[purpose]
    match notice.notice:
        case "code":
            zh = (
                f"您的{purpose_zh}验证码是 {notice.code}，{minutes} 分钟内有效，只能使用一次。"
                "请勿将验证码告诉任何人，平台工作人员不会向您索要。如非本人操作，请忽略本消息。"
            )
            en = (
                f"Your {purpose_en} code is {notice.code}. It is valid for {minutes} minutes and can be used once. "
                "Do not tell anyone; the platform's staff never ask for it. If you did not ask for it, ignore this."
            )
            title_zh, title_en = f"{purpose_zh}验证码", f"Your {purpose_en} code"
        case "already_registered":
            zh = (
                "有人（可能是您本人）使用此登录名申请注册，但您已有账户。"
                "如忘记密码，请在登录页选择“忘记密码”重置。如非本人操作，请忽略本消息。"
            )
            en = (
                "Someone, probably you, asked to register with this login, but you already have an account. "
                "If you forgot your password, choose “Forgot password” on the sign-in page to reset it. "
                "If it was not you, ignore this."
            )
            title_zh, title_en = "您已有账户", "You already have an account"
        case "no_account":
            zh = (
                f"有人（可能是您本人）使用此登录名申请{purpose_zh}，但此登录名尚未注册账户。"
                "如需使用平台账户，请先注册。如非本人操作，请忽略本消息。"
            )
            en = (
                f"Someone, probably you, asked for a {purpose_en} code for this login, but it has no account. "
                "To use an account on the platform, register first. If it was not you, ignore this."
            )
            title_zh, title_en = "未找到账户", "No account for this login"
        case "invitation":
            # An invitation lives days, not minutes: its validity is told in hours.
            hours = max(1, round(minutes / 60))
            company = notice.company or ""
            zh = (
                f"您被邀请加入{company}在本平台的企业账户。请在 {hours} 小时内打开以下链接设置密码，链接只能使用一次：\n"
                f"{notice.link}\n如您不认识邀请方，请忽略本消息。"
            )
            en = (
                f"You are invited to the company account of {company} on the platform. Open this link within "
                f"{hours} hours to set your password; it works once:\n{notice.link}\n"
                "If you do not know who invited you, ignore this."
            )
            title_zh, title_en = "企业账户邀请", "Your company account invitation"
        case _:
            assert_never(notice.notice)
    return CodeMessage(
        subject=f"{SITE_ZH}：{title_zh} | {SITE_EN}: {title_en}",
        text=f"{title_zh}\n\n{zh}\n\n--\n\n{title_en}\n\n{en}\n",
        sms=f"{zh}\n{en}",
    )
