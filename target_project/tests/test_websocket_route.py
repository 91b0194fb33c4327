"""End-to-end tests: a real server on a loopback port and the websockets client."""
import asyncio
import time

from websockets.asyncio.client import connect

from chat_backend.json_codec import dumps, loads
from chat_backend.routes.websocket import ChatServices
from chat_backend.websocket_core.connection_state_machine import active_connection_ids
from chat_backend.websocket_core.graceful_degradation_manager import GracefulDegradationManager

AGENT_EVENTS = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]


async def receive(ws):
    return loads(await asyncio.wait_for(ws.recv(), 2.0))


async def agent_run(ws):
    """The events of one agent run, up to agent_completed (or the first error)."""
    events = [await receive(ws)]
    while events[-1]["type"] not in ("agent_completed", "error"):
        events.append(await receive(ws))
    return events


async def authenticated_session(url, token):
    ws = await connect(url, open_timeout=2.0, close_timeout=1.0)
    await ws.send(dumps({"type": "auth", "token": token}))
    return ws, await receive(ws)


def test_chat_message_streams_the_agent_events(run, chat_server, secret, make_token):
    async def scenario():
        async with chat_server(ChatServices(secret)) as url:
            ws, ready = await authenticated_session(url, make_token("alice"))
            async with ws:
                await ws.send(dumps({"type": "message", "id": "m1", "text": "hello from the test"}))
                events = await agent_run(ws)
        return ready, events

    before = time.time()
    ready, events = run(scenario())
    assert ready["type"] == "connection_ready"
    assert ready["user_id"] == "alice"
    assert ready["services"] == "healthy"
    assert ready["connection_id"].startswith("ws_")
    assert before <= ready["connected_at"] <= time.time()
    assert [event["type"] for event in events] == AGENT_EVENTS
    assert events[-1]["response"] == "HELLO FROM THE TEST (4 words)"
    # the server has released the connection once the client left
    assert active_connection_ids() == []


def test_ping_unknown_types_and_bad_frames(run, chat_server, secret, make_token):
    async def scenario():
        async with chat_server(ChatServices(secret)) as url:
            ws, ready = await authenticated_session(url, make_token("bob"))
            async with ws:
                await ws.send(dumps({"type": "ping", "id": 1}))
                pong = await receive(ws)
                await ws.send(dumps({"type": "teleport"}))
                unknown = await receive(ws)
                await ws.send("not json at all")
                garbled = await receive(ws)
        return ready, pong, unknown, garbled

    ready, pong, unknown, garbled = run(scenario())
    assert ready["type"] == "connection_ready"
    assert pong == {"type": "pong", "id": 1}
    assert unknown["type"] == "error" and "teleport" in unknown["message"]
    assert garbled == {"type": "error", "message": "frames must be JSON objects"}


def test_slow_service_is_reported_as_degraded(run, chat_server, secret, make_token):
    async def slow_search():
        await asyncio.sleep(0.03)
        return True

    health = GracefulDegradationManager(slow_after_seconds=0.01)
    health.register_service("search", slow_search)

    async def scenario():
        async with chat_server(ChatServices(secret, health=health)) as url:
            ws, ready = await authenticated_session(url, make_token("carol"))
            async with ws:
                await ws.send(dumps({"type": "message", "id": "m2", "text": "still there?"}))
                events = await agent_run(ws)
        return ready, events

    ready, events = run(scenario())
    assert ready["services"] == "degraded"
    assert events[-1]["type"] == "agent_completed"
