"""Tools beside the pipeline: control models, benchmarks, conversion, canary making and
self-validation. They call run_audit; the run never imports them."""
