"""fairslm.reporting."""
