import Foundation
import Testing

private enum InjectionSite: FixtureSite {
    /// A file and a directory whose names hold CR LF and what would be an injected field.
    static let crlfFile = "crlf\r\nSet-Cookie: evil=1.txt"
    static let crlfDirectory = "dir\r\nSet-Cookie: evil=1"
    /// A name that is percent-encoded CR LF as literal text.
    static let encodedFile = "%0d%0aX-Injected: 1.txt"

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/\(crlfFile)", "crlf\n")
        try scratch.write("root/\(crlfDirectory)/inner.txt", "inner\n")
        try scratch.write("root/\(encodedFile)", "encoded\n")
        try scratch.write("root/plain/index.html", "<!DOCTYPE html><title>plain</title>\n")
    }
}

/// No response head carries a field the server did not mean to send, whatever the file
/// names or the request-target hold: checked line by line on the raw bytes.
@Suite(.fixture("injection", site: InjectionSite.self))
struct HeaderInjectionTests {
    var port: Int { Fixture.server.port }

    /// The raw head's lines: every one ends in CR LF, none holds another CR or LF, and
    /// the field names are exactly `names`, in order.
    func expectHead(_ response: HTTPResponseText, statusLine: String, names: [String],
                    _ target: String) {
        let raw = response.raw
        guard let end = raw.indices.first(where: { raw[$0...].starts(with: Array("\r\n\r\n".utf8)) }) else {
            Issue.record("\(target): no complete head")
            return
        }
        let head = Array(raw[..<(end + 2)])
        var lines: [[UInt8]] = []
        var start = 0
        for index in head.indices where head[index] == 0x0A {
            #expect(index > start && head[index - 1] == 0x0D, "\(target): a line ends in a bare LF")
            lines.append(Array(head[start..<(index - 1)]))
            start = index + 1
        }
        #expect(start == head.count, "\(target): the head ends mid-line")
        for line in lines {
            #expect(!line.contains(0x0D) && !line.contains(0x0A) && !line.contains(0), "\(target): a control byte in \(line)")
        }
        let texts = lines.map { String(decoding: $0, as: UTF8.self) }
        #expect(texts.first == statusLine, "\(target)")
        let fieldNames = texts.dropFirst().map { String($0.prefix { $0 != ":" }) }
        #expect(fieldNames == names, "\(target)")
    }

    static let fileFields = ["Date", "Server", "Content-Type", "Last-Modified", "ETag", "Accept-Ranges",
                             "Content-Length", "Connection"]
    static let errorFields = ["Date", "Server", "Content-Type", "Content-Length", "Connection"]

    @Test func aFileNamedWithCRLFIsServedWithItsOwnFieldsOnly() throws {
        let target = "/crlf%0D%0ASet-Cookie:%20evil=1.txt"
        let response = try request(port, target)
        expectHead(response, statusLine: "HTTP/1.0 200 OK", names: Self.fileFields, target)
        #expect(response.bodyText == "crlf\n")
    }

    @Test func aFileNamedWithEncodedCRLFIsServedWithItsOwnFieldsOnly() throws {
        let target = "/%250d%250aX-Injected:%201.txt"
        let response = try request(port, target)
        expectHead(response, statusLine: "HTTP/1.0 200 OK", names: Self.fileFields, target)
        #expect(response.bodyText == "encoded\n")
    }

    /// The Location of a directory named with CR LF keeps them percent-encoded.
    @Test func aDirectoryRedirectKeepsCRLFEncoded() throws {
        let target = "/dir%0d%0aSet-Cookie:%20evil=1"
        let response = try request(port, target)
        expectHead(response, statusLine: "HTTP/1.0 301 Moved Permanently",
                   names: ["Date", "Server", "Location", "Content-Type", "Content-Length", "Connection"], target)
        #expect(response.field("Location") == "/dir%0D%0ASet-Cookie:%20evil=1/")
        let followed = try request(port, "/dir%0D%0ASet-Cookie:%20evil=1/inner.txt")
        #expect(followed.status == 200 && followed.bodyText == "inner\n")
    }

    /// A query is copied into the Location as the client sent it: still encoded.
    @Test func aRedirectQueryStaysEncoded() throws {
        let target = "/plain?x=%0d%0aSet-Cookie:%20evil=1"
        let response = try request(port, target)
        expectHead(response, statusLine: "HTTP/1.0 301 Moved Permanently",
                   names: ["Date", "Server", "Location", "Content-Type", "Content-Length", "Connection"], target)
        #expect(response.field("Location") == "/plain/?x=%0d%0aSet-Cookie:%20evil=1")
    }

    @Test(arguments: ["/%0d%0aSet-Cookie:%20evil=1", "/missing%0D%0AX-Injected:%201", "/%0aSet-Cookie:x",
                      "/a%0d%0a%0d%0a<html>"])
    func anEncodedCRLFInAMissingTargetIsA404WithItsOwnFieldsOnly(_ target: String) throws {
        let response = try request(port, target)
        expectHead(response, statusLine: "HTTP/1.0 404 Not Found", names: Self.errorFields, target)
    }

    /// A raw CR or LF inside the request line ends it early or is refused: never echoed.
    @Test func aRawCRLFInTheTargetIsRefused() throws {
        let target = "/x\rSet-Cookie: evil=1"
        let response = try exchange(port, "GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n")
        expectHead(response, statusLine: "HTTP/1.1 400 Bad Request", names: Self.errorFields, target)
    }
}
