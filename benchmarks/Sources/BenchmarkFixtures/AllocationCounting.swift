import Benchmark

public extension Benchmark.Configuration {
    /// What every Ferry micro-benchmark measures: throughput and time to read, and the
    /// heap allocations `scripts/bench-micro` checks (none allowed unless a benchmark
    /// says otherwise), one second each. `scalingFactor` `.kilo` runs a thousand
    /// operations per iteration, for pieces that take well under a microsecond.
    static func countingAllocations(scalingFactor: BenchmarkScalingFactor = .kilo) -> Self {
        .init(metrics: [.throughput, .wallClock, .mallocCountTotal], scalingFactor: scalingFactor,
              maxDuration: .seconds(1), thresholds: AllocationThresholds.exact)
    }
}
