"""Who may sign in, and how it is checked: complainant accounts, operator accounts, company API keys, tokens.

* Passwords are hashed with Argon2 (pwdlib); a login (e-mail or mobile) is found by its keyed hash
  and stored encrypted, like every other piece of personal data.
* Tokens are signed, expiring JWTs (PyJWT, HS256) naming the principal kind, its account id and the
  account's ``token_version`` (claim ``ver``). Every request checks the token against its account:
  a disabled account, or one whose ``token_version`` moved on (password changed or reset, signed out
  everywhere, disabled), refuses it; roles come from the account, never from the token. The account
  is read through a per-process TTL cache of at most 30 s (``account_cache_ttl_s``): a change made on
  one replica holds there at once and on every other replica within that bound.
* Company API keys look like ``gck_<key id>_<secret>``; only the SHA-256 of the secret is stored
  (the secret is 32 random bytes, so a fast hash is enough), and a key can be revoked.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cachetools import TTLCache
from pwdlib import PasswordHash
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from greenchannel.mongo import in_transaction
from intake.adapters.pii import KeyedHash, PiiCipher
from intake.domain.company_staff import API_KEY_ROLE, CompanyRole
from intake.domain.principals import Kind, Principal, Role

ISSUER = "greenchannel-intake"
# Argon2 checks running at once in one process: a replica has about one core, and more threads than that only
# share it, with each other and with the event loop, which then answers everything else late.
CONCURRENT_PASSWORD_CHECKS = 2
API_KEY_PREFIX = "gck"
# A key's last use is written at most once a minute: a company's busy integration costs no write per request.
API_KEY_USE_PRECISION = timedelta(seconds=60)
ACCOUNT_CACHE_SIZE = 10_000  # accounts remembered per process; the least recently used beyond that are read again
KNOWN_ROLES = frozenset(role.value for role in Role)
STAFF_CHANGES = "staff"


class LoginTaken(Exception):
    pass


class WrongPassword(Exception):
    pass


class PasswordChangedMeanwhile(Exception):
    pass


class LastAdmin(Exception):
    """The change would leave no enabled admin: nobody could manage staff, keys or secrets any more."""


@dataclass(frozen=True)
class AccountState:
    """What a request's token is checked against: the account as it is now (within the cache bound)."""

    token_version: int
    disabled: bool
    roles: frozenset[Role]
    login: str | None  # operators' login (a complainant's is personal data, kept encrypted and out of here)
    company_id: str | None = None  # a company staff member's company
    company_role: CompanyRole | None = None


