"""fairslm.mitigation.postprocessing."""
