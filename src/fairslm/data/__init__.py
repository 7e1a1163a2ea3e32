"""fairslm.data."""