class Identities:
    def __init__(
        self,
        db,
        cipher: PiiCipher,
        blind_index: KeyedHash,
        jwt_secret: str,
        token_ttl_s: int,
        account_cache_ttl_s: float,
    ) -> None:
        self.accounts = db["accounts"]
        self.operators = db["operators"]
        self.api_keys = db["api_keys"]
        # Company staff accounts (``intake.adapters.company_staff`` keeps them): their tokens are checked here too.
        self.company_staff = db["company_staff"]
        # One document every change of a staff account writes: two changes at once conflict, and the one
        # retried sees the other's effect (without it, two admins disabling each other could both pass).
        self.staff_changes = db["staff_changes"]
        self.cipher = cipher
        self.blind_index = blind_index
        self.jwt_secret = jwt_secret
        self.token_ttl = timedelta(seconds=token_ttl_s)
        self.passwords = PasswordHash.recommended()
        self._accounts_seen: TTLCache[tuple[Kind, str], AccountState | None] = TTLCache(
            ACCOUNT_CACHE_SIZE, account_cache_ttl_s
        )
        self._password_checks = asyncio.Semaphore(CONCURRENT_PASSWORD_CHECKS)
        # Verifying against this when the login is unknown keeps both answers equally slow.
        self._decoy_hash = self.passwords.hash(secrets.token_urlsafe(16))

    # --- complainants ------------------------------------------------------------------------------

    async def has_account(self, login: str) -> bool:
        found = await self.accounts.find_one({"login_key": self.blind_index.digest(login)}, projection={"_id": 1})
        return found is not None

    async def account_data(self, account_id: str) -> dict[str, Any] | None:
        """What the account holds about its holder, opened (for the holder's own copy of their data)."""
        account = await self.accounts.find_one({"_id": account_id})
        if account is None:
            return None
        return {
            "id": account["_id"],
            "login": self.cipher.decrypt("login", account["login"]),
            "name": self.cipher.decrypt("name", account["name"]) if account.get("name") else None,
            "created_at": account["created_at"],
            "erasure_due_at": account.get("erasure_due_at"),
        }

    async def set_account_erasure_due(
        self, account_id: str, requested_at: datetime, due_at: datetime, session: AsyncClientSession
    ) -> None:
        """Record the holder's request to erase the account; asking again does not postpone it."""
        await self.accounts.update_one(
            {"_id": account_id, "$or": [{"erasure_due_at": None}, {"erasure_due_at": {"$gt": due_at}}]},
            {"$set": {"erasure_requested_at": requested_at, "erasure_due_at": due_at}},
            session=session,
        )

    async def accounts_due_for_erasure(self, now: datetime, limit: int) -> list[str]:
        cursor = self.accounts.find({"erasure_due_at": {"$lte": now}}, projection={"_id": 1}).sort("erasure_due_at", 1)
        return [document["_id"] for document in await cursor.limit(limit).to_list()]

    async def delete_account(self, account_id: str, session: AsyncClientSession) -> bool:
        """Remove the account (login, name, password hash) for good; its tokens die with it (the account is read on
        every request). Whether it was there."""
        result = await self.accounts.delete_one({"_id": account_id}, session=session)
        self._accounts_seen.pop((Kind.COMPLAINANT, account_id), None)
        return result.deleted_count == 1

    async def hash_password(self, password: str) -> str:
        """Argon2 takes tens of milliseconds of CPU by design: in a worker thread, like every check
        (``_password_matches``), and within the same bound on concurrent ones."""
        async with self._password_checks:
            return await asyncio.to_thread(self.passwords.hash, password)

    async def register(
        self, login: str, password_hash: str, name: str | None, session: AsyncClientSession | None = None
    ) -> str:
        """Create the account of a login whose holder proved it (a one-time code); see ``hash_password``."""
        account_id = uuid.uuid4().hex
        try:
            await self.accounts.insert_one(
                {
                    "_id": account_id,
                    "login_key": self.blind_index.digest(login),
                    "login": self.cipher.encrypt("login", login),
                    "name": self.cipher.encrypt("name", name) if name else None,
                    "password_hash": password_hash,
                    "token_version": 0,
                    "disabled": False,
                    "created_at": datetime.now(UTC),
                },
                session=session,
            )
        except DuplicateKeyError:
            raise LoginTaken(login) from None
        return account_id

    async def reset_password(self, login: str, password_hash: str, session: AsyncClientSession) -> Principal | None:
        """Set the password and end every session of the account: the account as a token of the new version
        names it, or None when there is no account."""
        account = await self.accounts.find_one_and_update(
            {"login_key": self.blind_index.digest(login)},
            {
                "$set": {"password_hash": password_hash, "password_changed_at": datetime.now(UTC)},
                "$inc": {"token_version": 1},
            },
            projection={"token_version": 1},
            session=session,
            return_document=ReturnDocument.AFTER,
        )
        return Principal(Kind.COMPLAINANT, account["_id"], token_version=account["token_version"]) if account else None

    async def authenticate_complainant(self, login: str, password: str) -> Principal | None:
        account = await self.accounts.find_one({"login_key": self.blind_index.digest(login), "disabled": {"$ne": True}})
        if not await self._password_matches(password, account["password_hash"] if account else None):
            return None
        return Principal(Kind.COMPLAINANT, account["_id"], token_version=account.get("token_version", 0))

    async def complainant(self, login: str, session: AsyncClientSession | None = None) -> Principal | None:
        """The account of a login whose holder proved it (a one-time code), as its tokens name it."""
        account = await self.accounts.find_one(
            {"login_key": self.blind_index.digest(login)}, projection={"token_version": 1}, session=session
        )
        if account is None:
            return None
        return Principal(Kind.COMPLAINANT, account["_id"], token_version=account.get("token_version", 0))

    # --- operators ---------------------------------------------------------------------------------

    async def ensure_operator(self, login: str, password: str, roles: set[Role]) -> None:
        """Create the bootstrap operator when no operator exists yet (idempotent across replicas)."""
        if await self.operators.count_documents({}, limit=1):
            return
        with contextlib.suppress(LoginTaken):
            await self.create_operator(login, password, roles)

    async def create_operator(self, login: str, password: str, roles: set[Role]) -> str:
        operator_id = uuid.uuid4().hex
        try:
            await self.operators.insert_one(
                {
                    "_id": operator_id,
                    "login": login,
                    "password_hash": await self.hash_password(password),
                    "roles": sorted(role.value for role in roles),
                    "disabled": False,
                    "token_version": 0,
                    "created_at": datetime.now(UTC),
                }
            )
        except DuplicateKeyError:
            raise LoginTaken(login) from None
        return operator_id

    async def authenticate_operator(self, login: str, password: str) -> Principal | None:
        operator = await self.operators.find_one({"login": login, "disabled": False})
        if not await self._password_matches(password, operator["password_hash"] if operator else None):
            return None
        return Principal(Kind.OPERATOR, operator["_id"], _roles(operator), operator.get("token_version", 0))

    async def operators_listed(self) -> list[dict[str, Any]]:
        """Every staff account by login, without its password hash."""
        found = self.operators.find({}, projection={"password_hash": 0}).sort("login", 1)
        return await found.to_list()

    async def operator_id(self, login: str) -> str | None:
        found = await self.operators.find_one({"login": login}, projection={"_id": 1})
        return found["_id"] if found else None

    async def set_operator_disabled(self, login: str, disabled: bool) -> dict[str, Any] | None:
        """Disable or enable an operator account; disabling also ends every token it holds, so enabling
        it again does not bring them back. None for an unknown login."""
        if disabled:
            change = {
                "$set": {"disabled": True, "disabled_at": datetime.now(UTC)},
                "$inc": {"token_version": 1},
            }
        else:
            change = {"$set": {"disabled": False, "disabled_at": None}}
        return await self._change_operator(login, change)

    async def set_operator_roles(self, login: str, roles: set[Role]) -> dict[str, Any] | None:
        return await self._change_operator(login, {"$set": {"roles": sorted(role.value for role in roles)}})

    async def _change_operator(self, login: str, change: dict[str, Any]) -> dict[str, Any] | None:
        """Apply ``change`` unless it leaves no enabled admin (``LastAdmin``); None for an unknown login."""

        async def work(session) -> dict[str, Any] | None:
            operator = await self.operators.find_one_and_update(
                {"login": login},
                change,
                return_document=ReturnDocument.AFTER,
                projection={"password_hash": 0},
                session=session,
            )
            if operator is None:
                return None
            await self.staff_changes.update_one({"_id": STAFF_CHANGES}, {"$inc": {"count": 1}}, session=session)
            if not await self.operators.count_documents(
                {"roles": Role.ADMIN.value, "disabled": False}, limit=1, session=session
            ):
                raise LastAdmin(login)
            return operator

        operator = await in_transaction(self.operators.database.client, work)
        if operator is not None:
            self.forget(Kind.OPERATOR, operator["_id"])
        return operator

    # --- any signed-in account ----------------------------------------------------------------------

    async def change_password(self, principal: Principal, old_password: str, new_password: str) -> Principal:
        """Set a new password and end every token of the account; the answer is the principal to sign in again.

        Argon2 runs off the event loop. The change applies only to the password that was checked, so of
        two concurrent changes from the same old password one wins and the other is refused."""
        accounts = self._accounts_of(principal.kind)
        account = await accounts.find_one(
            {"_id": principal.account_id, "disabled": {"$ne": True}}, projection={"password_hash": 1}
        )
        if not await self._password_matches(old_password, account["password_hash"] if account else None):
            raise WrongPassword
        new_hash = await self.hash_password(new_password)
        changed = await accounts.find_one_and_update(
            {"_id": principal.account_id, "password_hash": account["password_hash"]},
            {
                "$set": {"password_hash": new_hash, "password_changed_at": datetime.now(UTC)},
                "$inc": {"token_version": 1},
            },
            return_document=ReturnDocument.AFTER,
            projection={"token_version": 1},
        )
        if changed is None:
            raise PasswordChangedMeanwhile
        self.forget(principal.kind, principal.account_id)
        return replace(principal, token_version=changed["token_version"])

    async def sign_out_everywhere(self, principal: Principal) -> None:
        await self._accounts_of(principal.kind).update_one(
            {"_id": principal.account_id}, {"$inc": {"token_version": 1}}
        )
        self.forget(principal.kind, principal.account_id)

    def _accounts_of(self, kind: Kind):
        if kind is Kind.COMPANY:
            return self.company_staff
        return self.operators if kind is Kind.OPERATOR else self.accounts

    async def account_state(self, kind: Kind, account_id: str) -> AccountState | None:
        """The account as it is now, or at most ``account_cache_ttl_s`` ago; None for an account that is gone."""
        key = (kind, account_id)
        try:
            return self._accounts_seen[key]
        except KeyError:
            pass
        account = await self._accounts_of(kind).find_one(
            {"_id": account_id},
            projection={"token_version": 1, "disabled": 1, "roles": 1, "login": 1, "company_id": 1, "role": 1},
        )
        state = (
            None
            if account is None
            else AccountState(
                account.get("token_version", 0),
                bool(account.get("disabled")),
                _roles(account),
                account.get("login") if kind is Kind.OPERATOR else None,
                account.get("company_id") if kind is Kind.COMPANY else None,
                _company_role(account) if kind is Kind.COMPANY else None,
            )
        )
        self._accounts_seen[key] = state
        return state

    def forget(self, kind: Kind, account_id: str) -> None:
        """Drop this process's cached copy of an account it just changed: the change holds here at once."""
        self._accounts_seen.pop((kind, account_id), None)

    async def password_matches(self, password: str, stored_hash: str | None) -> bool:
        """Whether ``password`` is the one of ``stored_hash``; as slow for None (no such account) as for a hash."""
        return await self._password_matches(password, stored_hash)

    async def _password_matches(self, password: str, stored_hash: str | None) -> bool:
        # Argon2 takes tens of milliseconds of CPU by design: in a worker thread, the event loop keeps serving.
        async with self._password_checks:
            matches = await asyncio.to_thread(self.passwords.verify, password, stored_hash or self._decoy_hash)
        return matches and stored_hash is not None

    # --- tokens ------------------------------------------------------------------------------------

    def issue_token(self, principal: Principal) -> dict[str, Any]:
        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "sub": principal.account_id,
            "kind": principal.kind.value,
            "ver": principal.token_version,
            # How the holder proved who they are (RFC 8176): a password, and a one-time code when asked for one.
            "amr": ["pwd", "otp"] if principal.second_factor else ["pwd"],
            "iat": now,
            "exp": now + self.token_ttl,
        }
        token = jwt.encode(claims, self.jwt_secret, algorithm="HS256")
        return {"access_token": token, "token_type": "bearer", "expires_in": int(self.token_ttl.total_seconds())}

    async def principal_from_token(self, token: str) -> Principal | None:
        """The principal of a valid token whose account is enabled and still at the token's version."""
        try:
            claims = jwt.decode(
                token,
                self.jwt_secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss", "ver"]},
            )
            kind, account_id, version = Kind(claims["kind"]), claims["sub"], claims["ver"]
            amr = claims.get("amr")
            second_factor = isinstance(amr, list) and "otp" in amr
        except (jwt.PyJWTError, KeyError, ValueError):
            return None
        if kind is Kind.GUEST or not isinstance(account_id, str) or type(version) is not int:
            return None
        account = await self.account_state(kind, account_id)
        if account is None or account.disabled or account.token_version != version:
            return None
        if kind is Kind.COMPANY:
            if account.company_id is None or account.company_role is None:
                return None
            return Principal(
                kind,
                account.company_id,
                token_version=version,
                second_factor=second_factor,
                account=account_id,
                company_role=account.company_role,
            )
        return Principal(kind, account_id, account.roles, version, second_factor)

    # --- company API keys --------------------------------------------------------------------------

    async def issue_api_key(self, company_id: str, label: str, issued_by: str) -> dict[str, Any]:
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        await self.api_keys.insert_one(
            {
                "_id": key_id,
                "company_id": company_id,
                "label": label,
                "secret_sha256": _sha256(secret),
                "issued_by": issued_by,
                "created_at": datetime.now(UTC),
                "revoked_at": None,
            }
        )
        return {
            "key_id": key_id,
            "company_id": company_id,
            "label": label,
            "api_key": f"{API_KEY_PREFIX}_{key_id}_{secret}",
        }

    async def revoke_api_key(self, key_id: str, company_id: str | None = None) -> bool:
        """Revoke an active key; with ``company_id``, only a key of that company (a company revokes its own)."""
        match: dict[str, Any] = {"_id": key_id, "revoked_at": None}
        if company_id is not None:
            match["company_id"] = company_id
        result = await self.api_keys.update_one(match, {"$set": {"revoked_at": datetime.now(UTC)}})
        return result.modified_count == 1

    async def list_api_keys(self, company_id: str) -> list[dict[str, Any]]:
        keys = await self.api_keys.find({"company_id": company_id}, projection={"secret_sha256": 0}).to_list()
        return [{**key, "key_id": key.pop("_id")} for key in keys]

    async def principal_from_api_key(self, api_key: str) -> Principal | None:
        prefix, _, rest = api_key.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != API_KEY_PREFIX or not key_id or not secret or len(api_key) > 200:
            return None
        key = await self.api_keys.find_one({"_id": key_id, "revoked_at": None})
        if key is None or not hmac.compare_digest(key["secret_sha256"], _sha256(secret)):
            return None
        now = datetime.now(UTC)
        last = key.get("last_used_at")
        if last is None or now - last >= API_KEY_USE_PRECISION:
            await self.api_keys.update_one(
                {
                    "_id": key_id,
                    "$or": [{"last_used_at": None}, {"last_used_at": {"$lt": now - API_KEY_USE_PRECISION}}],
                },
                {"$set": {"last_used_at": now}},
            )
        return Principal(Kind.COMPANY, key["company_id"], company_role=API_KEY_ROLE)


def _roles(account: dict[str, Any]) -> frozenset[Role]:
    # A role the code no longer knows grants nothing (rather than failing every request of the account).
    return frozenset(Role(role) for role in account.get("roles", []) if role in KNOWN_ROLES)


def _company_role(account: dict[str, Any]) -> CompanyRole | None:
    # A role the code no longer knows grants nothing: the token is refused rather than read as another role.
    return CompanyRole(account["role"]) if account.get("role") in set(CompanyRole) else None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
