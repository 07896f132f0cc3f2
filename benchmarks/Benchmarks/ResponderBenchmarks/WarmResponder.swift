import BenchmarkFixtures
@_spi(Benchmarks) import FerryKit

/// One worker's static file responder over a scratch site whose every file was asked
/// for once, in an earlier loop iteration: each file is in the open-file cache, and a
/// request for it costs no open, stat or close. What the responder benchmarks answer from.
final class WarmResponder {
    private let site: ScratchSite
    private let handler: HTTPFileHandler
    /// Reused like the worker's output buffer.
    private var output: [UInt8] = []
    /// A head read on the current wakeup: the cache has nothing to apply before answering it.
    private var headTick: UInt64
    /// Each file's entity-tag ("/name" → the quoted tag), from its first response.
    private(set) var etags: [String: String] = [:]

    init(files: [(name: String, size: Int)]) throws {
        site = try ScratchSite(files: files)
        handler = try makeWorkerHandler(root: site.path, accessLog: .off)
        output.reserveCapacity(4096)
        headTick = handler.context.tickForHead(readOnWakeup: true)
        for (name, _) in files {
            let head = try answerOnce(HeldRequest(SampleHeads.curl(target: "/" + name)), status: 200)
            guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("ETag: ") }) else {
                throw FixtureError("no ETag for /\(name): \(head)")
            }
            etags["/" + name] = String(line.dropFirst("ETag: ".count))
        }
        handler.loopIterationEnded()
        handler.loopWokeUp(changesReady: false)
        headTick = handler.context.tickForHead(readOnWakeup: true)
    }

    /// Answers `request` as a session answers one that keeps its connection: in its own
    /// version, saying `keep-alive` to HTTP/1.0 and nothing to HTTP/1.1.
    func answer(_ request: HeldRequest) -> ResponsePlan {
        output.removeAll(keepingCapacity: true)
        let connection: ConnectionField = request.head.version == .http1_0 ? .keepAlive : .none
        return handler.context.responder.respond(
            to: request.view, framing: HeadFraming(version: request.head.version, connection: connection),
            headTick: headTick, into: &output)
    }

    /// Answers `request` once and checks the status; returns what was written.
    func answerOnce(_ request: HeldRequest, status: Int) throws -> String {
        let plan = answer(request)
        let written = String(decoding: output, as: UTF8.self)
        guard plan.status == status else { throw FixtureError("expected \(status), got: \(written)") }
        return written
    }

    func remove() {
        site.remove()
    }
}
