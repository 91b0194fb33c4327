"""chat_backend: an asyncio WebSocket chat service.

Clients authenticate with a signed token, then send chat messages; a small agent answers each one and
streams its progress as events (agent_started, agent_thinking, tool_executing, tool_completed,
agent_completed).
"""
from .websocket_core.connection_state_machine import ConnectionState

__all__ = ["ConnectionState"]
__version__ = "0.1.0"
