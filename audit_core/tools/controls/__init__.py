"""Synthetic EHR cohorts and small control models that memorize (or not) on purpose."""
