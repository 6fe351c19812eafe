"""Clinical building blocks shared by the EHR memorization probes (Tonekaboni et al.,
NeurIPS 2025, tests T1-T6): sensitive code sets, the layout of a code record (start
token, demographics, visits and time gaps, attacker-knowledge tiers), per-code distances
from the model's own input embeddings, and the time-aware earth mover's distance.

Nothing here runs the model: probes pass token ids in and get numbers out, so the same
pieces serve trajectory reconstruction (T1), sensitive attributes (T2) and the probes
built on them (T3, T5, T6).
"""
