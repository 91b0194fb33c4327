import pytest

from chat_backend.handlers.registry import (
    UnknownMessageType,
    dispatch,
    get_handler,
    register,
    registered_types,
)

AGENT_EVENTS = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]


def collect(run, message):
    events = []

    async def emit(event):
        events.append(event)

    run(dispatch(message, emit))
    return events


def test_builtin_handlers_are_registered():
    assert {"message", "ping"} <= set(registered_types())
    assert get_handler("ping") is not None


def test_ping_gets_pong(run):
    assert collect(run, {"type": "ping", "id": 4}) == [{"type": "pong", "id": 4}]


def test_message_streams_agent_events(run):
    events = collect(run, {"type": "message", "id": "m1", "text": "hello agent world"})
    assert [event["type"] for event in events] == AGENT_EVENTS
    assert all(event["id"] == "m1" for event in events)
    assert events[3]["result"] == {"words": 3, "characters": 17}
    assert events[-1]["response"] == "HELLO AGENT WORLD (3 words)"


def test_empty_message_is_an_error(run):
    events = collect(run, {"type": "message", "id": "m2", "text": "   "})
    assert [event["type"] for event in events] == ["error"]


def test_unknown_type_raises(run):
    with pytest.raises(UnknownMessageType):
        collect(run, {"type": "teleport"})


def test_a_type_cannot_be_registered_twice():
    with pytest.raises(ValueError):
        register("ping")(lambda message, emit: None)
