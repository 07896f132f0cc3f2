import Foundation
import Testing

private enum MultiRangeSite: FixtureSite {
    /// Byte i is "0"..."9" by i % 10, with a newline every 100 bytes.
    static let content: [UInt8] = (0..<1000).map { $0 % 100 == 99 ? 10 : UInt8(48 + $0 % 10) }

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/digits.txt", bytes: content)
        try scratch.random("root/big.bin", bytes: 3 << 20)
    }
}

/// One part of a multipart/byteranges body, as Python's email package reads it.
private struct Part: Decodable, Equatable {
    var type: String
    var range: String
    var sha256: String
}

/// Several ranges: 206 multipart/byteranges, checked by curl and by a MIME parser.
@Suite(.fixture("multirange", site: MultiRangeSite.self))
struct MultiRangeTests {
    var port: Int { Fixture.server.port }
    static let content = MultiRangeSite.content

    /// Parses `body` with Python's `email` package, under the response's Content-Type.
    private func parts(_ response: HTTPResponseText) throws -> [Part] {
        let script = """
            import email, hashlib, json, sys
            message = email.message_from_bytes(sys.stdin.buffer.read())
            assert message.is_multipart(), "not multipart"
            assert message.defects == [], message.defects
            for part in message.get_payload():
                assert part.defects == [], part.defects
            print(json.dumps([{"type": p["Content-Type"], "range": p["Content-Range"],
                               "sha256": hashlib.sha256(p.get_payload(decode=True)).hexdigest()}
                              for p in message.get_payload()]))
            """
        let type = try #require(response.field("Content-Type"))
        let input = Data(("Content-Type: " + type + "\r\n\r\n").utf8) + Data(response.body)
        let result = try run("python3", ["-c", script], stdin: input)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode([Part].self, from: result.stdout)
    }

    private func expected(_ spans: [(Int, Int)], in file: [UInt8] = MultiRangeSite.content,
                          type: String = "text/plain; charset=utf-8") throws -> [Part] {
        var parts: [Part] = []
        for (first, last) in spans {
            let digest = try sha256(Array(file[first...last]))
            parts.append(Part(type: type, range: "bytes \(first)-\(last)/\(file.count)", sha256: digest))
        }
        return parts
    }

    private func get(_ range: String, extra: [String] = [], method: String = "GET") throws -> HTTPResponseText {
        try request(port, "/digits.txt", method: method, headers: ["Range: \(range)"] + extra)
    }

    @Test func curlTwoRanges() throws {
        let result = try run("curl", ["-sS", "-i", "-r", "0-9,20-29", "http://127.0.0.1:\(port)/digits.txt"])
        let response = HTTPResponseText(Array(result.stdout))
        #expect(response.status == 206)
        let type = try #require(response.field("Content-Type"))
        #expect(type.hasPrefix("multipart/byteranges; boundary=ferry-"))
        #expect(response.field("Content-Length") == String(response.body.count))
        #expect(response.field("Content-Range") == nil)
        let want = try expected([(0, 9), (20, 29)])
        #expect(try parts(response) == want)
        // The exact framing: boundary lines, part heads, CRLF after each part's bytes.
        let boundary = String(type.dropFirst("multipart/byteranges; boundary=".count))
        let head = "Content-Type: text/plain; charset=utf-8\r\n"
        let framed = "--\(boundary)\r\n\(head)Content-Range: bytes 0-9/1000\r\n\r\n0123456789\r\n"
            + "--\(boundary)\r\n\(head)Content-Range: bytes 20-29/1000\r\n\r\n0123456789\r\n--\(boundary)--\r\n"
        #expect(response.bodyText == framed)
    }

    @Test func coalescedSortedAndDropped() throws {
        let response = try get("bytes=950-,0-9,5-14,100-109,2000-3000")
        #expect(response.status == 206)
        let want = try expected([(0, 14), (100, 109), (950, 999)])
        #expect(try parts(response) == want)
        // Joined into one: a plain 206.
        let one = try get("bytes=0-9,10-19")
        #expect(one.status == 206)
        #expect(one.field("Content-Range") == "bytes 0-19/1000")
        #expect(one.body == Array(Self.content[0...19]))
        let none = try get("bytes=1000-,2000-")
        #expect(none.status == 416)
        #expect(none.field("Content-Range") == "bytes */1000")
    }

