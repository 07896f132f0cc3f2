/// What a child process tells its parent about connections it has closed: how many,
/// and their `SessionSummary`s added up. The one record of every forking model: a fork
/// child sends one when its connection ends, a prefork-pass worker one per connection,
/// a prefork-pass-epoll worker one per loop iteration that closed any, followed by the
/// closed connections' addresses (`ClosedConnections`); prefork-accept children keep
/// theirs in shared memory. Fixed-width fields only: it crosses a channel as raw bytes.
struct ConnectionReport: Equatable {
    var connections: Int64 = 0
    var requests: Int64 = 0
    var bytesViaSendfile: Int64 = 0
    var bytesViaCopy: Int64 = 0
    var bytesFromMemory: Int64 = 0

    var isEmpty: Bool { connections == 0 }

    /// Counts one closed connection.
    mutating func add(_ summary: SessionSummary) {
        connections += 1
        requests += Int64(summary.requests)
        bytesViaSendfile += summary.bytesViaSendfile
        bytesViaCopy += summary.bytesViaCopy
        bytesFromMemory += summary.bytesFromMemory
    }
}

extension WorkerTally {
    mutating func add(_ report: ConnectionReport) {
        connections += Int(report.connections)
        requests += Int(report.requests)
        bytesViaSendfile += report.bytesViaSendfile
        bytesViaCopy += report.bytesViaCopy
        bytesFromMemory += report.bytesFromMemory
    }
}
