"""The Run step's estimate line: asked in the background whenever the setup changes, and
only the latest answer shown (one asked for a setup changed since may still answer).

The estimate reads the files as the run does, so an input problem (a feature column with
text in it, a label the model does not know) is said before Start; so is a cluster the
plan names that cannot be used (Ray missing, an address that does not answer).
"""

from __future__ import annotations

from audit_core.errors import MnemoscopeError


class RunEstimates:
    def __init__(self, controller, page) -> None:
        self.controller = controller
        self.page = page
        self._asked = 0  # estimates asked for; only the latest one's answer is shown

    def not_ready(self, problem: Exception) -> None:
        self._asked += 1  # an answer still on its way is for a setup that no longer holds
        self.page.set_estimate(None, f"Not ready to run: {problem}")

    def refresh(self, plan) -> None:
        from audit_core.run.estimate import describe_memory

        self._asked += 1
        ticket = self._asked

        def show(seconds: float | None, note: str = "", phases: tuple = (), memory: str = "") -> None:
            if ticket == self._asked:
                self.page.set_estimate(seconds, note, phases, memory=memory)

        self.controller.submit_with_progress(
            "estimate", lambda report, cancel: estimate_for(plan, cancel),
            lambda estimate: show(estimate.seconds, phases=estimate.phases, memory=(
                describe_memory(estimate.memory) if estimate.memory else "")),
            lambda exc, details: show(None, f"Not ready to run: {exc}" if isinstance(
                exc, MnemoscopeError) else "The time could not be estimated; Start shows what is wrong."))


def estimate_for(plan, cancel):
    """The estimate, after checking that a cluster the plan names can be used (Ray there,
    the address answering, without joining it)."""
    if plan.run.distributed:
        from audit_core.cluster.connection import check_cluster

        check_cluster(plan.run.cluster)
    from audit_core.run.estimate import estimate_run

    return estimate_run(plan, cancel=cancel)
