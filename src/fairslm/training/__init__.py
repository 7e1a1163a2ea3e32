"""fairslm.training."""
