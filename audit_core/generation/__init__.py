"""Generation for the audit's probes: requests with their own seeds (requests.py) and the
one schedule that decodes every probe's requests together (schedule.py), the bound on
the answers it keeps (kept_answers.py), and its finished batches in the run's checkpoint
(saved_batches.py)."""

from audit_core.generation import kept_answers
from audit_core.generation.requests import Generated, Request, Watch, seed_of
from audit_core.generation.schedule import GenerationSchedule

__all__ = ["Generated", "GenerationSchedule", "Request", "Watch", "kept_answers", "seed_of"]
