import Testing
@testable import FerryLab

@Suite struct HTTPResponseHeadTests {
    static func parse(_ text: String) -> HTTPResponseHead? {
        HTTPResponseHead.parse(Array(text.utf8))
    }

    @Test func readsStatusLengthAndWhereTheBodyStarts() {
        let head = "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\ncontent-length:  1285 \r\n\r\n"
        #expect(Self.parse(head + "<!DOCTYPE") == HTTPResponseHead(status: 200, contentLength: 1285,
                                                                   headLength: head.utf8.count))
    }

    @Test func waitsForTheBlankLine() {
        #expect(Self.parse("") == nil)
        #expect(Self.parse("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n") == nil)
    }

    @Test func keepsOtherStatuses() {
        #expect(Self.parse("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n")?.status == 404)
        #expect(Self.parse("HTTP/1.0 301 Moved Permanently\r\n\r\n")?.contentLength == nil)
    }

    @Test func givesStatusZeroToWhatIsNotHTTP() {
        #expect(Self.parse("SSH-2.0-OpenSSH\r\n\r\n")?.status == 0)
        #expect(Self.parse("HTTP/1.0 2000 OK\r\n\r\n")?.status == 0)
    }

    @Test func refusesContentLengthsItCannotTrust() {
        #expect(Self.parse("HTTP/1.0 200 OK\r\nContent-Length: 12x\r\n\r\n")?.contentLength == nil)
        #expect(Self.parse("HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n")?.contentLength == nil)
        #expect(Self.parse("HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n")?.contentLength == nil)
        #expect(Self.parse("HTTP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")?.contentLength == nil)
        #expect(Self.parse("HTTP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n")?.contentLength == 5)
    }

    @Test func writesTheHostFieldForEachKindOfHost() {
        #expect(HTTPExchange.hostField(host: "127.0.0.1", port: 8080) == "127.0.0.1:8080")
        #expect(HTTPExchange.hostField(host: "::1", port: 8080) == "[::1]:8080")
        #expect(HTTPExchange.hostField(host: "example.org", port: 80) == "example.org")
    }
}
