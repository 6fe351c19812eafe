"""HIPAA Safe Harbor identifiers (45 CFR 164.514(b)(2)) in free text: rule-based
detection (`detector`), masking for logs and the report (`masking`), and matching of
detected values back to a cohort's records (`index`)."""
