"""fairslm.mitigation.preprocessing."""
