import HTTPTypes
import Testing
@testable import FerryKit

@Suite struct ResponseHeadTests {
    static let date = "Sun, 06 Nov 1994 08:49:37 GMT"

    @Test func serializesByteExact() {
        var head = ResponseHead(status: .partialContent)
        head.add("Content-Type", "text/plain; charset=utf-8")
        head.add("Content-Range", "bytes 0-0/100")
        head.add("Content-Length", "1")
        let expected = "HTTP/1.0 206 Partial Content\r\n"
            + "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            + "Server: ferry\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Content-Range: bytes 0-0/100\r\n"
            + "Content-Length: 1\r\n"
            + "Connection: close\r\n\r\n"
        #expect(head.serialize(date: Self.date, server: "ferry") == Array(expected.utf8))
    }

    @Test func serializesWithoutAddedFields() {
        let head = ResponseHead(status: .notFound)
        #expect(String(decoding: head.serialize(date: Self.date, server: "ferry/1.0"), as: UTF8.self)
            == "HTTP/1.0 404 Not Found\r\nDate: \(Self.date)\r\nServer: ferry/1.0\r\nConnection: close\r\n\r\n")
    }

    @Test func writesThreeDigitCodes() {
        let custom = ResponseHead(status: HTTPResponse.Status(code: 99, reasonPhrase: "Odd"))
        #expect(custom.serialize(date: "d", server: "s").starts(with: "HTTP/1.0 099 Odd\r\n".utf8))
        let bare = ResponseHead(status: 599)
        #expect(bare.serialize(date: "d", server: "s").starts(with: "HTTP/1.0 599 \r\n".utf8))
    }

    @Test func keepsFieldOrderAndDuplicates() {
        var head = ResponseHead(status: .ok)
        head.add("B", "2")
        head.add("A", "1")
        head.add("B", "3")
        let text = String(decoding: head.serialize(date: "d", server: "s"), as: UTF8.self)
        #expect(text.contains("Server: s\r\nB: 2\r\nA: 1\r\nB: 3\r\nConnection: close\r\n\r\n"))
    }

    @Test func reservesRoomForTheBody() {
        var head = ResponseHead(status: .ok)
        head.add("Content-Length", "4096")
        let bytes = head.serialize(date: Self.date, server: "ferry", bodyCapacity: 4096)
        #expect(bytes.capacity >= bytes.count + 4096)
        let exact = head.serialize(date: Self.date, server: "ferry")
        #expect(exact.capacity >= exact.count)
    }
}
