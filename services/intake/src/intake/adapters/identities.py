"""Who may sign in, and how it is checked: complainant accounts, operator accounts, company API keys, tokens.

* Passwords are hashed with Argon2 (pwdlib); a login (e-mail or mobile) is found by its keyed hash
  and stored encrypted, like every other piece of personal data.
* Tokens are signed, expiring JWTs (PyJWT, HS256) naming the principal kind, id and roles; a
  complainant's token also names the account's ``token_version`` (``ver``), which a password reset
  moves on, so every token issued before the reset stops working.
* Company API keys look like ``gck_<key id>_<secret>``; only the SHA-256 of the secret is stored
  (the secret is 32 random bytes, so a fast hash is enough), and a key can be revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
from pwdlib import PasswordHash
from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from intake.adapters.pii import KeyedHash, PiiCipher
from intake.domain.principals import Kind, Principal, Role

ISSUER = "greenchannel-intake"
API_KEY_PREFIX = "gck"


class LoginTaken(Exception):
    pass


class Identities:
    def __init__(self, db, cipher: PiiCipher, blind_index: KeyedHash, jwt_secret: str, token_ttl_s: int) -> None:
        self.accounts = db["accounts"]
        self.operators = db["operators"]
        self.api_keys = db["api_keys"]
        self.cipher = cipher
        self.blind_index = blind_index
        self.jwt_secret = jwt_secret
        self.token_ttl = timedelta(seconds=token_ttl_s)
        self.passwords = PasswordHash.recommended()
        # Verifying against this when the login is unknown keeps both answers equally slow.
        self._decoy_hash = self.passwords.hash(secrets.token_urlsafe(16))

    async def ensure_indexes(self) -> None:
        await self.accounts.create_index("login_key", unique=True)
        await self.operators.create_index("login", unique=True)
        await self.api_keys.create_index("company_id")

    # --- complainants ------------------------------------------------------------------------------

    async def has_account(self, login: str) -> bool:
        found = await self.accounts.find_one({"login_key": self.blind_index.digest(login)}, projection={"_id": 1})
        return found is not None

    def hash_password(self, password: str) -> str:
        return self.passwords.hash(password)

    async def register(self, login: str, password_hash: str, name: str | None,
                       session: AsyncClientSession | None = None) -> str:
        """Create the account of a login whose holder proved it (a one-time code); see ``hash_password``."""
        account_id = uuid.uuid4().hex
        try:
            await self.accounts.insert_one({
                "_id": account_id,
                "login_key": self.blind_index.digest(login),
                "login": self.cipher.encrypt("login", login),
                "name": self.cipher.encrypt("name", name) if name else None,
                "password_hash": password_hash,
                "token_version": 0,
                "created_at": datetime.now(timezone.utc),
            }, session=session)
        except DuplicateKeyError:
            raise LoginTaken(login) from None
        return account_id

    async def reset_password(self, login: str, password_hash: str, session: AsyncClientSession) -> Principal | None:
        """Set the password and end every session of the account: the account as a token of the new version
        names it, or None when there is no account."""
        account = await self.accounts.find_one_and_update(
            {"login_key": self.blind_index.digest(login)},
            {"$set": {"password_hash": password_hash, "password_changed_at": datetime.now(timezone.utc)},
             "$inc": {"token_version": 1}},
            projection={"token_version": 1}, session=session, return_document=ReturnDocument.AFTER,
        )
        return Principal(Kind.COMPLAINANT, account["_id"], token_version=account["token_version"]) if account else None

    async def authenticate_complainant(self, login: str, password: str) -> Principal | None:
        account = await self.accounts.find_one({"login_key": self.blind_index.digest(login)})
        if not self._password_matches(password, account["password_hash"] if account else None):
            return None
        return Principal(Kind.COMPLAINANT, account["_id"], token_version=account.get("token_version", 0))

    async def complainant(self, login: str, session: AsyncClientSession | None = None) -> Principal | None:
        """The account of a login whose holder proved it (a one-time code), as its tokens name it."""
        account = await self.accounts.find_one({"login_key": self.blind_index.digest(login)},
                                               projection={"token_version": 1}, session=session)
        if account is None:
            return None
        return Principal(Kind.COMPLAINANT, account["_id"], token_version=account.get("token_version", 0))

    async def session_current(self, principal: Principal) -> bool:
        """Whether a complainant's token is of the account's current version (no reset since it was issued)."""
        if principal.kind is not Kind.COMPLAINANT:
            return True
        account = await self.accounts.find_one({"_id": principal.id}, projection={"token_version": 1})
        return account is not None and account.get("token_version", 0) == principal.token_version

    # --- operators ---------------------------------------------------------------------------------

    async def ensure_operator(self, login: str, password: str, roles: set[Role]) -> None:
        """Create the bootstrap operator when no operator exists yet (idempotent across replicas)."""
        if await self.operators.count_documents({}, limit=1):
            return
        try:
            await self.create_operator(login, password, roles)
        except LoginTaken:
            pass

    async def create_operator(self, login: str, password: str, roles: set[Role]) -> str:
        operator_id = uuid.uuid4().hex
        try:
            await self.operators.insert_one({
                "_id": operator_id, "login": login, "password_hash": self.passwords.hash(password),
                "roles": sorted(role.value for role in roles), "disabled": False,
                "created_at": datetime.now(timezone.utc),
            })
        except DuplicateKeyError:
            raise LoginTaken(login) from None
        return operator_id

    async def authenticate_operator(self, login: str, password: str) -> Principal | None:
        operator = await self.operators.find_one({"login": login, "disabled": False})
        if not self._password_matches(password, operator["password_hash"] if operator else None):
            return None
        return Principal(Kind.OPERATOR, operator["_id"], frozenset(Role(role) for role in operator["roles"]))

    def _password_matches(self, password: str, stored_hash: str | None) -> bool:
        if stored_hash is None:
            self.passwords.verify(password, self._decoy_hash)
            return False
        return self.passwords.verify(password, stored_hash)

    # --- tokens ------------------------------------------------------------------------------------

    def issue_token(self, principal: Principal) -> dict[str, Any]:
        now = datetime.now(timezone.utc)
        claims = {"iss": ISSUER, "sub": principal.id, "kind": principal.kind.value,
                  "roles": sorted(role.value for role in principal.roles), "iat": now, "exp": now + self.token_ttl}
        if principal.kind is Kind.COMPLAINANT:
            claims["ver"] = principal.token_version
        token = jwt.encode(claims, self.jwt_secret, algorithm="HS256")
        return {"access_token": token, "token_type": "bearer", "expires_in": int(self.token_ttl.total_seconds())}

    def principal_from_token(self, token: str) -> Principal | None:
        try:
            claims = jwt.decode(token, self.jwt_secret, algorithms=["HS256"], issuer=ISSUER,
                                options={"require": ["exp", "sub", "iss"]})
            kind = Kind(claims["kind"])
            version = int(claims.get("ver", 0))
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            return None
        if kind not in (Kind.COMPLAINANT, Kind.OPERATOR):
            return None
        return Principal(kind, claims["sub"], frozenset(Role(role) for role in claims.get("roles", [])),
                         token_version=version)

    # --- company API keys --------------------------------------------------------------------------

    async def issue_api_key(self, company_id: str, label: str, issued_by: str) -> dict[str, Any]:
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        await self.api_keys.insert_one({
            "_id": key_id, "company_id": company_id, "label": label, "secret_sha256": _sha256(secret),
            "issued_by": issued_by, "created_at": datetime.now(timezone.utc), "revoked_at": None,
        })
        return {"key_id": key_id, "company_id": company_id, "label": label,
                "api_key": f"{API_KEY_PREFIX}_{key_id}_{secret}"}

    async def revoke_api_key(self, key_id: str) -> bool:
        result = await self.api_keys.update_one({"_id": key_id, "revoked_at": None},
                                                {"$set": {"revoked_at": datetime.now(timezone.utc)}})
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
        return Principal(Kind.COMPANY, key["company_id"])


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
