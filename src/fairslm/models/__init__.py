"""fairslm.models."""
