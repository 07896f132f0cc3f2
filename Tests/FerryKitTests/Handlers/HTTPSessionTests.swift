import Foundation
import Glibc
import Testing
@testable import FerryKit

/// One HTTP session over a socket pair, advanced by hand as an event loop would: no
/// binary, no port, no loop, the real kernel underneath (sendfile to a UNIX socket).
@Suite struct HTTPSessionTests {
    /// A session on one end of a socket pair, the test's client on the other.
    final class Pair {
        let tree: TemporaryTree
        let handler: HTTPFileHandler
        let session: Session
        let client: Int32

        init(configure: (inout ServerConfig) -> Void = { _ in }) throws {
            tree = try TemporaryTree()
            try tree.write("small.txt", String(repeating: "s", count: 1024))
            try tree.write("a.txt", "alpha\n")
            var config = ServerConfig()
            config.root = tree.path
            config.accessLog = .off
            configure(&config)
            handler = HTTPFileHandler(config: config, root: try DocumentRoot(path: tree.path), extensions: ExtensionTable(),
                                      errorPages: nil, accessLog: try AccessLog(.off), errorLog: { _ in })
            var ends: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0 else { throw POSIXError(.EMFILE) }
            SocketOptions.setNonBlocking(ends[0])
            client = ends[1]
            session = handler.makeSession(socket: ends[0], peer: SocketAddress())
        }

        deinit {
            close(session.socket)
            close(client)
            tree.remove()
        }

        func send(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
        }

        /// Everything the session has written so far (without waiting).
        func received() -> String {
            var output: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(client, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                guard n > 0 else { break }
                output += chunk[..<n]
            }
            return String(decoding: output, as: UTF8.self)
        }
    }

    static func get(_ path: String, _ fields: [String] = []) -> String {
        "GET \(path) HTTP/1.1\r\nHost: x\r\n" + fields.map { $0 + "\r\n" }.joined() + "\r\n"
    }

    @Test func answersAndWaitsForTheNextRequest() throws {
        let pair = try Pair()
        pair.send(Self.get("/small.txt"))
        #expect(pair.session.advance() == .readable)
        let response = pair.received()
        #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(response.contains("\r\nContent-Length: 1024\r\n"))
        #expect(!response.contains("Connection:"))
        #expect(response.hasSuffix("\r\n\r\n" + String(repeating: "s", count: 1024)))
        #expect(pair.session.summary.requests == 1)
        #expect(pair.session.summary.bytesViaSendfile == 1024)
    }

    @Test func aHeadInPiecesIsAnsweredWhenWhole() throws {
        let pair = try Pair()
        pair.send("GET /a.txt HTTP/1.1\r\nHo")
        #expect(pair.session.advance() == .readable)
        #expect(pair.received().isEmpty)
        pair.send("st: x\r\n\r\n")
        #expect(pair.session.advance() == .readable)
        #expect(pair.received().hasSuffix("\r\n\r\nalpha\n"))
    }

    @Test func pipelinedRequestsAreAnsweredInOrderInOneAdvance() throws {
        let pair = try Pair()
        pair.send(Self.get("/a.txt") + Self.get("/small.txt") + Self.get("/a.txt", ["Connection: close"]))
        #expect(pair.session.advance() == .finished)
        let response = pair.received()
        let statusLines = response.components(separatedBy: "HTTP/1.1 200 OK").count - 1
        #expect(statusLines == 3)
        #expect(response.hasSuffix("Connection: close\r\n\r\nalpha\n"))
        #expect(pair.session.summary.requests == 3)
    }

    @Test func validatorsAndPreconditionsOnOneConnection() throws {
        let pair = try Pair()
        pair.send(Self.get("/a.txt"))
        _ = pair.session.advance()
        let first = pair.received()
        let etag = try #require(first.components(separatedBy: "\r\n").first { $0.hasPrefix("ETag: ") }?.dropFirst(6))
        pair.send(Self.get("/a.txt", ["If-None-Match: \(etag)"]))
        #expect(pair.session.advance() == .readable)
        #expect(pair.received().hasPrefix("HTTP/1.1 304 Not Modified\r\n"))
        pair.send(Self.get("/a.txt", ["If-Match: \"another\""]))
        #expect(pair.session.advance() == .readable)
        #expect(pair.received().hasPrefix("HTTP/1.1 412 Precondition Failed\r\n"))
        pair.send(Self.get("/a.txt", ["If-Match: \(etag)", "Range: bytes=1-3"]))
        #expect(pair.session.advance() == .readable)
        let partial = pair.received()
        #expect(partial.hasPrefix("HTTP/1.1 206 Partial Content\r\n"))
        #expect(partial.contains("\r\nContent-Range: bytes 1-3/6\r\n"))
        #expect(partial.hasSuffix("\r\n\r\nlph"))
    }

    @Test func aFileChangedBetweenRequestsIsServedNew() throws {
        let pair = try Pair()
        pair.send(Self.get("/a.txt"))
        _ = pair.session.advance()
        #expect(pair.received().hasSuffix("alpha\n"))
        // No event loop reports the change: the cache reads its queue before answering.
        try pair.tree.write("a.txt", "changed\n")
        pair.send(Self.get("/a.txt"))
        _ = pair.session.advance()
        #expect(pair.received().hasSuffix("\r\n\r\nchanged\n"))
    }

    @Test func aMalformedHeadIsRefusedAndTheConnectionClosesAfterLingering() throws {
        let pair = try Pair()
        pair.send("GET /a.txt HTTP/1.1\r\nHost x\r\n\r\n")
        // The response is out; the session lingers for the client's close.
        #expect(pair.session.advance() == .readable)
        #expect(pair.received().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        shutdown(pair.client, Int32(SHUT_WR))
        #expect(pair.session.advance() == .finished)
    }

    @Test func theCopyModeSendsTheSameBytes() throws {
        let pair = try Pair { $0.bodyMode = .copy }
        pair.send(Self.get("/small.txt"))
        #expect(pair.session.advance() == .readable)
        #expect(pair.received().hasSuffix("\r\n\r\n" + String(repeating: "s", count: 1024)))
        #expect(pair.session.summary.bytesViaCopy == 1024)
    }

    @Test func aClientGoneBeforeItsHeadEnds() throws {
        let pair = try Pair()
        pair.send("GET /a.txt HTTP/1.1\r\n")
        #expect(pair.session.advance() == .readable)
        shutdown(pair.client, Int32(SHUT_WR))
        // An incomplete head at end of stream: 400, then a lingering close, which the
        // client's end of stream ends at the next read.
        #expect(pair.session.advance() == .readable)
        #expect(pair.received().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(pair.session.advance() == .finished)
    }
}
