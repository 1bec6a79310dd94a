"""The authorisation matrix: every operation of the gateway's OpenAPI, asked by every kind of caller; and every
operation of the other services' OpenAPI (evidence, routing, notification), asked with and without their tokens.

Callers: anonymous, a guest with the complaint's access code and one with a wrong code, the complainant
who filed it and another complainant, the company it was forwarded to and another company, an operator,
a regulator (figures only: never a case file, its evidence or contact details), an administrator, a
revoked company key and an expired token. Each operation belongs to one audience, and the audience says
what each caller gets:

* ``allowed``: past the door: any answer but 401, 403 and the not-found of a hidden complaint;
* ``hidden``: 404 exactly as for a complaint that does not exist, where existence itself is private;
* ``401`` / ``403``: no valid credential / a credential of the wrong kind or role.

Denied calls run first, with valid bodies (so the refusal is the door's, not validation's), and must
leave every store as it was; allowed calls run after them, reads before writes. A new operation fails
``test_every_operation_has_an_audience`` until it is given one here.

The other services are reached only inside the cluster, by intake (and notification, which asks intake) with
``Bearer <INTERNAL_TOKEN>`` and by operators' tooling with ``Bearer <OPERATOR_TOKEN>``; network policies keep
everyone else out, and the tokens are the second wall. Notification's webhook endpoints and secrets are set
with ``Bearer <ADMIN_TOKEN>`` alone, which intake sends for its admins only (it also opens notification's
operator endpoints). Their callers: anonymous, a wrong bearer token, the internal token, the operator's and
the admin's; their audiences: public (probes, the directory), internal, operator, admin, and case state
(routing's decisions and clocks: the internal or the operator's token).

Every service also has an internal listener (``/internal/*``, ``/metrics``, probes) on a port of its own: its
routes are asked there by the same callers, and asked on the public port by every caller of both matrices,
where each must answer 404 whatever the credential.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from PIL import Image

from devstack.accounts import next_mail, register
from devstack.invariants import until
from devstack.platform import ADMIN_TOKEN, INTERNAL_TOKEN, OPERATOR_TOKEN, WEBHOOK_SECRET

pytestmark = pytest.mark.integration

ADMIN = {"login": "admin", "password": "development-only-admin-password"}
COMPANY, OTHER_COMPANY = "c-xunlian", "c-haina"
COMPANY_ADMIN_EMAIL = "matrix-company-admin@example.cn"
HIDDEN_CODES = {"complaint_not_found"}
ALLOWED, HIDDEN = "allowed", "hidden"
CALLERS = (
    "anonymous",
    "guest",
    "wrong_code",
    "owner",
    "other_complainant",
    "company",
    "other_company",
    "company_admin",
    "operator",
    "regulator",
    "admin",
    "revoked_key",
    "expired_token",
)
COMPLAINANTS = ("owner", "other_complainant")
COMPANIES = ("company", "other_company", "company_admin")
STAFF = ("operator", "regulator", "admin")
BAD_CREDENTIALS = ("revoked_key", "expired_token")
NO_PRINCIPAL = ("anonymous", "guest", "wrong_code")  # an access code is no identity outside its complaint's routes


def audience(**outcomes: Any) -> dict[str, Any]:
    """Expected outcome per caller; keys name a caller or a group (complainants, companies, staff,
    bad_credentials, no_principal), later keys overriding earlier ones."""
    groups = {
        "complainants": COMPLAINANTS,
        "companies": COMPANIES,
        "staff": STAFF,
        "bad_credentials": BAD_CREDENTIALS,
        "no_principal": NO_PRINCIPAL,
        "everyone": CALLERS,
    }
    table: dict[str, Any] = {}
    for key, outcome in outcomes.items():
        for caller in groups.get(key, (key,)):
            table[caller] = outcome
    assert set(table) == set(CALLERS), f"audience misses {set(CALLERS) - set(table)}"
    return table


# Anyone; credentials are not even read.
PUBLIC = audience(everyone=ALLOWED)
UNPUBLISHED = audience(everyone=HIDDEN)
# Anyone, but a credential that is sent must be valid (it decides whose the new complaint or upload is).
PUBLIC_SIGNED = audience(everyone=ALLOWED, bad_credentials=401)
# The complainant's routes of one complaint: its owner or the holder of its code; operators and admins may
# read it, a regulator may not (to a regulator it does not exist).
CASE_READ = audience(
    everyone=HIDDEN, owner=ALLOWED, guest=ALLOWED, staff=ALLOWED, regulator=HIDDEN, bad_credentials=401
)
# Evidence downloads: also the company the complaint was forwarded to.
CASE_EVIDENCE = audience(
    everyone=HIDDEN,
    owner=ALLOWED,
    guest=ALLOWED,
    staff=ALLOWED,
    regulator=HIDDEN,
    company=ALLOWED,
    company_admin=ALLOWED,
    bad_credentials=401,
)
CASE_ACT = audience(everyone=HIDDEN, owner=ALLOWED, guest=ALLOWED, bad_credentials=401)
# A signed-in complainant's own things.
ACCOUNT = audience(everyone=403, no_principal=401, bad_credentials=401, complainants=ALLOWED)
# Any account signed in with a token (complainant, staff or a company's staff) and its own credentials; a company
# key is no account.
SIGNED_IN = audience(
    everyone=403, no_principal=401, bad_credentials=401, complainants=ALLOWED, staff=ALLOWED, company_admin=ALLOWED
)
COMPANY_LIST = audience(everyone=403, no_principal=401, bad_credentials=401, companies=ALLOWED)
COMPANY_CASE = audience(
    everyone=403, no_principal=401, bad_credentials=401, company=ALLOWED, company_admin=ALLOWED, other_company=HIDDEN
)
# A company's own things, by key or by its staff (``company_admin`` is company X's administrator, signed in).
COMPANY_OWN = audience(everyone=403, no_principal=401, bad_credentials=401, companies=ALLOWED)
# What only a company's staff account does (an API key names no person), and its administrators' management of
# the company's staff, keys, webhooks and profile: 403 to a key; a handler's and a read-only colleague's 403 are
# tested with the staff accounts themselves (tests/e2e/test_company_staff.py).
COMPANY_STAFF = audience(everyone=403, no_principal=401, bad_credentials=401, company_admin=ALLOWED)
OPERATOR = audience(everyone=403, no_principal=401, bad_credentials=401, operator=ALLOWED, admin=ALLOWED)
ADMINISTRATOR = audience(everyone=403, no_principal=401, bad_credentials=401, admin=ALLOWED)
REGULATOR = audience(everyone=403, no_principal=401, bad_credentials=401, staff=ALLOWED)
# Any staff account's own sign-in (its second factor).
STAFF_ACCOUNT = audience(everyone=403, no_principal=401, bad_credentials=401, staff=ALLOWED)
# A case file for staff: operators and admins read it; a regulator is answered as if there were no complaint.
STAFF_CASE = audience(
    everyone=403, no_principal=401, bad_credentials=401, operator=ALLOWED, admin=ALLOWED, regulator=HIDDEN
)

# (method, path template) -> audience. Path parameters are filled from the world the module builds.
AUDIENCES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/v1/evidence/limits"): PUBLIC,
    # Registration and password reset by one-time code: anyone, and the same answer for every login.
    ("POST", "/v1/accounts/registrations"): PUBLIC,
    ("POST", "/v1/accounts/registrations/confirm"): PUBLIC,
    ("POST", "/v1/accounts/password-resets"): PUBLIC,
    ("POST", "/v1/accounts/password-resets/confirm"): PUBLIC,
    ("POST", "/v1/auth/code"): PUBLIC,
    ("POST", "/v1/auth/code/token"): PUBLIC,
    ("POST", "/v1/auth/token"): PUBLIC,
    ("POST", "/v1/ops/auth/token"): PUBLIC,
    ("POST", "/v1/accounts/password"): SIGNED_IN,
    ("POST", "/v1/accounts/sign-out-everywhere"): SIGNED_IN,
    # The web client's cookie session: started from a token just issued; ending it clears the cookies (and ends
    # the token only when the cookie signed the request in).
    ("POST", "/v1/session"): SIGNED_IN,
    ("DELETE", "/v1/session"): PUBLIC_SIGNED,
    # A lost access code: anyone may ask with a phone (the same answer whatever the phone) and try a code.
    ("POST", "/v1/complaints/{number}/access-code/recovery"): PUBLIC,
    ("POST", "/v1/complaints/{number}/access-code/recovery/confirm"): PUBLIC,
    ("GET", "/v1/public/companies"): PUBLIC,
    ("GET", "/v1/public/categories"): PUBLIC,
    ("GET", "/v1/public/pages"): PUBLIC,
    ("GET", "/v1/public/pages/{slug}"): PUBLIC,
    ("POST", "/v1/public/feedback"): PUBLIC,
    ("GET", "/v1/public/complaints"): PUBLIC,
    # The matrix's complaint is forwarded, not answered: not public yet, for its owner and staff too.
    ("GET", "/v1/public/complaints/{number}"): UNPUBLISHED,
    ("GET", "/v1/public/clusters/{cluster_id}"): PUBLIC,
    ("GET", "/v1/public/statistics"): PUBLIC,
    ("GET", "/v1/public/statistics/summary"): PUBLIC,
    ("GET", "/v1/public/companies/{company_id}/scorecard"): PUBLIC,
    ("GET", "/v1/public/rankings"): PUBLIC,
    ("GET", "/v1/public/open-data/complaints.csv"): PUBLIC,
    ("GET", "/v1/public/open-data/complaints.jsonl"): PUBLIC,
    ("GET", "/v1/public/open-data/schema"): PUBLIC,
    ("GET", "/v1/regulator/statistics"): REGULATOR,
    ("GET", "/v1/regulator/companies/{company_id}/scorecard"): REGULATOR,
    ("POST", "/v1/complaints"): PUBLIC_SIGNED,
    ("POST", "/v1/evidence"): PUBLIC,
    ("POST", "/v1/uploads"): PUBLIC,
    ("POST", "/v1/uploads/{upload_id}/complete"): PUBLIC,
    ("GET", "/v1/uploads/{upload_id}/parts"): PUBLIC,
    ("GET", "/v1/complaints/{number}"): CASE_READ,
    ("GET", "/v1/complaints/{number}/messages"): CASE_ACT,  # the complainant's own inbox
    ("POST", "/v1/complaints/{number}/messages/{message_id}/read"): CASE_ACT,
    ("GET", "/v1/complaints/{number}/evidence/{evidence_id}/link"): CASE_EVIDENCE,
    ("POST", "/v1/complaints/{number}/evidence"): CASE_ACT,
    ("POST", "/v1/complaints/{number}/uploads"): CASE_ACT,
    ("POST", "/v1/complaints/{number}/uploads/{upload_id}/complete"): CASE_ACT,
    ("GET", "/v1/complaints/{number}/uploads/{upload_id}/parts"): CASE_ACT,
    ("POST", "/v1/complaints/{number}/supplement"): CASE_ACT,
    ("POST", "/v1/complaints/{number}/rating"): CASE_ACT,
    ("POST", "/v1/complaints/{number}/appeal"): CASE_ACT,
    ("POST", "/v1/complaints/{number}/withdrawal"): CASE_ACT,
    ("POST", "/v1/complaints/{number}/publication-consent/withdrawal"): CASE_ACT,
    # The complainant's rights: their copy of the data, and erasure (refused while the complaint is open: 409).
    ("GET", "/v1/complaints/{number}/data"): CASE_ACT,
    ("POST", "/v1/complaints/{number}/erasure"): CASE_ACT,
    ("GET", "/v1/accounts/me/data"): ACCOUNT,
    ("POST", "/v1/accounts/me/erasure"): ACCOUNT,
    ("GET", "/v1/me/complaints"): ACCOUNT,
    ("GET", "/v1/me/messages"): ACCOUNT,
    ("POST", "/v1/me/messages/{message_id}/read"): ACCOUNT,
    ("POST", "/v1/me/complaints/claim"): ACCOUNT,
    ("GET", "/v1/company/complaints"): COMPANY_LIST,
    ("GET", "/v1/company/complaints/{number}"): COMPANY_CASE,
    ("POST", "/v1/company/complaints/{number}/response"): COMPANY_CASE,
    ("POST", "/v1/company/complaints/{number}/info-request"): COMPANY_CASE,
    # The company portal: its staff's sign-in by invitation, its inbox, handling, keys, webhooks and profile.
    ("POST", "/v1/company/invitation"): PUBLIC,
    ("POST", "/v1/company/invitation/accept"): PUBLIC,
    ("POST", "/v1/company/auth/token"): PUBLIC,
    ("GET", "/v1/company/me"): COMPANY_STAFF,
    ("GET", "/v1/company/complaints.csv"): COMPANY_LIST,
    ("GET", "/v1/company/complaints/{number}/handling"): COMPANY_CASE,
    ("PUT", "/v1/company/complaints/{number}/assignee"): COMPANY_CASE,
    ("POST", "/v1/company/complaints/{number}/notes"): COMPANY_CASE,
    ("GET", "/v1/company/profile"): COMPANY_OWN,
    ("GET", "/v1/company/scorecard"): COMPANY_OWN,
    ("POST", "/v1/company/profile-changes"): COMPANY_STAFF,
    ("PUT", "/v1/company/security"): COMPANY_STAFF,
    ("GET", "/v1/company/staff"): COMPANY_STAFF,
    ("POST", "/v1/company/staff/invitations"): COMPANY_STAFF,
    ("POST", "/v1/company/staff/{staff_id}/disable"): COMPANY_STAFF,
    ("POST", "/v1/company/staff/{staff_id}/enable"): COMPANY_STAFF,
    ("PUT", "/v1/company/staff/{staff_id}/role"): COMPANY_STAFF,
    ("POST", "/v1/company/staff/{staff_id}/sign-out"): COMPANY_STAFF,
    ("GET", "/v1/company/api-keys"): COMPANY_STAFF,
    ("POST", "/v1/company/api-keys"): COMPANY_STAFF,
    ("DELETE", "/v1/company/api-keys/{key_id}"): COMPANY_STAFF,
    ("GET", "/v1/company/webhook-endpoint"): COMPANY_STAFF,
    ("PUT", "/v1/company/webhook-endpoint"): COMPANY_STAFF,
    ("POST", "/v1/company/webhook-endpoint/rotate-secret"): COMPANY_STAFF,
    ("POST", "/v1/company/webhook-endpoint/disable"): COMPANY_STAFF,
    ("POST", "/v1/company/webhook-endpoint/enable"): COMPANY_STAFF,
    ("POST", "/v1/company/webhook-endpoint/test"): COMPANY_STAFF,
    ("GET", "/v1/company/deliveries"): COMPANY_STAFF,
    ("GET", "/v1/company/deliveries/{webhook_id}"): COMPANY_STAFF,
    ("POST", "/v1/company/deliveries/{webhook_id}/redeliver"): COMPANY_STAFF,
    # Operators' side of the portal: the first administrator's invitation and profile changes to approve.
    ("POST", "/v1/ops/companies/{company_id}/staff-invitations"): ADMINISTRATOR,
    ("GET", "/v1/ops/company-profile-changes"): ADMINISTRATOR,
    ("POST", "/v1/ops/company-profile-changes/{change_id}/approve"): ADMINISTRATOR,
    ("POST", "/v1/ops/company-profile-changes/{change_id}/reject"): ADMINISTRATOR,
    ("GET", "/v1/ops/queue"): OPERATOR,
    ("GET", "/v1/ops/complaints/{number}"): STAFF_CASE,
    ("GET", "/v1/ops/complaints/{number}/traces"): STAFF_CASE,
    ("GET", "/v1/ops/dashboard"): OPERATOR,
    ("GET", "/v1/ops/auth/second-factor"): STAFF_ACCOUNT,
    ("POST", "/v1/ops/auth/second-factor"): STAFF_ACCOUNT,
    ("POST", "/v1/ops/auth/second-factor/confirm"): STAFF_ACCOUNT,
    ("GET", "/v1/ops/operators"): ADMINISTRATOR,
    ("POST", "/v1/ops/operators/{login}/second-factor/reset"): ADMINISTRATOR,
    ("POST", "/v1/ops/complaints/{number}/reforward"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/close"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/redirect"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/accept"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/reject"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/review"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/resolve-company"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/legal-hold"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/legal-hold/lift"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/reveal"): OPERATOR,
    ("GET", "/v1/ops/audit"): ADMINISTRATOR,
    ("GET", "/v1/ops/dead-letters"): OPERATOR,
    ("GET", "/v1/ops/dead-letters/{letter_id}"): OPERATOR,
    ("POST", "/v1/ops/dead-letters/{letter_id}/replay"): OPERATOR,
    ("POST", "/v1/ops/dead-letters/replay-all"): OPERATOR,
    ("POST", "/v1/ops/dead-letters/{letter_id}/discard"): OPERATOR,
    ("GET", "/v1/ops/deliveries"): OPERATOR,
    ("GET", "/v1/ops/deliveries/{webhook_id}"): OPERATOR,
    ("POST", "/v1/ops/deliveries/{webhook_id}/redeliver"): OPERATOR,
    ("GET", "/v1/ops/alerts"): OPERATOR,
    ("POST", "/v1/ops/alerts/{alert_id}/ack"): OPERATOR,
    ("GET", "/v1/ops/feedback"): OPERATOR,
    ("GET", "/v1/ops/feedback/{feedback_id}"): OPERATOR,
    ("POST", "/v1/ops/feedback/{feedback_id}/handle"): OPERATOR,
    ("POST", "/v1/ops/evidence/{evidence_id}/verify"): OPERATOR,
    ("POST", "/v1/ops/complaints/{number}/evidence/{evidence_id}/release"): OPERATOR,
    ("GET", "/v1/ops/evidence/held"): OPERATOR,
    ("POST", "/v1/ops/operators"): ADMINISTRATOR,
    ("POST", "/v1/ops/operators/{login}/disable"): ADMINISTRATOR,
    ("POST", "/v1/ops/operators/{login}/enable"): ADMINISTRATOR,
    ("PUT", "/v1/ops/operators/{login}/roles"): ADMINISTRATOR,
    ("POST", "/v1/ops/companies/{company_id}/api-keys"): ADMINISTRATOR,
    ("GET", "/v1/ops/companies/{company_id}/api-keys"): ADMINISTRATOR,
    ("PUT", "/v1/ops/companies/{company_id}"): ADMINISTRATOR,
    ("DELETE", "/v1/ops/api-keys/{key_id}"): ADMINISTRATOR,
    # Operators keep deliveries flowing: they may pause and resume an endpoint; its secret is never shown.
    ("GET", "/v1/ops/companies/{company_id}/webhook-endpoint"): OPERATOR,
    ("POST", "/v1/ops/companies/{company_id}/webhook-endpoint/{action}"): OPERATOR,
    # Where webhooks go and what signs them is the admins' (an operator with a secret could forge webhooks).
    ("PUT", "/v1/ops/companies/{company_id}/webhook-endpoint"): ADMINISTRATOR,
    ("POST", "/v1/ops/companies/{company_id}/webhook-endpoint/rotate-secret"): ADMINISTRATOR,
}

PNG = io.BytesIO()
Image.new("RGB", (8, 8), (9, 9, 9)).save(PNG, format="PNG")
SHA256_OF_NOTHING = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
# Valid bodies, so a refusal is the door's and not validation's (complaint routes check access in the handler).
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/accounts/registrations"): {"json": {"login": "matrix-new@example.com"}},
    ("POST", "/v1/accounts/registrations/confirm"): {
        "json": {"login": "matrix-new@example.com", "code": "123456", "password": "a-long-password-1"}
    },
    ("POST", "/v1/accounts/password-resets"): {"json": {"login": "matrix-a@example.com"}},
    ("POST", "/v1/accounts/password-resets/confirm"): {
        "json": {"login": "matrix-a@example.com", "code": "123456", "password": "a-long-password-1"}
    },
    ("POST", "/v1/auth/token"): {"json": {"login": "matrix-a@example.com", "password": "a-long-password-1"}},
    ("POST", "/v1/auth/code"): {"json": {"login": "matrix-a@example.com"}},
    ("POST", "/v1/auth/code/token"): {"json": {"login": "matrix-a@example.com", "code": "123456"}},
    ("POST", "/v1/ops/auth/token"): {"json": ADMIN},
    # A code no authenticator shows: refused (400, or 409 before an enrolment began), past the door all the same.
    ("POST", "/v1/ops/auth/second-factor/confirm"): {"json": {"one_time_code": "000000"}},
    ("POST", "/v1/public/feedback"): {"json": {"topic": "suggestion", "text": "希望增加夜间客服。"}},
    ("POST", "/v1/evidence"): {"files": {"file": ("a.png", PNG.getvalue(), "image/png")}},
    ("POST", "/v1/uploads"): {
        "json": {"media_type": "image/png", "size": len(PNG.getvalue()), "sha256": SHA256_OF_NOTHING}
    },
    ("POST", "/v1/complaints/{number}/evidence"): {"files": {"file": ("b.png", PNG.getvalue(), "image/png")}},
    ("POST", "/v1/complaints/{number}/uploads"): {
        "json": {"media_type": "image/png", "size": len(PNG.getvalue()), "sha256": SHA256_OF_NOTHING}
    },
    ("POST", "/v1/complaints/{number}/supplement"): {"json": {"text": "补充：订单号 A123。"}},
    ("POST", "/v1/complaints/{number}/rating"): {"json": {"rating": 5}},
    ("POST", "/v1/complaints/{number}/appeal"): {"json": {"reason": "答复没有解决问题。"}},
    ("POST", "/v1/complaints/{number}/withdrawal"): {"json": {"reason": "已和解"}},
    ("POST", "/v1/company/complaints/{number}/response"): {
        "json": {"response_type": "explained", "text": "已核实并说明情况。"}
    },
    ("POST", "/v1/company/complaints/{number}/info-request"): {"json": {"question": "请提供订单号。"}},
    ("POST", "/v1/ops/complaints/{number}/reforward"): {"json": {"note": "再次转办"}},
    ("POST", "/v1/ops/complaints/{number}/close"): {"json": {"outcome": "mediated", "note": "调解完成"}},
    ("POST", "/v1/ops/complaints/{number}/redirect"): {"json": {"company_id": OTHER_COMPANY, "note": "转给正确企业"}},
    ("POST", "/v1/ops/complaints/{number}/accept"): {"json": {"company_id": COMPANY, "category": "refund"}},
    ("POST", "/v1/ops/complaints/{number}/resolve-company"): {"json": {"company_id": COMPANY}},
    ("POST", "/v1/ops/complaints/{number}/legal-hold"): {"json": {"reason": "法院要求保全，暂不删除。"}},
    ("POST", "/v1/ops/complaints/{number}/legal-hold/lift"): {"json": {"reason": "保全期限已过，解除保全。"}},
    ("POST", "/v1/complaints/{number}/access-code/recovery"): {"json": {"phone": "13700002222"}},
    ("POST", "/v1/complaints/{number}/access-code/recovery/confirm"): {
        "json": {"phone": "13700002222", "code": "000000"}
    },
    ("POST", "/v1/ops/complaints/{number}/reject"): {"json": {"reason": "out_of_scope"}},
    ("POST", "/v1/ops/complaints/{number}/reveal"): {
        "json": {"field": "phone", "reason": "申诉调解需要电话联系投诉人"}
    },
    # A wrong old password: the door lets the caller in, the password stays as it is (422 wrong_password).
    ("POST", "/v1/accounts/password"): {
        "json": {"old_password": "not-the-password", "new_password": "a-new-password-9"}
    },
    ("PUT", "/v1/ops/operators/{login}/roles"): {"json": {"roles": ["operator"]}},
    ("POST", "/v1/ops/companies/{company_id}/webhook-endpoint/rotate-secret"): {"json": {"overlap_s": 86400}},
    ("POST", "/v1/ops/dead-letters/{letter_id}/discard"): {"json": {"note": "matrix"}},
    ("POST", "/v1/ops/feedback/{feedback_id}/handle"): {"json": {"note": "matrix"}},
    ("POST", "/v1/ops/complaints/{number}/evidence/{evidence_id}/release"): {"json": {"note": "矩阵放行"}},
    ("POST", "/v1/ops/operators"): {
        "json": {"login": "matrix-new-operator", "password": "a-long-password-1", "roles": ["operator"]}
    },
    ("POST", "/v1/ops/companies/{company_id}/api-keys"): {"json": {"label": "matrix"}},
    ("PUT", "/v1/ops/companies/{company_id}"): {"json": {}},
    # An invitation no one sent: refused (404 invitation_invalid), past the door all the same.
    ("POST", "/v1/company/invitation"): {"json": {"token": f"{UNKNOWN_ID}.not-a-secret"}},
    ("POST", "/v1/company/invitation/accept"): {
        "json": {"token": f"{UNKNOWN_ID}.not-a-secret", "name": "王经理", "password": "a-long-password-1"}
    },
    ("POST", "/v1/company/auth/token"): {"json": {"email": COMPANY_ADMIN_EMAIL, "password": "a-long-password-1"}},
    ("PUT", "/v1/company/complaints/{number}/assignee"): {"json": {"staff_id": None}},
    ("POST", "/v1/company/complaints/{number}/notes"): {"json": {"text": "内部备注：已联系客服。"}},
    ("POST", "/v1/company/profile-changes"): {"json": {"aliases": ["矩阵别名"]}},
    # Left as it is: requiring a second factor would end the administrator's own session.
    ("PUT", "/v1/company/security"): {"json": {"totp_required": False}},
    ("POST", "/v1/company/staff/invitations"): {"json": {"email": "matrix-handler@example.cn", "role": "handler"}},
    ("PUT", "/v1/company/staff/{staff_id}/role"): {"json": {"role": "handler"}},
    ("POST", "/v1/company/api-keys"): {"json": {"label": "matrix"}},
    ("POST", "/v1/company/webhook-endpoint/rotate-secret"): {"json": {"overlap_s": 86400}},
    ("POST", "/v1/company/webhook-endpoint/disable"): {"json": {"reason": "矩阵测试"}},
    ("POST", "/v1/ops/companies/{company_id}/staff-invitations"): {"json": {"email": "matrix-first@example.cn"}},
    ("POST", "/v1/ops/company-profile-changes/{change_id}/reject"): {"json": {"note": "矩阵"}},
}
# The allowed writes that change what later allowed calls act on run last, in this order (signing out
# everywhere ends the caller's own token: it is the last thing each signed-in caller does).
LAST = (
    "/v1/complaints/{number}/withdrawal",
    "/v1/ops/complaints/{number}/redirect",
    "/v1/ops/companies/{company_id}/webhook-endpoint/{action}",
    # The company's own pause, then its resumption, so deliveries flow again after the matrix.
    "/v1/company/webhook-endpoint/disable",
    "/v1/company/webhook-endpoint/enable",
    "/v1/ops/api-keys/{key_id}",
    # Wrong one-time codes count as guesses at the complaint's access: after the guest's own calls.
    "/v1/complaints/{number}/access-code/recovery/confirm",
    "/v1/accounts/sign-out-everywhere",
)


class World:
    """A forwarded complaint with an attached file, and a credential for every caller."""

    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.intake: httpx.AsyncClient = platform.intake
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.params: dict[str, str] = {
            "company_id": COMPANY,
            "slug": "faq",
            "letter_id": UNKNOWN_ID,
            "webhook_id": "msg_" + UNKNOWN_ID[:26],
            "alert_id": UNKNOWN_ID,
            "feedback_id": UNKNOWN_ID,
            "upload_id": UNKNOWN_ID,
            "key_id": UNKNOWN_ID,
            "message_id": UNKNOWN_ID,
            "action": "enable",
            "cluster_id": "CL-GC-20000101-000001",
            "login": "matrix-spare-operator",
            "staff_id": UNKNOWN_ID,
            "change_id": UNKNOWN_ID,
        }
        self.decoy = ""  # another complaint, where the wrong code is tried (so its lock-out spares the guest's)
        # Bodies only known once the platform runs: the company's endpoint, set again as it is.
        self.bodies: dict[tuple[str, str], dict[str, Any]] = {
            ("PUT", "/v1/ops/companies/{company_id}/webhook-endpoint"): {
                "json": {"url": f"{platform.receiver_url}/webhooks/{COMPANY}", "secret": WEBHOOK_SECRET}
            },
        }

    def url(self, path: str, caller: str) -> str:
        params = dict(self.params)
        if caller == "wrong_code":
            params["number"] = self.decoy
        return path.format(**params)

    async def signed_in(self, path: str, credentials: Mapping[str, str]) -> dict[str, str]:
        response = await self.intake.post(path, json=dict(credentials))
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def complainant(self, login: str) -> dict[str, str]:
        await register(self.intake, self.platform.mailbox, login, "a-long-password-1")
        return await self.signed_in("/v1/auth/token", {"login": login, "password": "a-long-password-1"})

    async def operator(self, login: str, roles: list[str]) -> dict[str, str]:
        credentials = {"login": login, "password": "a-long-password-1"}
        created = await self.intake.post(
            "/v1/ops/operators", json={**credentials, "roles": roles}, headers=self.headers["admin"]
        )
        assert created.status_code == 201, created.text
        return await self.signed_in("/v1/ops/auth/token", credentials)

    async def api_key(self, company_id: str) -> dict[str, Any]:
        issued = await self.intake.post(
            f"/v1/ops/companies/{company_id}/api-keys", json={"label": "matrix"}, headers=self.headers["admin"]
        )
        assert issued.status_code == 201, issued.text
        return issued.json()

    async def company_administrator(self, company_id: str, email: str) -> dict[str, str]:
        """The company's first administrator, invited by the platform's admin (the link read from the mail)."""
        invited = await self.intake.post(
            f"/v1/ops/companies/{company_id}/staff-invitations", json={"email": email}, headers=self.headers["admin"]
        )
        assert invited.status_code == 201, invited.text
        mail = await next_mail(self.platform.mailbox, email, 0)
        link = re.search(r"/company/invitation#(\S+)", mail.get_content())
        assert link is not None, mail.get_content()
        accepted = await self.intake.post(
            "/v1/company/invitation/accept",
            json={"token": link.group(1), "name": "王经理", "password": "a-long-password-1"},
        )
        assert accepted.status_code in (200, 201), accepted.text
        return await self.signed_in("/v1/company/auth/token", {"email": email, "password": "a-long-password-1"})

    async def build(self) -> World:
        self.headers["admin"] = await self.signed_in("/v1/ops/auth/token", ADMIN)
        self.headers["operator"] = await self.operator("matrix-operator", ["operator"])
        self.headers["regulator"] = await self.operator("matrix-regulator", ["regulator"])
        await self.operator(self.params["login"], ["operator"])  # disabled, enabled and given roles by admins
        self.headers["owner"] = await self.complainant("matrix-a@example.com")
        self.headers["other_complainant"] = await self.complainant("matrix-b@example.com")
        self.headers["company"] = {"X-Api-Key": (await self.api_key(COMPANY))["api_key"]}
        self.headers["other_company"] = {"X-Api-Key": (await self.api_key(OTHER_COMPANY))["api_key"]}
        self.headers["company_admin"] = await self.company_administrator(COMPANY, COMPANY_ADMIN_EMAIL)
        revoked = await self.api_key(COMPANY)
        assert (
            await self.intake.delete(f"/v1/ops/api-keys/{revoked['key_id']}", headers=self.headers["admin"])
        ).status_code in (200, 204)
        self.headers["revoked_key"] = {"X-Api-Key": revoked["api_key"]}
        token = self.headers["owner"]["Authorization"].split()[1]
        claims = jwt.decode(token, options={"verify_signature": False})
        claims["exp"] = datetime.now(UTC) - timedelta(minutes=1)
        secret = self.platform.apps["intake"].state.intake.settings.jwt_secret.get_secret_value()
        self.headers["expired_token"] = {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}

        uploaded = await self.intake.post("/v1/evidence", files={"file": ("e.png", PNG.getvalue(), "image/png")})
        assert uploaded.status_code == 201, uploaded.text
        self.params["evidence_id"] = uploaded.json()["evidence_id"]
        form = {
            "complainant": {"name": "孙九", "id_number": "11010519491231002X", "phone": "13700002222"},
            "company": {"id": COMPANY},
            "category": "refund",
            "title": "课程退款被拒",
            "description": "课程无法播放，退款申请被拒。",
            "occurred_on": "2026-10-01",
            "desired_outcome": "退款",
            "evidence_ids": [self.params["evidence_id"]],
        }
        filed = await self.intake.post("/v1/complaints", json=form, headers=self.headers["owner"])
        assert filed.status_code == 201, filed.text
        self.params["number"] = filed.json()["number"]
        self.headers["guest"] = {"X-Access-Code": filed.json()["access_code"]}
        decoy = await self.intake.post("/v1/complaints", json={**form, "evidence_ids": [], "title": "另一件投诉"})
        assert decoy.status_code == 201, decoy.text
        self.decoy = decoy.json()["number"]
        self.headers["wrong_code"] = {"X-Access-Code": "WRONG-CODE-9"}
        await self.until_forwarded()
        return self

    async def until_forwarded(self) -> None:
        async def forwarded_with_its_file() -> bool:
            case = (
                await self.intake.get(f"/v1/complaints/{self.params['number']}", headers=self.headers["guest"])
            ).json()
            return case["status"] == "forwarded" and bool(case.get("evidence"))

        await until(forwarded_with_its_file, 30, "the matrix's complaint to be forwarded with its file")

    async def ask(self, method: str, path: str, caller: str) -> httpx.Response:
        answer = await self.intake.request(
            method,
            self.url(path, caller),
            headers=self.headers[caller],
            **{**BODIES, **self.bodies}.get((method, path), {}),
        )
        self.intake.cookies.clear()  # a session cookie one caller started must not sign the next one in
        return answer


@pytest.fixture(scope="module")
async def world(platform) -> World:
    return await World(platform).build()


def outcome_of(response: httpx.Response) -> Any:
    """What a caller got, in the matrix's words."""
    if response.status_code in (401, 403):
        return response.status_code
    if response.status_code == 404 and response.json().get("code") in HIDDEN_CODES:
        return HIDDEN
    return ALLOWED


