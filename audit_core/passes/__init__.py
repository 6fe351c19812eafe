"""The shared expensive passes, computed once per model and cohort and read by every probe
that needs them: token scores, the encoder pass, tabular class probabilities."""
