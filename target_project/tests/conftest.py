"""Shared fixtures.

Every test that does asyncio work runs it with ``run``, which wraps the coroutine in an overall timeout so a
hang fails the test instead of the suite. chat_backend is imported inside the fixtures, so an import error
in the package fails the tests that need it rather than the loading of this file.
"""
import asyncio
import contextlib

import pytest

SECRET = "test-signing-secret"


def pytest_addoption(parser):
    parser.addoption(
        "--run-incident",
        action="store_true",
        help="also run the incident tests (tests/incident/), which are deselected by default",
    )


def pytest_configure(config):
    if config.getoption("--run-incident"):
        config.option.markexpr = ""  # lift addopts' `-m 'not incident'`


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
def make_token():
    from chat_backend.websocket_core.unified_websocket_auth import issue_token

    def _make_token(user_id: str = "alice", ttl_seconds: float = 3600.0) -> str:
        return issue_token(user_id, SECRET, ttl_seconds)

    return _make_token


@pytest.fixture
def run():
    def _run(coro, timeout: float = 3.0):
        return asyncio.run(asyncio.wait_for(coro, timeout))

    return _run


@pytest.fixture
def chat_server():
    """``async with chat_server(services) as url`` serves the chat endpoint on a free loopback port."""
    from chat_backend.routes.websocket import start_server

    @contextlib.asynccontextmanager
    async def _chat_server(services):
        server = await start_server(services, "127.0.0.1", 0)
        try:
            port = server.sockets[0].getsockname()[1]
            yield f"ws://127.0.0.1:{port}"
        finally:
            server.close()
            await asyncio.wait_for(server.wait_closed(), 2.0)

    return _chat_server


@pytest.fixture(autouse=True)
def _empty_connection_registry():
    yield
    from chat_backend.websocket_core.connection_state_machine import (
        active_connection_ids,
        remove_connection_state_machine,
    )

    for connection_id in active_connection_ids():
        remove_connection_state_machine(connection_id)