def operations(app: Any) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}


def test_every_operation_has_an_audience(platform):
    published = operations(platform.apps["intake"])
    assert published - set(AUDIENCES) == set(), "give these operations an audience in the matrix"
    assert set(AUDIENCES) - published == set(), "these operations are gone: remove them from the matrix"


async def test_a_denial_is_indistinguishable_from_a_missing_complaint(world):
    missing = re.sub(r"\d{6}$", "999999", world.params["number"])
    for caller in ("anonymous", "other_complainant", "wrong_code"):
        for path in ("/v1/complaints/{number}", "/v1/complaints/{number}/messages"):
            denied = await world.intake.get(world.url(path, caller), headers=world.headers[caller])
            absent = await world.intake.get(path.format(number=missing), headers=world.headers[caller])
            if caller == "wrong_code" and 429 in (denied.status_code, absent.status_code):
                continue
            assert (denied.status_code, denied.json()) == (absent.status_code, absent.json())
    denied = await world.intake.get(
        f"/v1/company/complaints/{world.params['number']}", headers=world.headers["other_company"]
    )
    absent = await world.intake.get(f"/v1/company/complaints/{missing}", headers=world.headers["other_company"])
    assert (denied.status_code, denied.json()) == (absent.status_code, absent.json()) == (404, absent.json())


