"""How long is left while an audit runs: the estimate made before Start, refined by what
the run has taken so far (the desktop's Run step shows it; the estimate bench measures
phases with the same attribution).

The estimate (run/estimate.py) gives each phase of the run a prior time, named as the
run's progress messages name them ("shared scoring pass: ...", "trajectory: ...").
Progress fractions are weights, not time (a probe's slice is its declared weight), so
the time left is not elapsed x (1 - f) / f: it is the phases still to come at their
prior time, times how much slower or faster than its estimate this run has been so
far. That speed ratio starts at 1 and moves to the measured one as phases finish (a
pseudo-count of PRIOR_WEIGHT of the estimate keeps one quick phase from swinging it),
and the current phase counts as at least as long as it has already taken. Without a
per-phase estimate it falls back to the fraction done.
"""

from __future__ import annotations

from collections.abc import Sequence

SETUP = "setup"  # a message no phase claims (reading the model, the split check) is setup
# The share of the whole estimate the prior counts as, in seconds already measured:
# until phases worth this much have finished, the estimate's own speed weighs as much.
PRIOR_WEIGHT = 0.2


def phase_of(message: str, phases: Sequence[str]) -> str:
    """The phase a progress message belongs to ("trajectory: sampling ..." -> trajectory)."""
    head = message.split(":")[0].strip()
    return head if head in phases else SETUP


class RemainingTime:
    """Feed it (elapsed seconds, fraction done, message) as progress arrives; `seconds()`
    is the time left, or None while there is nothing to say."""

    def __init__(self, prior: Sequence[tuple[str, float]] = (), total: float | None = None) -> None:
        self.prior = dict(prior)
        self.order = [name for name, _ in prior]
        self.total = total if total is not None else sum(self.prior.values())
        self.taken: dict[str, float] = {}  # finished phases -> seconds they took
        self.current = self.order[0] if self.order else SETUP
        self.current_started = 0.0
        self.elapsed = 0.0
        self.fraction = 0.0

    def update(self, elapsed: float, fraction: float, message: str = "") -> None:
        self.elapsed, self.fraction = elapsed, max(self.fraction, fraction)
        if not self.prior or not message:
            return
        phase = phase_of(message, self.order)
        # A message that names no later phase ("done", a loading step) changes nothing.
        if phase not in self.order or self.current not in self.order:
            return
        if self.order.index(phase) > self.order.index(self.current):
            # Phases between the last one seen and this one (a probe with no message) took 0.
            for name in self.order[self.order.index(self.current):self.order.index(phase)]:
                self.taken.setdefault(name, 0.0)
            self.taken[self.current] = elapsed - self.current_started
            self.current, self.current_started = phase, elapsed

    def speed(self) -> float:
        """Measured time over estimated time of the finished phases, blended with 1."""
        weight = PRIOR_WEIGHT * self.total
        done_prior = sum(self.prior[name] for name in self.taken)
        return (sum(self.taken.values()) + weight) / max(done_prior + weight, 1e-9)

    def seconds(self, elapsed: float | None = None) -> float | None:
        elapsed = self.elapsed if elapsed is None else elapsed
        if self.fraction >= 1.0:
            return 0.0
        if not self.prior:
            if self.fraction < 0.03 or elapsed < 1.0:
                return None
            return elapsed * (1 - self.fraction) / self.fraction
        speed = self.speed()
        in_phase = elapsed - self.current_started
        current = max(0.0, speed * self.prior.get(self.current, 0.0) - in_phase)
        after = self.order[self.order.index(self.current) + 1:] if self.current in self.order else []
        return current + speed * sum(self.prior[name] for name in after)


def describe_remaining(seconds: float | None) -> str:
    """ "About 40 s left", rounded as a person would say it; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 10:
        return "A few seconds left"
    if round(seconds / 5) * 5 < 60:
        return f"About {int(round(seconds / 5) * 5)} s left"
    if seconds < 3600:
        return f"About {max(1, round(seconds / 60))} min left"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"About {hours} h {minutes:02d} min left"
