import Benchmark

/// How far a benchmark's allocation count may stray from its p90 threshold in
/// Thresholds/ before `benchmark thresholds check` fails (more) or reports it better
/// (fewer). Throughput and time have no static threshold: they depend on the machine.
public enum AllocationThresholds {
    /// Exactly the count: for code that must not allocate (a threshold of 0).
    public static let exact: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(absolute: [.p90: 0]),
    ]

    /// Less than one allocation per operation (1000 per `.kilo` iteration) either way:
    /// for code that allocates a known number of times per request. HdrHistogram gives
    /// 4000 allocations as 4001, so an exact count of thousands would flap.
    public static let wholeAllocationsPerOperation: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(absolute: [.p90: 999]),
    ]
}
