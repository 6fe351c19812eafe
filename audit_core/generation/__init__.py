"""Generation for the audit's probes: requests with their own seeds (requests.py) and the
one schedule that decodes every probe's requests together (schedule.py)."""

from audit_core.generation.requests import Generated, Request, Watch, seed_of
from audit_core.generation.schedule import GenerationSchedule

__all__ = ["Generated", "GenerationSchedule", "Request", "Watch", "seed_of"]
