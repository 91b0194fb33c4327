import asyncio
import time

from chat_backend.websocket_core.graceful_degradation_manager import (
    GracefulDegradationManager,
    ServiceStatus,
)


async def answers_at_once():
    return True


async def answers_slowly():
    await asyncio.sleep(0.05)
    return True


async def never_answers():
    await asyncio.sleep(10)
    return True


async def says_unusable():
    return False


async def raises():
    raise ConnectionRefusedError("session store down")


def test_fast_check_is_healthy_with_measured_response_time(run):
    manager = GracefulDegradationManager(slow_after_seconds=0.5)
    manager.register_service("session_store", answers_at_once)
    before = time.time()
    report = run(manager.check_service("session_store"))
    assert report.status is ServiceStatus.HEALTHY
    assert 0.0 <= report.response_time_ms < 500.0
    assert before <= report.checked_at <= time.time()
    assert report.error is None


def test_check_slower_than_its_budget_is_degraded(run):
    manager = GracefulDegradationManager(slow_after_seconds=0.01)
    manager.register_service("llm", answers_slowly)
    report = run(manager.check_service("llm"))
    assert report.status is ServiceStatus.DEGRADED
    assert report.response_time_ms >= 50.0
    assert manager.overall_status() is ServiceStatus.DEGRADED


def test_check_that_times_out_is_unavailable(run):
    manager = GracefulDegradationManager(timeout_seconds=0.02)
    manager.register_service("llm", never_answers, critical=True)
    report = run(manager.check_service("llm"))
    assert report.status is ServiceStatus.UNAVAILABLE
    assert "no answer within" in report.error
    assert report.response_time_ms >= 20.0
    assert manager.overall_status() is ServiceStatus.UNAVAILABLE


def test_failing_or_negative_checks_are_unavailable(run):
    manager = GracefulDegradationManager()
    manager.register_service("search", raises)
    manager.register_service("cache", says_unusable)
    reports = run(manager.check_all())
    assert {name: r.status for name, r in reports.items()} == {
        "search": ServiceStatus.UNAVAILABLE,
        "cache": ServiceStatus.UNAVAILABLE,
    }
    assert "ConnectionRefusedError" in reports["search"].error
    # neither is critical: the chat keeps working, degraded
    assert manager.overall_status() is ServiceStatus.DEGRADED


def test_fresh_reports_are_reused(run):
    calls = []

    async def counted():
        calls.append(1)
        return True

    manager = GracefulDegradationManager(max_age_seconds=60.0)
    manager.register_service("session_store", counted)
    run(manager.check_all())
    run(manager.check_all())
    assert len(calls) == 1
    assert manager.report("session_store").status is ServiceStatus.HEALTHY
    assert manager.overall_status() is ServiceStatus.HEALTHY
