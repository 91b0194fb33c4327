from chat_backend import ConnectionState
from chat_backend.websocket_core.connection_state_machine import (
    find_connection_state_machine,
    get_connection_state_machine,
)
from chat_backend.websocket_core.utils import is_websocket_connected, release_connection


def test_unknown_connection_is_not_connected():
    assert is_websocket_connected("ws_nobody") is False
    assert find_connection_state_machine("ws_nobody") is None


def test_connection_is_connected_until_closed():
    machine = get_connection_state_machine("ws_b")
    machine.transition(ConnectionState.ACCEPTED)
    assert is_websocket_connected("ws_b") is True
    machine.close()
    assert is_websocket_connected("ws_b") is False


def test_release_closes_and_forgets_the_machine():
    machine = get_connection_state_machine("ws_c")
    machine.transition(ConnectionState.ACCEPTED)
    assert release_connection("ws_c") is machine
    assert machine.state is ConnectionState.CLOSED
    assert is_websocket_connected("ws_c") is False
    assert release_connection("ws_c") is None
