"""BackgroundTask: one call on a thread; success, failure and cancel reach the GUI thread."""

from __future__ import annotations

import threading
import time

from audit_core.work.progress import CancelToken, Progress
from desktop.background_task import BackgroundTask


def test_success_reports_progress_and_the_result_from_another_thread(qtbot) -> None:
    seen_threads = []

    def work(report, cancel):
        seen_threads.append(threading.get_ident())
        for i in range(5):
            report(i / 4, f"step {i}")
        return 42

    task = BackgroundTask(work, "test")
    progress = []
    task.progressed.connect(lambda f, m: progress.append(f))
    with qtbot.waitSignal(task.succeeded, timeout=5000) as blocker:
        task.start()
    assert blocker.args == [42]
    assert task.wait(5000)
    assert seen_threads[0] != threading.get_ident()
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_a_failure_arrives_as_the_exception_and_its_details(qtbot) -> None:
    def work(report, cancel):
        raise ValueError("bad input")

    task = BackgroundTask(work, "test")
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        task.start()
    error, details = blocker.args
    assert isinstance(error, ValueError) and "ValueError: bad input" in details
    assert task.wait(5000)  # a QThread must not be destroyed while it runs


def test_cancel_is_a_direct_call_that_a_busy_worker_sees_at_its_next_batch(qtbot) -> None:
    def work(report, cancel: CancelToken):
        progress = Progress(report, cancel)
        for i in range(10_000):
            time.sleep(0.005)  # one "batch"
            progress.advance(i / 10_000, "working")
        return "never"

    task = BackgroundTask(work, "test")
    with qtbot.waitSignal(task.progressed, timeout=5000):
        task.start()
    clicked = time.monotonic()
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.cancel()
    assert time.monotonic() - clicked < 1.0
    assert task.wait(5000)
