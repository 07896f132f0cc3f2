import FerryKit
import Glibc

/// The results as markdown tables, one per workload, laid out like UNP's Fig. 30.1:
/// server CPU time, the same minus the iterative baseline, the book's number, the
/// rate, and how evenly the workers shared the connections.
public enum DesignTable {
    public static func render(_ results: [DesignBench.Result], options: DesignBench.Options) -> String {
        var text = ""
        for workload in DesignBench.Workload.allCases {
            let rows = results.filter { $0.workload == workload }
            guard !rows.isEmpty else { continue }
            let baseline = rows.first { $0.variant.model == "iterative" }?.serverCPUSeconds
            let what = workload == .echo
                ? "echo protocol, \(options.bytes) bytes per connection"
                : "HTTP/1.0 GET of a \(options.bytes)-byte file"
            text += "\n### \(what): \(options.clients) clients × \(options.connectionsPerClient) connections, "
                + "pools of \(options.children)\n\n"
            text += "| design | server CPU s | minus iterative | UNP Fig. 30.1 | connections/s | failures "
                + "| per worker min / max / stddev |\n"
            text += "|---|---:|---:|---:|---:|---:|---|\n"
            for row in rows {
                let overhead = baseline.map { format(row.serverCPUSeconds - $0, digits: 3) } ?? "–"
                let book = row.variant.book.map { format($0, digits: 2) } ?? "–"
                text += "| \(row.variant.title) | \(format(row.serverCPUSeconds, digits: 3)) | \(overhead) | \(book) "
                    + "| \(format(row.connectionsPerSecond, digits: 0)) | \(row.failures) | \(spread(row.distribution)) |\n"
            }
        }
        return text
    }

    /// One measured row as a progress line: "echo epoll: 0.412 s CPU, 9123 connections/s, 0 failures".
    public static func progressLine(_ result: DesignBench.Result) -> String {
        "\(result.workload.rawValue) \(result.variant.title): \(format(result.serverCPUSeconds, digits: 3)) s CPU, "
            + "\(format(result.connectionsPerSecond, digits: 0)) connections/s, \(result.failures) failures"
    }

    /// "97 / 112 / 4.1" for several workers; "–" for one (nothing to share).
    static func spread(_ counts: [Int]) -> String {
        guard counts.count > 1, let low = counts.min(), let high = counts.max() else { return "–" }
        let mean = Double(counts.reduce(0, +)) / Double(counts.count)
        let variance = counts.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(counts.count)
        return "\(low) / \(high) / \(format(variance.squareRoot(), digits: 1))"
    }

    static func format(_ value: Double, digits: Int) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, "%.\(digits)f", $0) }
        return String(cString: buffer)
    }
}
