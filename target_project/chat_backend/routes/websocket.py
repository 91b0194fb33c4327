"""The chat WebSocket endpoint.

Protocol: the client's first frame is ``{"type": "auth", "token": ...}``. The server answers
``connection_ready`` (or ``auth_error`` and closes). After that every frame is dispatched by its ``type``
through the handler registry: ``ping`` gets a ``pong``, ``message`` gets the agent's event stream.
"""
import asyncio
import logging
import time
import uuid

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from chat_backend import ConnectionState
from chat_backend.handlers.registry import UnknownMessageType, dispatch
from chat_backend.json_codec import dumps, loads
from chat_backend.websocket_core.connection_state_machine import get_connection_state_machine
from chat_backend.websocket_core.graceful_degradation_manager import GracefulDegradationManager, ServiceStatus
from chat_backend.websocket_core.unified_websocket_auth import AuthenticationError, UnifiedWebSocketAuthenticator
from chat_backend.websocket_core.utils import release_connection

logger = logging.getLogger(__name__)

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


class ChatServices:
    """What every connection needs: the authenticator, the service-health manager and a few limits."""

    def __init__(
        self,
        secret: str,
        *,
        authenticator: UnifiedWebSocketAuthenticator | None = None,
        health: GracefulDegradationManager | None = None,
        auth_timeout: float = 5.0,
    ) -> None:
        self.authenticator = authenticator or UnifiedWebSocketAuthenticator(secret)
        self.health = health or GracefulDegradationManager()
        self.auth_timeout = auth_timeout


def _transition(machine, target: ConnectionState) -> None:
    try:
        machine.transition(target)
    except Exception:
        logger.error("Failed to transition state machine to %s for %s", target.name, machine.connection_id)
        raise


async def _setup_connection(
    websocket: ServerConnection, connection_id: str, services: ChatServices, connected_at: float
) -> str | None:
    """Authenticate the client and bring its connection to PROCESSING_READY; None if it was turned away."""
    machine = get_connection_state_machine(connection_id)
    _transition(machine, ConnectionState.ACCEPTED)

    try:
        frame = loads(await asyncio.wait_for(websocket.recv(), timeout=services.auth_timeout))
    except (asyncio.TimeoutError, ValueError):
        frame = None
    if not isinstance(frame, dict) or frame.get("type") != "auth":
        await websocket.send(dumps({"type": "auth_error", "reason": "auth_required"}))
        machine.close()
        await websocket.close(POLICY_VIOLATION, "authentication required")
        return None
    try:
        user_id = await services.authenticator.authenticate(frame.get("token"))
    except AuthenticationError as exc:
        await websocket.send(dumps({"type": "auth_error", "reason": exc.reason, "message": str(exc)}))
        machine.close()
        await websocket.close(POLICY_VIOLATION, "authentication failed")
        return None
    _transition(machine, ConnectionState.AUTHENTICATED)

    await services.health.check_all()
    status = services.health.overall_status()
    if status is ServiceStatus.UNAVAILABLE:
        await websocket.send(dumps({"type": "error", "message": "chat services are unavailable"}))
        machine.close()
        await websocket.close(TRY_AGAIN_LATER, "services unavailable")
        return None
    _transition(machine, ConnectionState.SERVICES_READY)
    _transition(machine, ConnectionState.PROCESSING_READY)

    await websocket.send(
        dumps(
            {
                "type": "connection_ready",
                "connection_id": connection_id,
                "user_id": user_id,
                "services": status.value,
                "connected_at": connected_at,
            }
        )
    )
    logger.info("%s ready for user %s (services %s)", connection_id, user_id, status.value)
    return user_id


async def _handle_frame(websocket: ServerConnection, raw: str | bytes) -> None:
    async def emit(event: dict) -> None:
        await websocket.send(dumps(event))

    try:
        message = loads(raw)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        await emit({"type": "error", "message": "frames must be JSON objects"})
        return
    try:
        await dispatch(message, emit)
    except UnknownMessageType as exc:
        await emit({"type": "error", "message": str(exc)})


async def websocket_endpoint(websocket: ServerConnection, services: ChatServices) -> None:
    """Serve one chat connection from handshake to close."""
    connection_id = f"ws_{uuid.uuid4().hex[:12]}"
    try:
        connected_at = time.time()
        user_id = await _setup_connection(websocket, connection_id, services, connected_at)
        if user_id is None:
            return
        async for raw in websocket:
            await _handle_frame(websocket, raw)
    except ConnectionClosed:
        logger.info("%s: client went away", connection_id)
    except Exception as exc:
        logger.error("WebSocket error: %s", exc)
        try:
            get_connection_state_machine(connection_id).close()
        except Exception as cleanup_exc:
            logger.error("Final state machine cleanup failed for %s: %s", connection_id, cleanup_exc)
        try:
            await websocket.send(dumps({"type": "error", "message": "internal server error"}))
        except ConnectionClosed:
            pass
    finally:
        release_connection(connection_id)


async def start_server(services: ChatServices, host: str = "127.0.0.1", port: int = 0) -> Server:
    """Start serving the chat endpoint; port 0 picks a free port (see ``server.sockets``)."""

    async def handler(websocket: ServerConnection) -> None:
        await websocket_endpoint(websocket, services)

    return await serve(handler, host, port)
