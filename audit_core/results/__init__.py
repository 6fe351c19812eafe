"""What an audit found: the frozen result, verdicts, how figures are written, the output files."""
