"""Token authentication for WebSocket connections.

A token is ``base64url(payload_json) + "." + hex(hmac_sha256(secret, payload_json))``; the payload holds
``user_id`` and ``exp`` (expiry, unix seconds). Expiry is checked against an injectable clock.

Failed validations feed a circuit breaker: after ``failure_threshold`` failures the authenticator rejects
every token for ``cooldown_seconds``, then lets trial authentications through (half-open): a success
closes the breaker again, a failure re-opens it.

When several connections validate the same token at the same time (a client reconnecting from many tabs),
the result of the first is cached for five minutes and handed to the others.
"""
import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timezone

logger = logging.getLogger(__name__)


class AuthenticationError(Exception):
    """A token was rejected; ``reason`` is the short code sent back to the client."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CircuitBreakerOpen(AuthenticationError):
    """Too many recent failures: authentication is refused until the cooldown has passed."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("circuit_open", f"authentication is paused; retry in {retry_after:.0f}s")
        self.retry_after = retry_after


def utc_timestamp() -> float:
    """The current time as unix seconds."""
    return datetime.now(timezone.utc).timestamp()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, payload: bytes) -> str:
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def issue_token(user_id: str, secret: str, ttl_seconds: float = 3600.0, *, now: float | None = None) -> str:
    """Mint a token for ``user_id`` that expires ``ttl_seconds`` after ``now`` (default: the current time)."""
    issued_at = utc_timestamp() if now is None else now
    payload = json.dumps({"user_id": user_id, "exp": issued_at + ttl_seconds}, separators=(",", ":"))
    payload_bytes = payload.encode("utf-8")
    return f"{_b64encode(payload_bytes)}.{_sign(secret.encode('utf-8'), payload_bytes)}"


async def _never_revoked(user_id: str) -> bool:
    return False


class UnifiedWebSocketAuthenticator:
    """Validates connection tokens, guarded by a circuit breaker and a concurrent-token cache.

    ``clock`` returns the current unix time for expiry checks. ``is_revoked`` is an async callable
    ``(user_id) -> bool``; in production it asks the session store, which is where validations of the
    same token come to overlap.
    """

    def __init__(
        self,
        secret: str,
        *,
        failure_threshold: int = 3,
        cooldown_seconds: float = 30.0,
        clock=utc_timestamp,
        is_revoked=_never_revoked,
    ) -> None:
        self._secret = secret.encode("utf-8")
        self._failure_threshold = failure_threshold
        self._cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._is_revoked = is_revoked
        self._circuit_breaker: dict[str, object] = {
            "state": "CLOSED",
            "failure_count": 0,
            "last_failure_time": None,
        }
        self._in_flight: dict[str, int] = {}
        self._concurrent_token_cache: dict[str, dict[str, object]] = {}

    @property
    def circuit_state(self) -> str:
        return self._circuit_breaker["state"]

    async def authenticate(self, token: object) -> str:
        """Return the user id of a valid token; raise AuthenticationError otherwise."""
        self._check_circuit_breaker()
        key = token if isinstance(token, str) else repr(token)
        if self._in_flight.get(key):
            cached_user_id = self._check_concurrent_token_cache(key)
            if cached_user_id is not None:
                return cached_user_id
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            user_id = await self._validate_token(token)
        except AuthenticationError as exc:
            logger.info("Authentication failed (%s): %s", exc.reason, exc)
            self._record_circuit_breaker_failure()
            raise
        finally:
            remaining = self._in_flight.pop(key) - 1
            if remaining:
                self._in_flight[key] = remaining
        self._record_circuit_breaker_success()
        if self._in_flight.get(key):
            self._cache_concurrent_token_result(key, user_id)
        return user_id

    async def _validate_token(self, token: object) -> str:
        if not isinstance(token, str) or token.count(".") != 1:
            raise AuthenticationError("malformed", "a token is '<payload>.<signature>'")
        encoded_payload, signature = token.split(".")
        try:
            payload_bytes = _b64decode(encoded_payload)
        except ValueError:
            raise AuthenticationError("malformed", "the token payload is not base64url") from None
        expected = _sign(self._secret, payload_bytes)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8")):
            raise AuthenticationError("bad_signature", "the token signature does not match")
        try:
            payload = json.loads(payload_bytes)
            user_id = str(payload["user_id"])
            expires_at = float(payload["exp"])
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError("malformed", "the token payload is not valid") from None
        if expires_at <= self._clock():
            raise AuthenticationError("expired", "the token has expired")
        if await self._is_revoked(user_id):
            raise AuthenticationError("revoked", "the token has been revoked")
        return user_id

    def _check_circuit_breaker(self) -> None:
        breaker = self._circuit_breaker
        if breaker["state"] == "CLOSED":
            return
        current_time = time.time()
        if breaker["state"] == "OPEN":
            elapsed = current_time - breaker["last_failure_time"]
            if elapsed < self._cooldown_seconds:
                raise CircuitBreakerOpen(self._cooldown_seconds - elapsed)
            breaker["state"] = "HALF_OPEN"
            logger.info("Authentication circuit breaker half-open after %.1fs", elapsed)

    def _record_circuit_breaker_failure(self) -> None:
        breaker = self._circuit_breaker
        breaker["failure_count"] += 1
        breaker["last_failure_time"] = time.time()
        if breaker["state"] == "HALF_OPEN" or breaker["failure_count"] >= self._failure_threshold:
            if breaker["state"] != "OPEN":
                logger.warning(
                    "Authentication circuit breaker opened after %d failures", breaker["failure_count"]
                )
            breaker["state"] = "OPEN"

    def _record_circuit_breaker_success(self) -> None:
        breaker = self._circuit_breaker
        if breaker["state"] != "CLOSED" or breaker["failure_count"]:
            breaker.update(state="CLOSED", failure_count=0, last_failure_time=None)

    def _check_concurrent_token_cache(self, token: str) -> str | None:
        cached_entry = self._concurrent_token_cache.get(token)
        if cached_entry is None:
            return None
        if time.time() - cached_entry["timestamp"] < 300:
            return cached_entry["user_id"]
        del self._concurrent_token_cache[token]
        return None

    def _cache_concurrent_token_result(self, token: str, user_id: str) -> None:
        self._concurrent_token_cache[token] = {"user_id": user_id, "timestamp": time.time()}
