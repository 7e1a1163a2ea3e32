"""fairslm.governance."""
