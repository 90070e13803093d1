"""Handing rows to the workers: by id, after commit; and the sweep that hands
again what nobody is delivering (a lost publish, a dead worker).

After commit, ids are handed to a relay thread of the process, which publishes
them: a request never waits for the broker, so a slow or hung Redis does not
hold a booking answer, nor the web worker that other requests need. What the
relay could not publish (the broker down, the process gone) stays ``pending`` in
the database and the beat's sweep publishes it again.
"""

import atexit
import logging
import os
import queue
import threading
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.notifications.models import Notification, NotificationStatus
from salon_api.celery import app as celery_app

logger = logging.getLogger(__name__)

SEND_TASK = "notifications.send"
SEND_MANY_TASK = "notifications.send_many"
RELAY_QUEUE_SIZE = 10_000
EXIT_DRAIN_SECONDS = 5.0  # a hung broker must not hold a process's exit for long


class _Relay:
    """One thread per process that publishes what commits hand it, in order."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queue: queue.Queue | None = None
        self._pid: int | None = None

    def submit(self, function, *args) -> None:
        if celery_app.conf.task_always_eager:
            function(*args)  # tasks run here and now (tests): no broker to wait for
            return
        try:
            self._started().put_nowait((function, args))
        except queue.Full:
            logger.warning("Publish queue full: a publish is left to the sweep")

    def _started(self) -> queue.Queue:
        with self._lock:
            if self._queue is None or self._pid != os.getpid():  # a forked worker gets its own thread
                self._queue, self._pid = queue.Queue(maxsize=RELAY_QUEUE_SIZE), os.getpid()
                threading.Thread(target=self._run, args=(self._queue,), name="publish-relay", daemon=True).start()
                # A command (reminders, resend) exits right after its commit: publish first, or the
                # daemon thread dies with the ids and they wait for the sweep.
                atexit.register(self.drain, EXIT_DRAIN_SECONDS)
            return self._queue

    @staticmethod
    def _run(work: queue.Queue) -> None:
        while True:
            function, args = work.get()
            try:
                function(*args)
            except Exception:  # the relay must outlive any one publish; the sweep covers the row
                logger.exception("Publishing failed; the sweep will publish again")
            finally:
                work.task_done()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until what was handed over is published (a command about to exit: its
        daemon thread dies with it). Whether it finished within ``timeout`` seconds."""
        with self._lock:
            work = self._queue if self._pid == os.getpid() else None
        if work is None:
            return True
        done = threading.Event()
        threading.Thread(target=lambda: (work.join(), done.set()), daemon=True).start()
        return done.wait(timeout)


RELAY = _Relay()


def publish_now_rollback_unsafe(notification_id: int, *, countdown: float | None = None) -> bool:
    """Publish ``notifications.send(id)`` at once, whatever transaction is open.

    If the caller's transaction later rolls back, the task is out anyway: call it
    only for rows that are already committed (the sweep, a commit hook). Returns
    whether the broker took it; an unreachable broker is logged, not raised, and
    the row stays ``pending`` for the sweep.
    """
    task = celery_app.tasks[SEND_TASK]  # a missing task is a bug to see, not a broker to wait for
    try:
        task.apply_async((notification_id,), countdown=countdown)
    except Exception as exc:  # kombu and redis raise several types for an unreachable broker
        logger.warning(
            "Could not publish notification %s (the sweep will retry): %s", notification_id, type(exc).__name__
        )
        return False
    return True


def publish_on_commit(notification_id: int, *, countdown: float | None = None) -> None:
    """Publish the row's id once the current transaction commits (never if it rolls
    back), from the relay thread: the caller never waits for the broker."""
    publish = partial(publish_now_rollback_unsafe, notification_id, countdown=countdown)
    transaction.on_commit(partial(RELAY.submit, publish), robust=True)


def publish_many_now_rollback_unsafe(notification_ids: list[int]) -> bool:
    """Publish several committed rows in one message, ``notifications.send_many(ids)``:
    the worker that takes it publishes one ``notifications.send`` for each but the
    first, which it delivers itself. One publish instead of many on the path that
    made the rows (a booking request, a reminder scan). Same danger as above."""
    if len(notification_ids) == 1:
        return publish_now_rollback_unsafe(notification_ids[0])
    task = celery_app.tasks[SEND_MANY_TASK]
    try:
        task.apply_async((list(notification_ids),))
    except Exception as exc:  # kombu and redis raise several types for an unreachable broker
        logger.warning(
            "Could not publish %s notifications (the sweep will retry): %s", len(notification_ids), type(exc).__name__
        )
        return False
    return True


def publish_many_on_commit(notification_ids: list[int]) -> None:
    """Publish these rows' ids, in one message, once the current transaction commits (from the relay thread)."""
    if notification_ids:
        publish = partial(publish_many_now_rollback_unsafe, list(notification_ids))
        transaction.on_commit(partial(RELAY.submit, publish), robust=True)


def notification_sweep(*, older_than_seconds: int | None = None, limit: int = 1000) -> int:
    """Publish again every ``pending`` notification untouched for a while and not
    claimed, e.g. because the broker was down at commit or a worker died.

    Returns how many were published. Running it while nothing is stuck does nothing.
    """
    now = timezone.now()
    age = settings.NOTIFICATION_SWEEP_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    stale = (
        Notification.objects.filter(status=NotificationStatus.PENDING, updated_at__lte=now - timedelta(seconds=age))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(stale)
    for notification_id in ids:
        publish_now_rollback_unsafe(notification_id)  # the rows are committed: nothing to roll back
    if ids:
        logger.info("Sweep published %s pending notification(s) again.", len(ids))
    return len(ids)
