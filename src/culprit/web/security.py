"""Passwords, login sessions, CSRF tokens and signed, expiring upload links.

- Passwords: argon2id (argon2-cffi) with its default parameters; hashes are rehashed on login
  when the parameters change.
- Sessions: a random 256-bit token in an HttpOnly, SameSite=Lax cookie (or a ``Bearer`` header
  for the API); the database keeps only its sha256, so a leaked database opens no session.
- CSRF: one random token per session, required on every state-changing request that is
  authenticated by the cookie (form field ``csrf_token`` or header ``X-CSRF-Token``). The login
  form uses a double-submit cookie.
- Upload links: ``itsdangerous`` URL-safe signed tokens (HMAC-SHA512 keyed by the server secret,
  salt ``culprit-upload-link``) carrying the link id, a random nonce and the expiry; the link row
  is checked too, so a link can be revoked and cannot outlive its case.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeSerializer

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> tuple[bool, str | None]:
    """Check ``password`` against ``stored``.

    Returns:
        ``(ok, new_hash)``: ``new_hash`` is set when the stored hash should be upgraded.
    """
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored) else None)


def burn_time() -> None:
    """Spend what a password check costs, so unknown user names answer as slowly as wrong passwords."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, "x")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two optional strings (None never matches)."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


class LinkError(Exception):
    """An upload link that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class LinkClaim:
    link_id: int
    nonce: str
    expires: datetime


class LinkSigner:
    """Make and check upload link tokens."""

    def __init__(self, secret: str) -> None:
        self._s = URLSafeSerializer(
            secret, salt="culprit-upload-link", signer_kwargs={"digest_method": hashlib.sha512}
        )
        self._secret = secret.encode()

    def make(self, link_id: int, nonce: str, expires: datetime) -> str:
        return self._s.dumps([link_id, nonce, int(expires.timestamp())])

    def check(self, token: str, now: datetime | None = None) -> LinkClaim:
        """Verify the signature and the expiry.

        Raises:
            LinkError: 404 when the token is not ours (tampered, truncated), 410 when expired.
        """
        if len(token) > 512:
            raise LinkError("this upload link is not valid", 404)
        try:
            data = self._s.loads(token)
        except BadSignature:
            raise LinkError("this upload link is not valid", 404) from None
        if not (
            isinstance(data, list)
            and len(data) == 3
            and isinstance(data[0], int)
            and isinstance(data[1], str)
            and isinstance(data[2], int)
        ):
            raise LinkError("this upload link is not valid", 404)
        expires = datetime.fromtimestamp(data[2], UTC)
        if (now or datetime.now(UTC)) >= expires:
            raise LinkError("this upload link has expired; ask your engineer for a new one", 410)
        return LinkClaim(data[0], data[1], expires)

    def form_token(self, token: str) -> str:
        """The CSRF value the upload page embeds (bound to the link, so no session is needed)."""
        return hmac.new(self._secret, b"upload-form:" + token.encode(), hashlib.sha256).hexdigest()
