import FerryKit

/// What one client child did. The child sends it to the parent over a pipe when it
/// is done, as native 64-bit words: a header, then one latency sample per success.
struct ChildReport: Equatable {
    var connections = 0
    var bytes: Int64 = 0
    /// Failures by cause, indexed by `ExchangeFailure.rawValue`.
    var failuresByCause = [Int](repeating: 0, count: ExchangeFailure.allCases.count)
    /// Nanoseconds from connect to the last byte, for each successful connection.
    var latencies: [UInt64] = []

    var failures: Int { failuresByCause.reduce(0, +) }

    mutating func record(_ outcome: ExchangeOutcome, nanoseconds: UInt64) {
        connections += 1
        bytes += Int64(outcome.bytes)
        if let failure = outcome.failure {
            failuresByCause[failure.rawValue] += 1
        } else {
            latencies.append(nanoseconds)
        }
    }

    /// Header words: connections, bytes, latency count, then one count per cause.
    private static var headerWords: Int { 3 + ExchangeFailure.allCases.count }

    func encoded() -> [UInt8] {
        var words: [UInt64] = [UInt64(connections), UInt64(bitPattern: bytes), UInt64(latencies.count)]
        words += failuresByCause.map { UInt64($0) }
        words += latencies
        return words.withUnsafeBytes { Array($0) }
    }

    /// The report in `bytes`, or nil when they are not one whole report (the child
    /// died while writing it).
    static func decode(_ bytes: [UInt8]) -> ChildReport? {
        let wordSize = MemoryLayout<UInt64>.size
        guard bytes.count % wordSize == 0, bytes.count >= headerWords * wordSize else { return nil }
        let words = bytes.withUnsafeBytes { raw in
            (0..<(raw.count / wordSize)).map { raw.loadUnaligned(fromByteOffset: $0 * wordSize, as: UInt64.self) }
        }
        let latencyCount = Int(clamping: words[2])
        guard words.count == headerWords + latencyCount else { return nil }
        var report = ChildReport()
        report.connections = Int(clamping: words[0])
        report.bytes = Int64(bitPattern: words[1])
        report.failuresByCause = words[3..<headerWords].map { Int(clamping: $0) }
        report.latencies = Array(words[headerWords...])
        guard report.failures + latencyCount == report.connections else { return nil }
        return report
    }
}
