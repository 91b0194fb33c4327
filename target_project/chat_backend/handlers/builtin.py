"""The built-in handlers: ``ping`` and ``message`` (a chat message answered by the echo agent).

The echo agent answers a message with the text in capitals and its word count, which it gets from its one
tool, ``word_counter``. It streams its progress as agent_started, agent_thinking, tool_executing,
tool_completed and agent_completed events.
"""
from .registry import Emit, register

AGENT_NAME = "echo-agent"


def word_counter(text: str) -> dict[str, int]:
    """The agent's tool: count the words and characters of ``text``."""
    return {"words": len(text.split()), "characters": len(text)}


@register("ping")
async def handle_ping(message: dict, emit: Emit) -> None:
    await emit({"type": "pong", "id": message.get("id")})


@register("message")
async def handle_message(message: dict, emit: Emit) -> None:
    request_id = message.get("id")
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        await emit({"type": "error", "id": request_id, "message": "a chat message needs non-empty 'text'"})
        return
    await emit({"type": "agent_started", "id": request_id, "agent": AGENT_NAME})
    await emit({"type": "agent_thinking", "id": request_id, "thought": "Counting the words first."})
    await emit({"type": "tool_executing", "id": request_id, "tool": "word_counter", "input": text})
    result = word_counter(text)
    await emit({"type": "tool_completed", "id": request_id, "tool": "word_counter", "result": result})
    reply = f"{text.upper()} ({result['words']} words)"
    await emit({"type": "agent_completed", "id": request_id, "agent": AGENT_NAME, "response": reply})
