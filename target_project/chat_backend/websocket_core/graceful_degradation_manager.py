"""Health checks for the services a chat connection depends on, and the degradation they imply.

Each service registers an async check returning True when the service is usable. A check is timed: one
that answers within ``slow_after_seconds`` is HEALTHY, a slower one DEGRADED, one that fails, says False or
gives no answer within ``timeout_seconds`` UNAVAILABLE. Reports younger than ``max_age_seconds`` are reused
instead of checking again.
"""
import asyncio
import logging
import os
import time
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger(__name__)


class ServiceStatus(Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class HealthReport:
    service: str
    status: ServiceStatus
    response_time_ms: float
    checked_at: float
    critical: bool
    error: str | None = None


class GracefulDegradationManager:
    def __init__(
        self,
        *,
        timeout_seconds: float = 2.0,
        slow_after_seconds: float = 0.5,
        max_age_seconds: float = 0.0,
    ) -> None:
        self._timeout_seconds = timeout_seconds
        self._slow_after_seconds = slow_after_seconds
        self._max_age_seconds = max_age_seconds
        self._checks: dict[str, tuple[object, bool]] = {}
        self._reports: dict[str, HealthReport] = {}

    def register_service(self, name: str, check, *, critical: bool = False) -> None:
        """Register ``check``, an async callable returning True when ``name`` is usable."""
        self._checks[name] = (check, critical)
        self._reports.pop(name, None)

    async def check_service(self, name: str) -> HealthReport:
        check, critical = self._checks[name]
        error = None
        started = time.perf_counter()
        try:
            usable = await asyncio.wait_for(check(), timeout=self._timeout_seconds)
        except asyncio.TimeoutError:
            status, error = ServiceStatus.UNAVAILABLE, f"no answer within {self._timeout_seconds}s"
        except Exception as exc:
            status, error = ServiceStatus.UNAVAILABLE, f"{type(exc).__name__}: {exc}"
        else:
            elapsed = time.perf_counter() - started
            if not usable:
                status, error = ServiceStatus.UNAVAILABLE, "check reported the service unusable"
            elif elapsed > self._slow_after_seconds:
                status, error = ServiceStatus.DEGRADED, f"slow answer ({elapsed * 1000:.0f} ms)"
            else:
                status = ServiceStatus.HEALTHY
        response_time_ms = (time.perf_counter() - started) * 1000.0
        report = HealthReport(name, status, response_time_ms, time.time(), critical, error)
        if status is not ServiceStatus.HEALTHY:
            logger.warning("Service %s is %s: %s", name, status.value, error)
        self._reports[name] = report
        return report

    def _is_stale(self, name: str) -> bool:
        report = self._reports.get(name)
        return report is None or time.time() - report.checked_at >= self._max_age_seconds

    async def check_all(self) -> dict[str, HealthReport]:
        """Re-check every service whose report is stale; return the latest report of each."""
        stale = [name for name in self._checks if self._is_stale(name)]
        await asyncio.gather(*(self.check_service(name) for name in stale))
        return dict(self._reports)

    def report(self, name: str) -> HealthReport | None:
        return self._reports.get(name)

    def overall_status(self) -> ServiceStatus:
        """UNAVAILABLE if a critical service is, DEGRADED if any service is not HEALTHY, else HEALTHY."""
        reports = list(self._reports.values())
        if any(r.critical and r.status is ServiceStatus.UNAVAILABLE for r in reports):
            return ServiceStatus.UNAVAILABLE
        if any(r.status is not ServiceStatus.HEALTHY for r in reports):
            return ServiceStatus.DEGRADED
        return ServiceStatus.HEALTHY
