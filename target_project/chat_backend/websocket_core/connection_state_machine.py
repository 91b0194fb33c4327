"""The lifecycle of one WebSocket connection.

CONNECTING -> ACCEPTED -> AUTHENTICATED -> SERVICES_READY -> PROCESSING_READY, and from any of them to
CLOSED. Each connection gets a machine in a module-level registry, keyed by its connection id.
"""
import logging
from enum import Enum

logger = logging.getLogger(__name__)


class ConnectionState(Enum):
    CONNECTING = "connecting"
    ACCEPTED = "accepted"
    AUTHENTICATED = "authenticated"
    SERVICES_READY = "services_ready"
    PROCESSING_READY = "processing_ready"
    CLOSED = "closed"


LEGAL_TRANSITIONS: dict[ConnectionState, frozenset[ConnectionState]] = {
    ConnectionState.CONNECTING: frozenset({ConnectionState.ACCEPTED, ConnectionState.CLOSED}),
    ConnectionState.ACCEPTED: frozenset({ConnectionState.AUTHENTICATED, ConnectionState.CLOSED}),
    ConnectionState.AUTHENTICATED: frozenset({ConnectionState.SERVICES_READY, ConnectionState.CLOSED}),
    ConnectionState.SERVICES_READY: frozenset({ConnectionState.PROCESSING_READY, ConnectionState.CLOSED}),
    ConnectionState.PROCESSING_READY: frozenset({ConnectionState.CLOSED}),
    ConnectionState.CLOSED: frozenset(),
}


class InvalidStateTransition(Exception):
    """Raised when a connection is asked to move to a state it cannot reach from its current one."""


class ConnectionStateMachine:
    """Tracks the state of one connection and refuses illegal transitions."""

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        self.state = ConnectionState.CONNECTING
        self.history: list[ConnectionState] = [self.state]

    def can_transition(self, target: ConnectionState) -> bool:
        return target in LEGAL_TRANSITIONS[self.state]

    def transition(self, target: ConnectionState) -> None:
        if not self.can_transition(target):
            raise InvalidStateTransition(
                f"{self.connection_id}: {self.state.name} -> {target.name} is not a legal transition"
            )
        logger.debug("%s: %s -> %s", self.connection_id, self.state.name, target.name)
        self.state = target
        self.history.append(target)

    def close(self) -> None:
        """Move to CLOSED; closing a closed connection does nothing."""
        if self.state is not ConnectionState.CLOSED:
            self.transition(ConnectionState.CLOSED)

    @property
    def is_active(self) -> bool:
        return self.state is not ConnectionState.CLOSED

    @property
    def is_ready(self) -> bool:
        return self.state is ConnectionState.PROCESSING_READY


_machines: dict[str, ConnectionStateMachine] = {}


def get_connection_state_machine(connection_id: str) -> ConnectionStateMachine:
    """Return the machine of ``connection_id``, creating it (in CONNECTING) on first use."""
    machine = _machines.get(connection_id)
    if machine is None:
        machine = _machines[connection_id] = ConnectionStateMachine(connection_id)
    return machine


def find_connection_state_machine(connection_id: str) -> ConnectionStateMachine | None:
    """Return the machine of ``connection_id`` if there is one; never creates one."""
    return _machines.get(connection_id)


def remove_connection_state_machine(connection_id: str) -> ConnectionStateMachine | None:
    """Forget the machine of ``connection_id`` and return it (None if there was none)."""
    return _machines.pop(connection_id, None)


def active_connection_ids() -> list[str]:
    return sorted(_machines)
