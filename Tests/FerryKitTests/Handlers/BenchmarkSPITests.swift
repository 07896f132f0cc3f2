import Foundation
import Testing
@_spi(Benchmarks) import FerryKit

/// What the micro-benchmarks in benchmarks/ reach through FerryKit's Benchmarks SPI,
/// called as they call it. The suite never builds that package (package-benchmark
/// takes minutes to build): a change that breaks these calls breaks it as well, and
/// shows here first. Run the benchmarks with scripts/bench-micro.
@Suite struct BenchmarkSPITests {
    private func handler(root: String, accessLog: AccessLogTarget) throws -> HTTPFileHandler {
        let handler = HTTPFileHandler(config: ServerConfig(), root: try DocumentRoot(path: root),
                                      extensions: ExtensionTable(), errorPages: nil, accessLog: try AccessLog(accessLog))
        handler.loopWokeUp(changesReady: false)
        return handler
    }

    @Test func theResponderWritesTheHeadTheHeadWriterBenchmarkComposes() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write("site.css", Array(repeating: UInt8(ascii: "a"), count: 1024))
        let worker = try handler(root: tree.path, accessLog: .off)
        let head = Array("GET /site.css HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        var output: [UInt8] = []
        // The second answer comes from the open-file cache, as in the benchmarks.
        for _ in 0..<2 {
            output.removeAll(keepingCapacity: true)
            let status = head.withUnsafeBytes { bytes -> Int? in
                var parser = RequestHeadParser()
                guard case .complete(let parsed, _) = parser.parse(bytes) else { return nil }
                return worker.context.responder.respond(
                    to: RequestView(head: parsed, bytes: bytes), framing: HeadFraming(version: .http1_1, connection: .none),
                    headTick: worker.context.tickForHead(readOnWakeup: true), into: &output).status
            }
            #expect(status == 200)
        }
        var statusLine: [UInt8] = []
        HeadWriter.statusLine(.ok, version: .http1_1, into: &statusLine)
        var framing: [UInt8] = []
        HeadWriter.framing(contentLength: 1024, connection: .none, into: &framing)
        let server = Array("Server: Ferry\r\n".utf8)
        #expect(output.starts(with: statusLine) && output.reversed().starts(with: framing.reversed()))
        #expect(DateHeaderCache(server: "Ferry").prelude().reversed().starts(with: server.reversed()))
        #expect(String(decoding: output, as: UTF8.self).contains("\r\nServer: Ferry\r\n"))
    }

    @Test func anAccessLogLineIsGatheredUntilTheLoopIterationEnds() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let worker = try handler(root: tree.path, accessLog: .file(tree.at("access.log")))
        Array("GET /site.css HTTP/1.1".utf8).withUnsafeBytes { line in
            worker.context.accessLog.record(peer: PeerAddress(SocketAddress()), AccessLogFields(
                requestLine: line, status: 200, bytes: 1024, referer: nil, userAgent: nil))
        }
        #expect(try String(contentsOfFile: tree.at("access.log"), encoding: .utf8).isEmpty)
        worker.loopIterationEnded()
        let written = try String(contentsOfFile: tree.at("access.log"), encoding: .utf8)
        #expect(written.hasPrefix("- - - [") && written.hasSuffix("] \"GET /site.css HTTP/1.1\" 200 1024 \"-\" \"-\"\n"))
    }
}
