import Benchmark
import BenchmarkFixtures
@_spi(Benchmarks) import FerryKit

// The head of a 200 for a cached file, written as the responder writes it: the status
// line, the Date and Server lines (`DateHeaderCache.prelude`, formatted once a
// second), the fields the file's cache entry prepared once, and the framing, into the
// worker's reused output buffer. Nothing here may allocate.
let benchmarks = {
    Benchmark.defaultConfiguration = .countingAllocations()

    let dates = DateHeaderCache(server: "Ferry")
    let fields = cachedFileFields()
    var output: [UInt8] = []
    output.reserveCapacity(4096)

    Benchmark("200-cached-file") { benchmark in
        for _ in benchmark.scaledIterations {
            output.removeAll(keepingCapacity: true)
            HeadWriter.statusLine(.ok, version: .http1_1, into: &output)
            output += dates.prelude()
            output += fields
            HeadWriter.framing(contentLength: 1024, connection: .none, into: &output)
            blackHole(output)
        }
    }
}

/// The fields a cache entry prepares for a 1 KiB stylesheet without sidecars, made as
/// `FileEntryMaker` makes them.
func cachedFileFields() -> [UInt8] {
    let modified: Int64 = 1_700_000_000
    var head = ResponseHead(status: .ok)
    head.add("Content-Type", "text/css; charset=utf-8")
    head.add("Last-Modified", HTTPDate.fieldValue(modified)!)
    let etag = EntityTag.make(inode: 2_359_301, size: 1024, mtimeSeconds: modified, mtimeNanoseconds: 123_456_789)
    head.add("ETag", FieldValue(etag)!)
    head.add("Accept-Ranges", "bytes")
    return head.fieldBytes()
}
