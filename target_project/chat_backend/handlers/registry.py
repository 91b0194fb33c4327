"""Maps the ``type`` of a client frame to the coroutine that handles it.

Handlers register themselves with :func:`register` when their module is imported. A handler receives the
frame and ``emit``, a coroutine function that sends one event back to the client.
"""
from collections.abc import Awaitable, Callable

Emit = Callable[[dict], Awaitable[None]]
Handler = Callable[[dict, Emit], Awaitable[None]]

_HANDLERS: dict[str, Handler] = {}


class UnknownMessageType(LookupError):
    """No handler is registered for a frame's type."""


def register(message_type: str) -> Callable[[Handler], Handler]:
    """Decorator: make the decorated coroutine function the handler of ``message_type``."""

    def decorator(handler: Handler) -> Handler:
        if message_type in _HANDLERS:
            raise ValueError(f"a handler for {message_type!r} is already registered")
        _HANDLERS[message_type] = handler
        return handler

    return decorator


def get_handler(message_type: str) -> Handler | None:
    return _HANDLERS.get(message_type)


def registered_types() -> list[str]:
    return sorted(_HANDLERS)


async def dispatch(message: dict, emit: Emit) -> None:
    """Run the handler registered for ``message["type"]``."""
    message_type = message.get("type")
    handler = _HANDLERS.get(message_type) if isinstance(message_type, str) else None
    if handler is None:
        raise UnknownMessageType(f"unknown message type: {message_type!r}")
    await handler(message, emit)
