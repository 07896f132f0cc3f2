import Benchmark
import BenchmarkFixtures
@_spi(Benchmarks) import FerryKit
import Glibc

// Access log lines built by a worker's writer: the client address as text, the time
// (formatted once a second), the escaped request line, status, size, referer and user
// agent, appended to the writer's reused buffer. An event loop iteration's lines
// leave in one write when the iteration ends; that write (to /dev/null here) is not
// measured, only the building. Nothing here may allocate.
let benchmarks = {
    Benchmark.defaultConfiguration = .countingAllocations(scalingFactor: .one)

    var handler: HTTPFileHandler?
    let requestLine = Array("GET /site.css HTTP/1.1".utf8)
    let referer = Array(SampleHeads.referer.utf8)
    let userAgent = Array(SampleHeads.firefoxUserAgent.utf8)
    let peer = PeerAddress(documentationAddress())

    // 16 lines of 179 bytes (2,864) stay below the 4 KiB a batch for a pipe may hold,
    // so none is written while measuring.
    Benchmark("16-lines-browser-request") { benchmark in
        guard let handler else { return }
        requestLine.withUnsafeBytes { line in
            referer.withUnsafeBytes { referer in
                userAgent.withUnsafeBytes { agent in
                    let fields = AccessLogFields(requestLine: line, status: 200, bytes: 1024, referer: referer,
                                                 userAgent: agent)
                    for _ in 0..<16 { handler.context.accessLog.record(peer: peer, fields) }
                }
            }
        }
        benchmark.stopMeasurement()
        handler.loopIterationEnded()
    } setup: {
        // It serves nothing: its document root is never read.
        handler = try makeWorkerHandler(root: "/", accessLog: .file("/dev/null"))
    } teardown: {
        handler = nil
    }
}

/// 203.0.113.7 (TEST-NET-3), port 51234.
func documentationAddress() -> SocketAddress {
    var address = SocketAddress()
    var ipv4 = sockaddr_in()
    ipv4.sin_family = sa_family_t(AF_INET)
    ipv4.sin_port = in_port_t(51234).bigEndian
    inet_pton(AF_INET, "203.0.113.7", &ipv4.sin_addr)
    withUnsafeMutableBytes(of: &address.storage) { $0.storeBytes(of: ipv4, as: sockaddr_in.self) }
    address.length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return address
}
