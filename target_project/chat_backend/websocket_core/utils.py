"""Small helpers for code that holds a connection id rather than a connection.

They import the connection registry inside each function, so that any module of websocket_core can import
this one without creating an import cycle.
"""
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chat_backend.websocket_core.connection_state_machine import ConnectionStateMachine


def is_websocket_connected(connection_id: str) -> bool:
    """True while ``connection_id`` has a state machine that has not reached CLOSED."""
    from chat_backend.websocket_core.connection_state_machine import find_connection_state_machine

    machine = find_connection_state_machine(connection_id)
    return machine is not None and machine.is_active


def release_connection(connection_id: str) -> "ConnectionStateMachine | None":
    """Close and forget the state machine of a finished connection; returns it (None if unknown)."""
    from chat_backend.websocket_core.connection_state_machine import remove_connection_state_machine

    machine = remove_connection_state_machine(connection_id)
    if machine is not None:
        machine.close()
    return machine
