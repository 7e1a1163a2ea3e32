"""fairslm.mitigation.inprocessing."""