async def test_each_caller_gets_exactly_what_its_audience_allows(world, census):
    denied = [
        (method, path, caller)
        for (method, path), table in AUDIENCES.items()
        for caller in CALLERS
        if table[caller] != ALLOWED
    ]
    # The world's own work runs on after its complaint is forwarded (the decoy's lifecycle, mails, clusters).
    before = await quiet(census)
    wrong: list[str] = []
    for method, path, caller in denied:
        response = await world.ask(method, path, caller)
        expected = AUDIENCES[(method, path)][caller]
        got = outcome_of(response)
        # Wrong codes are cut off after a few tries (429): that is a refusal too, and the brute-force guard.
        if got != expected and not (caller == "wrong_code" and response.status_code == 429):
            wrong.append(
                f"{caller:18} {method} {path}: expected {expected}, got {response.status_code} {response.text[:160]}"
            )
    assert wrong == [], "\n".join(wrong)
    assert await census() == before, "a refused request wrote something"

    def order(item: tuple[str, str, str]) -> tuple[int, int]:
        method, path, _ = item
        return (LAST.index(path) + 2 if path in LAST else int(method != "GET"), 0)

    allowed = sorted(
        (
            (method, path, caller)
            for (method, path), table in AUDIENCES.items()
            for caller in CALLERS
            if table[caller] == ALLOWED
        ),
        key=order,
    )
    for method, path, caller in allowed:
        response = await world.ask(method, path, caller)
        assert response.status_code < 500, f"{caller} {method} {path}: {response.status_code} {response.text}"
        if outcome_of(response) != ALLOWED:
            wrong.append(
                f"{caller:18} {method} {path}: expected allowed, got {response.status_code} {response.text[:160]}"
            )
    assert wrong == [], "\n".join(wrong)


