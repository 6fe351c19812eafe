"""The validation tests read the session's `validate` run (tests/conftest.py
`validation_run`, defined in tests/validation_run.py): the desktop and MEDS tests read it
too, so the known-answer audits run once per session."""
