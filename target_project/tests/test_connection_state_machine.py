import pytest

from chat_backend import ConnectionState
from chat_backend.websocket_core.connection_state_machine import (
    ConnectionStateMachine,
    InvalidStateTransition,
    active_connection_ids,
    find_connection_state_machine,
    get_connection_state_machine,
    remove_connection_state_machine,
)

SETUP_PATH = [
    ConnectionState.ACCEPTED,
    ConnectionState.AUTHENTICATED,
    ConnectionState.SERVICES_READY,
    ConnectionState.PROCESSING_READY,
]


def test_new_machine_starts_connecting():
    machine = ConnectionStateMachine("ws_1")
    assert machine.state is ConnectionState.CONNECTING
    assert machine.is_active and not machine.is_ready


def test_setup_path_reaches_processing_ready():
    machine = ConnectionStateMachine("ws_1")
    for state in SETUP_PATH:
        machine.transition(state)
    assert machine.is_ready
    assert machine.history == [ConnectionState.CONNECTING, *SETUP_PATH]


@pytest.mark.parametrize("skipped_to", [ConnectionState.AUTHENTICATED, ConnectionState.PROCESSING_READY])
def test_skipping_a_step_is_illegal(skipped_to):
    machine = ConnectionStateMachine("ws_1")
    with pytest.raises(InvalidStateTransition):
        machine.transition(skipped_to)
    assert machine.state is ConnectionState.CONNECTING


def test_closed_is_final_and_close_is_idempotent():
    machine = ConnectionStateMachine("ws_1")
    machine.transition(ConnectionState.ACCEPTED)
    machine.close()
    machine.close()
    assert machine.state is ConnectionState.CLOSED and not machine.is_active
    with pytest.raises(InvalidStateTransition):
        machine.transition(ConnectionState.ACCEPTED)


def test_registry_creates_once_and_forgets_on_remove():
    machine = get_connection_state_machine("ws_a")
    assert get_connection_state_machine("ws_a") is machine
    assert find_connection_state_machine("ws_a") is machine
    assert active_connection_ids() == ["ws_a"]
    assert remove_connection_state_machine("ws_a") is machine
    assert find_connection_state_machine("ws_a") is None
    assert remove_connection_state_machine("ws_a") is None