    @Test func tooMuchGetsTheWholeFile() throws {
        let overlapping = try get("bytes=0-,0-,0-")
        #expect(overlapping.status == 200)
        #expect(overlapping.body == Self.content)
        let tooMany = try get("bytes=" + (0..<201).map { "\($0 * 4)-\($0 * 4)" }.joined(separator: ","))
        #expect(tooMany.status == 200)
        #expect(tooMany.body == Self.content)
        let atTheCap = try get("bytes=" + (0..<200).map { "\($0 * 4)-\($0 * 4)" }.joined(separator: ","))
        #expect(atTheCap.status == 206)
        let found = try parts(atTheCap)
        #expect(found.count == 200)
    }

    @Test func configuredCap() throws {
        let config = try configFile(Fixture.scratch, "[limits]\nmax_ranges = 2\n")
        let server = try FerryServer(["--config", config, Fixture.scratch.root])
        defer { server.stop() }
        #expect(try request(server.port, "/digits.txt", headers: ["Range: bytes=0-1,5-6"]).status == 206)
        #expect(try request(server.port, "/digits.txt", headers: ["Range: bytes=0-1,5-6,9-10"]).status == 200)
    }

    @Test func ifRangeApplies() throws {
        let etag = try #require(try request(port, "/digits.txt").field("ETag"))
        let matching = try get("bytes=0-1,5-6", extra: ["If-Range: \(etag)"])
        #expect(matching.status == 206)
        let want = try expected([(0, 1), (5, 6)])
        #expect(try parts(matching) == want)
        let stale = try get("bytes=0-1,5-6", extra: ["If-Range: \"other\""])
        #expect(stale.status == 200)
        #expect(stale.body == Self.content)
    }

    @Test func headHasTheLengthAndNoBody() throws {
        let full = try get("bytes=0-1,5-6")
        let head = try get("bytes=0-1,5-6", method: "HEAD")
        #expect(head.status == 206)
        #expect(head.field("Content-Length") == String(full.body.count))
        #expect(head.body.isEmpty)
    }

    /// Big parts through sendfile and through the copy loop, two responses on one
    /// kept connection: the framing must be exact for the second to be read.
    @Test(arguments: [[String](), ["--copy"]])
    func bigPartsOnAKeptConnection(flags: [String]) throws {
        let server = try FerryServer(flags + [Fixture.scratch.root])
        defer { server.stop() }
        let file = Fixture.scratch.read("root/big.bin")
        let url = "http://127.0.0.1:\(server.port)/big.bin"
        let downloads = try Fixture.scratch.downloads()
        let result = try run("curl", ["-sS", "-r", "0-1048575,2097152-", "-o", downloads + "/1", url, "--next",
                                      "-sS", "-r", "10-19,3000000-3000009", "-o", downloads + "/2", url,
                                      "-w", "%{num_connects}"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "0", "the second request reused the first's connection")
        let cases: [(String, [(Int, Int)])] = [("1", [(0, 1_048_575), (2_097_152, file.count - 1)]),
                                               ("2", [(10, 19), (3_000_000, 3_000_009)])]
        for (name, spans) in cases {
            let body = try Array(Data(contentsOf: URL(fileURLWithPath: downloads + "/" + name)))
            let boundary = String(decoding: body.dropFirst(2).prefix { $0 != 13 }, as: UTF8.self)
            #expect(boundary.hasPrefix("ferry-"), "\(name)")
            let head = "HTTP/1.1 206 Partial Content\r\nContent-Type: multipart/byteranges; boundary=\(boundary)\r\n\r\n"
            let response = HTTPResponseText(Array(head.utf8) + body)
            let want = try expected(spans, in: file, type: "application/octet-stream")
            #expect(try parts(response) == want, "\(name)")
        }
    }
}