# --- The other services: internal and operator tokens ------------------------------------------------------

SERVICE_CALLERS = ("anonymous", "wrong_bearer", "internal", "operator", "admin")
SERVICE_HEADERS = {
    "anonymous": {},
    "wrong_bearer": {"Authorization": "Bearer not-a-token-of-ours"},
    "internal": {"Authorization": f"Bearer {INTERNAL_TOKEN}"},
    "operator": {"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
}


def service_audience(*allowed: str) -> dict[str, Any]:
    """``allowed`` callers get past the door; every other one gets 401."""
    return {caller: ALLOWED if caller in allowed else 401 for caller in SERVICE_CALLERS}


SERVICE_PUBLIC = service_audience(*SERVICE_CALLERS)
INTERNAL = service_audience("internal")
SERVICE_OPERATOR = service_audience("operator")
# Notification's: the admin's token opens its operator endpoints too, and alone sets endpoints and secrets.
NOTIFICATION_OPERATOR = service_audience("operator", "admin")
NOTIFICATION_ADMIN = service_audience("admin")
CASE_STATE = service_audience("internal", "operator")

# A company the gateway's matrix leaves alone: its webhook endpoint is changed and removed here.
SPARE_COMPANY = "c-xinghe"
SERVICE_AUDIENCES: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
    "evidence": {
        ("GET", "/healthz"): SERVICE_PUBLIC,
        ("GET", "/readyz"): SERVICE_PUBLIC,
        ("POST", "/v1/complaints/{number}/evidence"): INTERNAL,
        ("GET", "/v1/complaints/{number}/evidence"): INTERNAL,
        ("POST", "/v1/evidence"): INTERNAL,
        ("GET", "/v1/limits"): INTERNAL,
        ("GET", "/v1/evidence/{evidence_id}"): INTERNAL,
        ("POST", "/v1/evidence/{evidence_id}/link"): INTERNAL,
        ("POST", "/v1/evidence/{evidence_id}/verify"): SERVICE_OPERATOR,
        ("POST", "/v1/evidence/{evidence_id}/release"): SERVICE_OPERATOR,
        ("GET", "/v1/held-evidence"): SERVICE_OPERATOR,
        ("POST", "/v1/uploads"): INTERNAL,
        ("GET", "/v1/uploads/{upload_id}"): INTERNAL,
        ("POST", "/v1/uploads/{upload_id}/complete"): INTERNAL,
        ("GET", "/v1/uploads/{upload_id}/parts"): INTERNAL,
    },
    "routing": {
        ("GET", "/healthz"): SERVICE_PUBLIC,
        ("GET", "/readyz"): SERVICE_PUBLIC,
        ("GET", "/v1/companies"): SERVICE_PUBLIC,
        ("GET", "/v1/companies/{company_id}"): SERVICE_PUBLIC,
        ("GET", "/v1/categories"): SERVICE_PUBLIC,
        ("GET", "/v1/calendar/working-days"): SERVICE_PUBLIC,
        ("PUT", "/v1/companies/{company_id}"): SERVICE_OPERATOR,
        ("GET", "/v1/decisions/{number}"): CASE_STATE,
        ("GET", "/v1/clocks/{number}"): CASE_STATE,
        ("POST", "/v1/watchdog/run"): SERVICE_OPERATOR,
        ("GET", "/v1/clusters"): SERVICE_OPERATOR,
        ("GET", "/v1/clusters/{cluster_id}"): SERVICE_OPERATOR,
    },
    "notification": {
        ("GET", "/healthz"): SERVICE_PUBLIC,
        ("GET", "/readyz"): SERVICE_PUBLIC,
        ("PUT", "/v1/companies/{company_id}/webhook-endpoint"): NOTIFICATION_ADMIN,
        ("GET", "/v1/companies/{company_id}/webhook-endpoint"): NOTIFICATION_OPERATOR,
        ("DELETE", "/v1/companies/{company_id}/webhook-endpoint"): NOTIFICATION_OPERATOR,
        ("POST", "/v1/companies/{company_id}/webhook-endpoint/disable"): NOTIFICATION_OPERATOR,
        ("POST", "/v1/companies/{company_id}/webhook-endpoint/enable"): NOTIFICATION_OPERATOR,
        ("POST", "/v1/companies/{company_id}/webhook-endpoint/rotate-secret"): NOTIFICATION_ADMIN,
        ("POST", "/v1/companies/{company_id}/webhook-endpoint/test"): NOTIFICATION_OPERATOR,
        ("GET", "/v1/deliveries"): NOTIFICATION_OPERATOR,
        ("GET", "/v1/deliveries/{webhook_id}"): NOTIFICATION_OPERATOR,
        ("POST", "/v1/deliveries/{webhook_id}/redeliver"): NOTIFICATION_OPERATOR,
        ("GET", "/v1/messages"): INTERNAL,
        ("POST", "/v1/messages/{message_id}/read"): INTERNAL,
        ("GET", "/v1/alerts"): NOTIFICATION_OPERATOR,
        ("POST", "/v1/alerts/{alert_id}/ack"): NOTIFICATION_OPERATOR,
    },
}
# Valid requests, so a refusal is the door's; ``{number}`` of evidence's uploads is a complaint of the matrix's own.
SERVICE_REQUESTS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("evidence", "POST", "/v1/complaints/{number}/evidence"): {
        "content": PNG.getvalue(),
        "headers": {"Content-Type": "image/png"},
    },
    ("evidence", "POST", "/v1/evidence"): {"content": PNG.getvalue(), "headers": {"Content-Type": "image/png"}},
    ("evidence", "POST", "/v1/uploads"): BODIES[("POST", "/v1/uploads")],
    ("evidence", "POST", "/v1/evidence/{evidence_id}/release"): {"json": {"by": "operator:matrix", "note": "matrix"}},
    ("routing", "PUT", "/v1/companies/{company_id}"): {"json": {"name": "矩阵测试公司", "name_en": "Matrix Test"}},
    ("routing", "GET", "/v1/clusters"): {"params": {"company_id": COMPANY}},
    ("notification", "PUT", "/v1/companies/{company_id}/webhook-endpoint"): {
        "json": {"url": "http://127.0.0.1:9/webhooks/matrix", "secret": WEBHOOK_SECRET}
    },
    ("notification", "POST", "/v1/companies/{company_id}/webhook-endpoint/disable"): {"json": {"reason": "matrix"}},
    ("notification", "POST", "/v1/companies/{company_id}/webhook-endpoint/rotate-secret"): {"json": {"overlap_s": 0}},
    ("notification", "GET", "/v1/messages"): {"params": {"number": "GC-20260101-000001"}},
}
SERVICE_PARAMS = {
    "evidence": {"number": "GC-MATRIX-EVIDENCE"},
    "routing": {"company_id": "c-matrix-new", "cluster_id": UNKNOWN_ID},
    "notification": {"company_id": SPARE_COMPANY, "message_id": UNKNOWN_ID},
}
# Allowed writes whose effect later allowed calls would trip over run last, in this order.
SERVICE_LAST = ("/v1/companies/{company_id}/webhook-endpoint/disable", "/v1/companies/{company_id}/webhook-endpoint")


