"""Running an audit: the runner (one probe loop for every model kind, the fingerprint computed
once), result assembly, progress, checkpoints, the time estimate, and the two records of this
machine an audit reads (its latest validation, its speed calibration). Nothing here imports
tools/: the tools call run_audit, never the reverse."""
