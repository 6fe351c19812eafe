"""Running an audit: the runner (one probe loop for every model kind), progress, checkpoints,
result assembly and the time estimate."""