async def quiet(census: Any) -> dict[str, int]:
    """The census once the platform stopped writing (what earlier tests set going is all handled)."""
    previous = await census()
    while True:
        await asyncio.sleep(0.5)
        if (current := await census()) == previous:
            return current
        previous = current


async def ask_service(world: World, service: str, method: str, path: str, caller: str) -> httpx.Response:
    request = SERVICE_REQUESTS.get((service, method, path), {})
    headers = {**request.get("headers", {}), **SERVICE_HEADERS[caller]}
    url = path.format(**{**world.params, **SERVICE_PARAMS[service]})
    return await getattr(world.platform, service).request(
        method, url, headers=headers, **{key: value for key, value in request.items() if key != "headers"}
    )


@pytest.mark.parametrize("service", list(SERVICE_AUDIENCES))
def test_every_operation_of_the_other_services_has_an_audience(platform, service):
    published = operations(platform.apps[service])
    assert published - set(SERVICE_AUDIENCES[service]) == set(), f"give these {service} operations an audience"
    assert set(SERVICE_AUDIENCES[service]) - published == set(), f"these {service} operations are gone"


@pytest.mark.parametrize("service", list(SERVICE_AUDIENCES))
async def test_the_other_services_let_in_only_the_tokens_their_audience_names(world, census, service):
    audiences = SERVICE_AUDIENCES[service]
    before = await quiet(census)
    wrong: list[str] = []
    for (method, path), table in audiences.items():
        for caller in SERVICE_CALLERS:
            if table[caller] == ALLOWED:
                continue
            response = await ask_service(world, service, method, path, caller)
            if (response.status_code, response.headers.get("www-authenticate")) != (401, "Bearer"):
                wrong.append(
                    f"{caller:14} {service} {method} {path}: expected 401, got {response.status_code} "
                    f"{response.text[:160]}"
                )
            elif response.json()["code"] != "unauthorized":
                wrong.append(f"{caller:14} {service} {method} {path}: {response.text[:160]}")
    assert wrong == [], "\n".join(wrong)
    assert await census() == before, "a refused request wrote something"

    def order(item: tuple[str, str, str]) -> int:
        method, path, _ = item
        return SERVICE_LAST.index(path) + 2 if path in SERVICE_LAST and method != "GET" else int(method != "GET")

    allowed = sorted(
        (
            (method, path, caller)
            for (method, path), table in audiences.items()
            for caller in SERVICE_CALLERS
            if table[caller] == ALLOWED
        ),
        key=order,
    )
    for method, path, caller in allowed:
        response = await ask_service(world, service, method, path, caller)
        assert response.status_code < 500, f"{caller} {service} {method} {path}: {response.status_code} {response.text}"
        if response.status_code in (401, 403):
            wrong.append(
                f"{caller:14} {service} {method} {path}: expected allowed, got {response.status_code} "
                f"{response.text[:160]}"
            )
    assert wrong == [], "\n".join(wrong)


