import Benchmark
import BenchmarkFixtures
@_spi(Benchmarks) import FerryKit

// The static file responder answering a parsed request for a file in the open-file
// cache: target normalized, cache looked up, coding negotiated, preconditions and
// Range evaluated, the whole head written into the reused output buffer, the plan
// returned. None of them allocates; several ranges (a multipart answer) would.
let benchmarks = {
    Benchmark.defaultConfiguration = .countingAllocations()

    respond("200-browser-head", status: 200) { _ in SampleHeads.browser() }
    respond("200-wrk-head", status: 200) { _ in SampleHeads.wrk }
    respond("200-ab-head", status: 200, headContaining: "Connection: keep-alive") { _ in SampleHeads.ab }
    respond("304-if-none-match", status: 304) { responder in
        SampleHeads.browser(fields: "If-None-Match: \(responder.etags["/site.css"]!)\r\n")
    }
    respond("206-range", status: 206) { _ in
        SampleHeads.curl(fields: "Range: bytes=0-99\r\n")
    }
    respond("200-gzip-sidecar", status: 200, headContaining: "Content-Encoding: gzip") { _ in
        SampleHeads.browser(target: "/app.js")
    }
}

/// The site every responder benchmark serves: a 1 KiB stylesheet, and a 1 KiB script
/// with a gzip sidecar (any bytes: Ferry sends sidecars as they are).
let files = [(name: "site.css", size: 1024), ("app.js", 1024), ("app.js.gz", 400)]

/// Answers the request `head` makes a thousand times per iteration, after checking
/// once that it gets `status` (and a head containing `headContaining`).
func respond(_ name: String, status: Int, headContaining: String? = nil,
             thresholds: [BenchmarkMetric: BenchmarkThresholds] = AllocationThresholds.exact,
             head: @escaping (WarmResponder) -> [UInt8]) {
    var configuration = Benchmark.defaultConfiguration
    configuration.thresholds = thresholds
    var responder: WarmResponder?
    var request: HeldRequest?
    Benchmark(name, configuration: configuration) { benchmark in
        guard let responder, let request else { return }
        for _ in benchmark.scaledIterations {
            blackHole(responder.answer(request))
        }
    } setup: {
        let warm = try WarmResponder(files: files)
        let held = try HeldRequest(head(warm))
        let written = try warm.answerOnce(held, status: status)
        if let headContaining, !written.contains(headContaining) {
            throw FixtureError("\(name): no \(headContaining) in \(written)")
        }
        (responder, request) = (warm, held)
    } teardown: {
        responder?.remove()
        (responder, request) = (nil, nil)
    }
}
