"""Units of work, the pipeline's lowest service: progress and cancel (progress.py), the
checkpoint that keeps finished units (checkpoints.py) and `resumable`, which computes a
unit or reads it back (units.py).

Every layer above uses them: the models report progress, the shared passes and the probe
loop keep their units in the checkpoint. So this package imports nothing of the pipeline
but audit_core.errors; what a unit holds is encoded where its type lives (token scores in
passes/token_scores.py, a probe's outcome in results/result.py) and passed in.
"""
