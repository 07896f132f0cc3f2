"""Percentiles of latency samples, the one definition every bench script reports."""

import math


def percentile(sorted_values, fraction):
    """The nearest-rank percentile: the smallest value at or above FRACTION of them."""
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]
