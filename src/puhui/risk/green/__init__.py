"""Green finance pre-screening: the versioned green industry catalogue and the label rules."""