# --- The internal listeners: their routes there, and nowhere else ---------------------------------------------

INTERNAL_AUDIENCES: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
    service: {
        ("GET", "/healthz"): SERVICE_PUBLIC,
        ("GET", "/readyz"): SERVICE_PUBLIC,
        ("GET", "/metrics"): SERVICE_PUBLIC,
    }
    for service in ("intake", "evidence", "routing", "notification")
}
# A complainant's phone and e-mail: for notification's internal token only.
INTERNAL_AUDIENCES["intake"][("GET", "/internal/v1/complaints/{number}/contact")] = INTERNAL


def internal_operations(app: Any) -> set[tuple[str, str]]:
    """The internal app serves no OpenAPI document, but builds one listing all its routes."""
    return operations(app.state.internal_app)


@pytest.mark.parametrize("service", list(INTERNAL_AUDIENCES))
def test_every_operation_of_the_internal_listeners_has_an_audience(platform, service):
    published = internal_operations(platform.apps[service])
    assert published - set(INTERNAL_AUDIENCES[service]) == set(), (
        f"give these internal {service} operations an audience"
    )
    assert set(INTERNAL_AUDIENCES[service]) - published == set(), f"these internal {service} operations are gone"


@pytest.mark.parametrize("service", list(INTERNAL_AUDIENCES))
async def test_the_internal_listeners_let_in_only_the_tokens_their_audience_names(world, service):
    wrong: list[str] = []
    internal = world.platform.internal[service]
    for (method, path), table in INTERNAL_AUDIENCES[service].items():
        for caller in SERVICE_CALLERS:
            response = await internal.request(method, path.format(**world.params), headers=SERVICE_HEADERS[caller])
            assert response.status_code < 500, f"{caller} {service} {method} {path}: {response.text}"
            if table[caller] == ALLOWED and response.status_code in (401, 403):
                wrong.append(
                    f"{caller:14} internal {service} {method} {path}: expected allowed, got {response.status_code}"
                )
            elif table[caller] != ALLOWED and (response.status_code, response.headers.get("www-authenticate")) != (
                401,
                "Bearer",
            ):
                wrong.append(
                    f"{caller:14} internal {service} {method} {path}: expected 401, got "
                    f"{response.status_code} {response.text[:160]}"
                )
    assert wrong == [], "\n".join(wrong)
    if service == "intake":  # the allowed call really answers: the complainant's contact
        path = "/internal/v1/complaints/{number}/contact".format(**world.params)
        assert (await internal.get(path, headers=SERVICE_HEADERS["internal"])).json()["phone"]


