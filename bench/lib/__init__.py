"""Modules of bench/compare: tools and builds, data, processes, servers, workloads, report."""
