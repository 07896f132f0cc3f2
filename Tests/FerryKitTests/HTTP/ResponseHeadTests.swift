import HTTPTypes
import Testing
@testable import FerryKit

@Suite struct ResponseHeadTests {
    static let date: FieldValue = "Sun, 06 Nov 1994 08:49:37 GMT"

    static func text(_ head: ResponseHead, version: HTTPVersion = .http1_1, contentLength: Int64? = nil,
                     connection: ConnectionField = .none) -> String {
        var bytes: [UInt8] = []
        head.serialize(version: version, contentLength: contentLength, connection: connection,
                       date: date, server: "ferry", into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func serializesByteExact() {
        var head = ResponseHead(status: .partialContent)
        head.add("Content-Type", "text/plain; charset=utf-8")
        head.add("Content-Range", "bytes 0-0/100")
        let expected = "HTTP/1.0 206 Partial Content\r\n"
            + "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            + "Server: ferry\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Content-Range: bytes 0-0/100\r\n"
            + "Content-Length: 1\r\n"
            + "Connection: close\r\n\r\n"
        #expect(Self.text(head, version: .http1_0, contentLength: 1, connection: .close) == expected)
    }

    @Test func persistentHTTP11HeadHasNoConnectionField() {
        let head = ResponseHead(status: .notFound)
        #expect(Self.text(head, contentLength: 0)
            == "HTTP/1.1 404 Not Found\r\nDate: \(Self.date)\r\nServer: ferry\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func persistentHTTP10HeadSaysKeepAlive() {
        let text = Self.text(ResponseHead(status: .ok), contentLength: 5, connection: .keepAlive)
        #expect(text.hasSuffix("Content-Length: 5\r\nConnection: keep-alive\r\n\r\n"))
    }

    @Test func leavesOutContentLengthWhenThereIsNone() {
        let text = Self.text(ResponseHead(status: .notModified))
        #expect(!text.lowercased().contains("content-length"))
        #expect(text.hasSuffix("Server: ferry\r\n\r\n"))
    }

    @Test func writesThreeDigitCodes() {
        #expect(Self.text(ResponseHead(status: HTTPResponse.Status(code: 99, reasonPhrase: "Odd")))
            .hasPrefix("HTTP/1.1 099 Odd\r\n"))
        #expect(Self.text(ResponseHead(status: 599)).hasPrefix("HTTP/1.1 599 \r\n"))
    }

    @Test func keepsFieldOrderAndDuplicates() {
        var head = ResponseHead(status: .ok)
        head.add("B", "2")
        head.add("A", "1")
        head.add("B", "3")
        #expect(Self.text(head, connection: .close).contains("Server: ferry\r\nB: 2\r\nA: 1\r\nB: 3\r\nConnection: close\r\n\r\n"))
        #expect(head.value(of: "b") == "2")
    }

    @Test func appendsToWhatTheBufferHolds() {
        var bytes = Array("prefix".utf8)
        ResponseHead(status: .ok).serialize(version: .http1_1, contentLength: nil, connection: .none,
                                            date: "d", server: "s", into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "prefixHTTP/1.1 200 OK\r\nDate: d\r\nServer: s\r\n\r\n")
    }
}
