import Benchmark
import BenchmarkFixtures
import FerryKit

// The request head parser on whole heads, as a session parses a head that arrived in
// one read: a new parser per head, the bytes already in the worker's buffer. A head
// whose kept fields each appear once is parsed into offsets and must allocate
// nothing; a repeated kept field is joined in storage of the head's own.
let benchmarks = {
    Benchmark.defaultConfiguration = .countingAllocations()

    // A Connection field's options are walked in place: a browser's and ab's heads allocate nothing.
    parse("browser-head", SampleHeads.browser())
    parse("ab-head", SampleHeads.ab)
    parse("curl-head", SampleHeads.curl())
    parse("wrk-head", SampleHeads.wrk)
    // Three more: the joined values' object and storage, and a copy of the first value.
    parse("browser-head-accept-encoding-twice", SampleHeads.browser(fields: "Accept-Encoding: identity\r\n"),
          thresholds: AllocationThresholds.wholeAllocationsPerOperation)
}

/// Parses `head` a thousand times per iteration.
func parse(_ name: String, _ head: [UInt8],
           thresholds: [BenchmarkMetric: BenchmarkThresholds] = AllocationThresholds.exact) {
    var configuration = Benchmark.defaultConfiguration
    configuration.thresholds = thresholds
    Benchmark(name, configuration: configuration) { benchmark in
        head.withUnsafeBytes { input in
            for _ in benchmark.scaledIterations {
                var parser = RequestHeadParser()
                blackHole(parser.parse(input))
            }
        }
    } setup: {
        var parser = RequestHeadParser()
        guard case .complete = head.withUnsafeBytes({ parser.parse($0) }) else {
            throw FixtureError("\(name): not a complete head")
        }
    }
}
