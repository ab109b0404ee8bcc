"""Everything that reads many runs: comparisons, trade-off frontiers, the reproduction report."""
