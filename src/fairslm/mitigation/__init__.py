"""fairslm.mitigation."""