@pytest.mark.parametrize("service", list(INTERNAL_AUDIENCES))
async def test_the_public_port_answers_404_for_every_internal_route_whoever_asks(world, service):
    """Every caller of both matrices, with whatever it holds (and spoofed forwarding headers of the cluster), asks
    the service's public port for each route of its internal listener: 404, the generic problem, and no figure."""
    public = getattr(world.platform, service)
    credentials = {
        **{f"gateway:{caller}": headers for caller, headers in world.headers.items()},
        **{f"service:{caller}": headers for caller, headers in SERVICE_HEADERS.items()},
    }
    spoofed = {
        "X-Forwarded-For": "10.0.0.7",
        "X-Real-IP": "10.0.0.7",
        "X-Forwarded-Host": "intake-internal",
        "Forwarded": "for=10.0.0.7;host=intake-internal",
    }
    wrong: list[str] = []
    for method, path in INTERNAL_AUDIENCES[service]:
        if path in ("/healthz", "/readyz"):  # probes answer on both listeners
            continue
        for name, headers in credentials.items():
            response = await public.request(method, path.format(**world.params), headers={**headers, **spoofed})
            if (
                response.status_code != 404
                or response.json().get("code") != "not_found"
                or "greenchannel_" in response.text
            ):
                wrong.append(
                    f"{name:26} public {service} {method} {path}: {response.status_code} {response.text[:160]}"
                )
    assert wrong == [], "\n".join(wrong)
