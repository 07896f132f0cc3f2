import FerryKit
import Histogram

/// The load client's totals over all children, and the summary it prints:
///
///     connections: 2500, failures: 0, bytes: 7500000, wall: 1.234 s, 2026.1 connections/s
///     latency p50 0.412 ms, p99 1.905 ms, max 12.301 ms
///
/// Other code and tests parse these two lines: keep their shape.
public struct LoadReport {
    public var connections = 0
    public var bytes: Int64 = 0
    public var wallNanoseconds: UInt64 = 0
    /// Failures by cause.
    public var failuresByCause: [ExchangeFailure: Int] = [:]
    /// Latency of each successful connection, in nanoseconds (3 significant digits).
    public var latency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: LoadReport.highestLatency,
                                           numberOfSignificantValueDigits: .three)

    /// Latencies above this (about 2.4 hours) are recorded as this.
    public static let highestLatency: UInt64 = 1 << 43

    public init() {}

    public var failures: Int { failuresByCause.values.reduce(0, +) }

    public mutating func recordLatency(nanoseconds: UInt64) {
        latency.record(min(nanoseconds, LoadReport.highestLatency))
    }

    public mutating func recordFailures(_ cause: ExchangeFailure, count: Int) {
        guard count > 0 else { return }
        failuresByCause[cause, default: 0] += count
    }

    /// Connections that never got a chance (their child could not start, or died
    /// without reporting): each is a failure.
    mutating func countAsFailed(connections count: Int) {
        connections += count
        recordFailures(.childLost, count: count)
    }

    mutating func add(_ child: ChildReport) {
        connections += child.connections
        bytes += child.bytes
        for cause in ExchangeFailure.allCases { recordFailures(cause, count: child.failuresByCause[cause.rawValue]) }
        for sample in child.latencies { recordLatency(nanoseconds: sample) }
    }

    /// Latency percentiles in nanoseconds; all 0 when nothing succeeded.
    public var percentiles: (p50: UInt64, p99: UInt64, max: UInt64) {
        guard latency.totalCount > 0 else { return (0, 0, 0) }
        return (latency.valueAtPercentile(50), latency.valueAtPercentile(99), latency.maxRecorded)
    }

    /// The two summary lines.
    public var summary: [String] {
        let (p50, p99, max) = percentiles
        return [
            "connections: \(connections), failures: \(failures), bytes: \(bytes), "
                + "wall: \(LoadReport.decimal(wallNanoseconds, unit: 1_000_000_000, places: 3)) s, "
                + "\(connectionsPerSecond) connections/s",
            "latency p50 \(LoadReport.milliseconds(p50)) ms, p99 \(LoadReport.milliseconds(p99)) ms, "
                + "max \(LoadReport.milliseconds(max)) ms",
        ]
    }

    /// "150 connection refused, 3 short answer", most frequent first; nil without failures.
    public var failureCauses: String? {
        guard failures > 0 else { return nil }
        return failuresByCause.sorted { ($0.value, $1.key.rawValue) > ($1.value, $0.key.rawValue) }
            .map { "\($0.value) \($0.key.description)" }
            .joined(separator: ", ")
    }

    /// Connections per second over the wall time, one decimal place.
    var connectionsPerSecond: String {
        guard wallNanoseconds > 0 else { return "0.0" }
        let tenths = (Double(connections) * 1e10 / Double(wallNanoseconds)).rounded()
        return LoadReport.decimal(UInt64(min(tenths, 1e18)), unit: 10, places: 1)
    }

    /// Nanoseconds as milliseconds with three decimals: 412_345 → "0.412".
    static func milliseconds(_ nanoseconds: UInt64) -> String {
        decimal(nanoseconds, unit: 1_000_000, places: 3)
    }

    /// `value / unit` rounded to `places` decimals (unit a power of ten, at least 10^places),
    /// without Foundation's formatter.
    static func decimal(_ value: UInt64, unit: UInt64, places: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<places { scale *= 10 }
        let step = unit / scale
        let scaled = value / step + (value % step >= (step + 1) / 2 && step > 1 ? 1 : 0)
        let fraction = String(scaled % scale)
        let padding = String(repeating: "0", count: places - fraction.count)
        return "\(scaled / scale).\(padding)\(fraction)"
    }
}
