import Foundation

/// Load through a balancer on 127.0.0.1:`port` until `stop()`: `clients` threads each
/// sending small GETs on one kept connection (a new one only when the server side
/// closes it after announcing so), and `downloaders` threads each downloading a large
/// file with curl again and again, hashed as it streams. Every small response must be
/// 200 with the expected body; every download must exit 0 with the expected sha256.
/// The servers pace the downloads (limit_rate), so that a download lasts while the
/// server sends it, not only while socket buffers drain.
final class BalancerLoad: @unchecked Sendable {
    /// One large download: curl's local port (chosen for it, so that haproxy's
    /// sessions and log tell which server answered it), its span, and what was wrong
    /// with it, if anything.
    struct Download {
        var clientPort: Int
        var start: Date
        var end: Date
        var problem: String?
    }

    private let port: Int
    private let small: (path: String, body: [UInt8])
    private let large: (path: String, sha256: String)
    private let lock = NSLock()
    private let finished = DispatchGroup()
    private var running = true
    private var requests = 0
    private var connections = 0
    private var failures: [String] = []
    private var downloads: [Download] = []
    /// Downloads not finished yet: client port → start.
    private var underWay: [Int: Date] = [:]

    init(port: Int, small: (path: String, body: [UInt8]), large: (path: String, sha256: String), clients: Int,
         downloaders: Int) {
        self.port = port
        self.small = small
        self.large = large
        for _ in 0..<clients { start(sendSmallRequests) }
        for _ in 0..<downloaders { start(downloadRepeatedly) }
    }

    /// What the load amounted to.
    struct Summary {
        var requests: Int
        var connections: Int
        var failures: [String]
        var downloads: [Download]
    }

    /// Lets every thread finish what it is doing (a download runs to its end) and
    /// returns the tally; a second call only returns it.
    func stop(timeout: Double = 60) -> Summary {
        lock.withLock { running = false }
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            record(failure: "load threads still running \(Int(timeout)) s after the stop")
        }
        return lock.withLock { Summary(requests: requests, connections: connections, failures: failures,
                                       downloads: downloads) }
    }

    /// The client ports of the downloads under way that began `age` ago (a range of seconds).
    func downloadsUnderWay(begun age: ClosedRange<Double>) -> Set<Int> {
        let now = Date()
        return lock.withLock { Set(underWay.filter { age.contains(now.timeIntervalSince($0.value)) }.keys) }
    }

    private var isRunning: Bool { lock.withLock { running } }

    private func start(_ body: @escaping () -> Void) {
        finished.enter()
        Thread.detachNewThread { [self] in
            body()
            finished.leave()
        }
    }

    private func record(failure: String) {
        lock.withLock { failures.append(failure) }
    }

    private func sendSmallRequests() {
        var connection: KeptConnection?
        while isRunning {
            do {
                if connection == nil {
                    connection = try KeptConnection(port: port)
                    lock.withLock { connections += 1 }
                }
                let response = try connection!.get(small.path)
                if response.status == 200 && response.body == small.body {
                    lock.withLock { requests += 1 }
                } else {
                    record(failure: "GET \(small.path): \(response.statusLine), \(response.body.count) body bytes")
                }
                if response.field("Connection")?.lowercased() == "close" { connection = nil }
            } catch {
                record(failure: "GET \(small.path): \(error)")
                connection = nil
            }
            // A pause between requests: load, not a benchmark.
            usleep(2_000)
        }
    }

    /// A free port for a download's own end, below the ephemeral range (where only
    /// this suite picks ports) and not another download's, noted as under way.
    private func claimClientPort(from start: Date) -> Int? {
        lock.withLock {
            for _ in 0..<10 {
                guard let port = try? freeLoopbackPortBelowEphemeralRange() else { return nil }
                if underWay[port] == nil {
                    underWay[port] = start
                    return port
                }
            }
            return nil
        }
    }

    private func downloadRepeatedly() {
        let url = "http://127.0.0.1:\(port)\(large.path)"
        let script = "set -o pipefail; curl -sS --fail --local-port \"$1\" \"$2\" | sha256sum"
        while isRunning {
            let start = Date()
            guard let clientPort = claimClientPort(from: start) else {
                record(failure: "no free port for a download")
                usleep(100_000)
                continue
            }
            var download = Download(clientPort: clientPort, start: start, end: start, problem: nil)
            do {
                let result = try run("bash", ["-c", script, "bash", String(clientPort), url], timeout: 60)
                let hash = result.text.prefix { !$0.isWhitespace }
                if result.status != 0 {
                    download.problem = "curl exited with \(result.status): \(result.stderr)"
                } else if hash != large.sha256 {
                    download.problem = "sha256 \(hash), expected \(large.sha256)"
                }
            } catch {
                download.problem = "\(error)"
            }
            download.end = Date()
            lock.withLock {
                underWay[clientPort] = nil
                downloads.append(download)
            }
        }
    }
}
