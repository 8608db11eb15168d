"""Long page actions (a backtest, a monitoring run) in a background thread, polled by HTMX.

One worker thread per process runs one job at a time, so a few people pressing "run" cannot
take every core of the server; the page shows the job as queued or running and asks again
every second until its result is there. Jobs live in memory (the last ``KEEP`` of them): a
restart forgets them, and the person runs the backtest again. A job's result is what the
service returned; a service error is kept as the error to show, anything else is logged.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from puhui.domain.errors import NotFound, PuhuiError

logger = logging.getLogger(__name__)

KEEP = 50


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass
class Job:
    id: str
    kind: str
    subject: str
    """What it runs on (``name@version``, a model version)."""
    owner: str
    """The audit name of who started it."""
    params: dict[str, str]
    state: JobState = JobState.QUEUED
    result: Any = None
    error: PuhuiError | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)


class JobBoard:
    """The jobs of one process: start one, read one."""

    def __init__(self, workers: int = 1) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="page-job")

    def start(
        self,
        kind: str,
        subject: str,
        owner: str,
        params: dict[str, str],
        work: Callable[[], Any],
    ) -> Job:
        job = Job(secrets.token_urlsafe(12), kind, subject, owner, params)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[], Any]) -> None:
        job.state = JobState.RUNNING
        try:
            job.result = work()
            job.state = JobState.DONE
        except PuhuiError as exc:
            job.error = exc
            job.state = JobState.FAILED
        except Exception:  # a page job must end, and say it failed; the log has the cause
            logger.exception("%s of %s failed", job.kind, job.subject)
            job.error = PuhuiError("the job failed: see the server log")
            job.state = JobState.FAILED
        finally:
            job.done.set()

    def get(self, job_id: str, kind: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.kind != kind:
            raise NotFound("no such job: it may have been forgotten after a restart")
        return job

    def latest(self, kind: str, subject: str) -> Job | None:
        """The most recent job of ``kind`` on ``subject`` (None when there is none)."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.kind == kind and j.subject == subject]
        return jobs[-1] if jobs else None
