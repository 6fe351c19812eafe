"""One module per model kind (causal language model, tabular classifier, encoder): how each
reads its model and cohorts and prepares its shared pass for the runner."""
