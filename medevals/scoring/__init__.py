"""Answer extraction, statistics with confidence intervals, and metric aggregation."""
