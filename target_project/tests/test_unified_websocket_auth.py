import base64
import json

from chat_backend.websocket_core.unified_websocket_auth import UnifiedWebSocketAuthenticator, issue_token


def test_valid_token_returns_its_user_id(run, secret, make_token):
    authenticator = UnifiedWebSocketAuthenticator(secret)
    assert run(authenticator.authenticate(make_token("alice"))) == "alice"


def test_several_users_authenticate_one_after_another(run, secret, make_token):
    authenticator = UnifiedWebSocketAuthenticator(secret)
    for user_id in ["alice", "bob", "alice"]:
        assert run(authenticator.authenticate(make_token(user_id))) == user_id
    assert authenticator.circuit_state == "CLOSED"


def test_token_is_payload_dot_hex_signature(secret):
    payload, signature = issue_token("carol", secret, 60.0, now=1_700_000_000.0).split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert decoded == {"user_id": "carol", "exp": 1_700_000_060.0}
    assert len(signature) == 64 and int(signature, 16) >= 0


def test_expiry_is_checked_against_the_injected_clock(run, secret):
    token = issue_token("dave", secret, 60.0, now=1_000.0)
    authenticator = UnifiedWebSocketAuthenticator(secret, clock=lambda: 1_030.0)
    assert run(authenticator.authenticate(token)) == "dave"
