"""The authentication outage: failed logins drive the circuit breaker and the concurrent-token cache.

These paths are where ``unified_websocket_auth`` reads the clock through ``time``; a chat service that
cannot run them turns every failed login into an internal error. Opt-in: ``python -m pytest -m incident``.
"""
import asyncio
import logging

import pytest
from websockets.asyncio.client import connect

from chat_backend.json_codec import dumps, loads
from chat_backend.routes.websocket import ChatServices
from chat_backend.websocket_core.unified_websocket_auth import (
    AuthenticationError,
    CircuitBreakerOpen,
    UnifiedWebSocketAuthenticator,
    issue_token,
)

pytestmark = pytest.mark.incident

COOLDOWN = 30.0


def forged_token(user_id="mallory"):
    return issue_token(user_id, "not-the-server-secret")


def pretend_cooldown_passed(authenticator):
    authenticator._circuit_breaker["last_failure_time"] -= COOLDOWN + 1.0


async def expect_rejection(authenticator, token, reason):
    with pytest.raises(AuthenticationError) as caught:
        await authenticator.authenticate(token)
    assert caught.value.reason == reason
    return caught.value


def test_failed_authentications_open_the_breaker(run, secret, make_token):
    authenticator = UnifiedWebSocketAuthenticator(secret, failure_threshold=3, cooldown_seconds=COOLDOWN)

    async def scenario():
        await expect_rejection(authenticator, forged_token(), "bad_signature")
        await expect_rejection(authenticator, make_token("alice", ttl_seconds=-1.0), "expired")
        assert authenticator.circuit_state == "CLOSED"
        await expect_rejection(authenticator, "garbage", "malformed")
        assert authenticator.circuit_state == "OPEN"
        # while open, even a valid token is turned away
        rejection = await expect_rejection(authenticator, make_token("alice"), "circuit_open")
        assert isinstance(rejection, CircuitBreakerOpen)
        assert 0.0 < rejection.retry_after <= COOLDOWN

    run(scenario())


def test_breaker_half_opens_after_the_cooldown(run, secret, make_token):
    authenticator = UnifiedWebSocketAuthenticator(secret, failure_threshold=3, cooldown_seconds=COOLDOWN)

    async def scenario():
        for _ in range(3):
            await expect_rejection(authenticator, forged_token(), "bad_signature")
        assert authenticator.circuit_state == "OPEN"

        # half-open: a trial is let through; one failure re-opens the breaker at once
        pretend_cooldown_passed(authenticator)
        await expect_rejection(authenticator, forged_token(), "bad_signature")
        assert authenticator.circuit_state == "OPEN"
        await expect_rejection(authenticator, make_token("alice"), "circuit_open")

        # half-open again: a success closes it
        pretend_cooldown_passed(authenticator)
        assert await authenticator.authenticate(make_token("alice")) == "alice"
        assert authenticator.circuit_state == "CLOSED"
        assert await authenticator.authenticate(make_token("bob")) == "bob"

    run(scenario())


def test_concurrent_validations_of_one_token_share_the_result(run, secret, make_token):
    lookups = []
    gates = []

    async def is_revoked(user_id):
        lookups.append(user_id)
        await gates[-1].wait()
        return False

    authenticator = UnifiedWebSocketAuthenticator(secret, is_revoked=is_revoked)
    token = make_token("alice")

    async def wait_for_lookups(count):
        while len(lookups) < count:
            await asyncio.sleep(0)

    async def scenario():
        # two connections validate the same token at once: the first result is cached for the other
        gates.append(asyncio.Event())
        first = asyncio.create_task(authenticator.authenticate(token))
        second = asyncio.create_task(authenticator.authenticate(token))
        await wait_for_lookups(2)
        gates[-1].set()
        assert await asyncio.gather(first, second) == ["alice", "alice"]

        # a third arrives while a fourth validation is in flight: it is answered from the cache
        gates.append(asyncio.Event())
        fourth = asyncio.create_task(authenticator.authenticate(token))
        await wait_for_lookups(3)
        assert await authenticator.authenticate(token) == "alice"
        assert len(lookups) == 3
        gates[-1].set()
        assert await fourth == "alice"

    run(scenario())


def test_rejected_logins_are_answered_over_the_socket(run, chat_server, secret, make_token, caplog):
    caplog.set_level(logging.INFO, logger="chat_backend")

    async def login(url, token):
        async with connect(url, open_timeout=2.0, close_timeout=1.0) as ws:
            await ws.send(dumps({"type": "auth", "token": token}))
            return loads(await asyncio.wait_for(ws.recv(), 2.0))

    async def scenario():
        async with chat_server(ChatServices(secret)) as url:
            return [await login(url, token) for token in [forged_token()] * 3 + [make_token("alice")]]

    replies = run(scenario(), timeout=4.0)
    assert [(reply["type"], reply.get("reason")) for reply in replies] == [
        ("auth_error", "bad_signature"),
        ("auth_error", "bad_signature"),
        ("auth_error", "bad_signature"),
        ("auth_error", "circuit_open"),
    ]
    assert not [r for r in caplog.records if r.getMessage().startswith("WebSocket error")]
