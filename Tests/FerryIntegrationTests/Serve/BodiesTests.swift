import Foundation
import Testing

private enum BodiesSite: FixtureSite {
    static let bigSize = 300 << 20
    static let sparseSize: Int64 = 5 << 30
    /// Markers in the otherwise empty 5 GiB file: just past 4 GiB (where a 32-bit
    /// offset wraps to 0) and in its last bytes.
    static let pastFourGiB: Int64 = (4 << 30) + 12_345
    static let markerPastFourGiB = "FERRY-PAST-4-GIB"
    static let markerAtEnd = "THE-END!"

    static func build(_ scratch: Scratch) throws {
        try scratch.random("root/big.bin", bytes: bigSize)
        try scratch.sparse("root/sparse.img", size: sparseSize)
        try scratch.patch("root/sparse.img", at: pastFourGiB, markerPastFourGiB)
        try scratch.patch("root/sparse.img", at: sparseSize - Int64(markerAtEnd.utf8.count), markerAtEnd)
    }
}

/// File bodies through sendfile (default) and the copy loop (--copy): a 300 MiB
/// random file through curl and wget hashes to the source; a 5 GiB sparse file has
/// the right length and right bytes past 4 GiB; a file that shrinks mid-send and a
/// client that leaves mid-body end that response only.
@Suite(.serialized, .fixture("bodies", serving: nil, site: BodiesSite.self))
struct BodiesTests {
    static let modes = ["--sendfile", "--copy"]

    /// Also with --no-cork: the same bytes, by sendfile, without TCP_CORK.
    @Test(arguments: modes + ["--no-cork"])
    func bigFileThroughCurlAndWget(mode: String) throws {
        let scratch = Fixture.scratch
        // Stopped once, below, for its report (a failed `try` leaves it to FerryProcess's deinit).
        let server = try FerryServer([mode, scratch.root])
        #expect(server.ferry.output.contains(mode == "--no-cork" ? "cork off" : "cork on"))
        let source = try scratch.sha256("root/big.bin")
        let url = server.base + "/big.bin"

        #expect(try sha256OfDownload("curl -sS --fail \"$1\"", url) == source, "curl \(mode)")
        #expect(try sha256OfDownload("wget -q -O - \"$1\"", url) == source, "wget \(mode)")

        // The bytes went the way the mode says.
        let report = server.stop().stdout
        let sent = Int64(2 * BodiesSite.bigSize)
        let expected = mode == "--copy" ? "0 bytes via sendfile, \(sent) bytes via copy"
                                        : "\(sent) bytes via sendfile, 0 bytes via copy"
        #expect(report.contains("total: 2 connections, 2 requests, \(expected)"), "\(report)")
    }

    @Test(arguments: modes)
    func sparseFileOverFourGiB(mode: String) throws {
        let server = try FerryServer([mode, Fixture.scratch.root])
        defer { server.stop() }
        let size = BodiesSite.sparseSize

        let head = try request(server.port, "/sparse.img", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.field("Content-Length") == "5368709120")

        // A closed range around the marker past 4 GiB: zeros, the marker, zeros.
        let first = BodiesSite.pastFourGiB - 4
        let marker = Array(BodiesSite.markerPastFourGiB.utf8)
        let last = BodiesSite.pastFourGiB + Int64(marker.count) + 3
        let around = try request(server.port, "/sparse.img", headers: ["Range: bytes=\(first)-\(last)"])
        #expect(around.status == 206)
        #expect(around.field("Content-Range") == "bytes \(first)-\(last)/\(size)")
        #expect(around.body == [0, 0, 0, 0] + marker + [0, 0, 0, 0])

        // Open-ended and suffix ranges that end at the last byte.
        let end = Array(BodiesSite.markerAtEnd.utf8)
        let openEnded = try request(server.port, "/sparse.img", headers: ["Range: bytes=\(size - 10)-"])
        #expect(openEnded.field("Content-Range") == "bytes \(size - 10)-\(size - 1)/\(size)")
        #expect(openEnded.body == [0, 0] + end)
        let suffix = try request(server.port, "/sparse.img", headers: ["Range: bytes=-8"])
        #expect(suffix.body == end)

        // curl asks for the same range its own way.
        let curl = try run("curl", ["-sS", "-f", "-r", "\(BodiesSite.pastFourGiB)-\(BodiesSite.pastFourGiB + Int64(marker.count) - 1)",
                                    server.base + "/sparse.img"])
        #expect(curl.text == BodiesSite.markerPastFourGiB)
        // A megabyte crossing the 4 GiB boundary: its zeros and the marker, nothing wrapped to offset 0.
        let crossing = try sha256OfDownload("curl -sS -f -r \"$1\" \"$2\"", "\((4 << 30) - (1 << 19))-\((4 << 30) + (1 << 19) - 1)",
                                            server.base + "/sparse.img")
        var expected = [UInt8](repeating: 0, count: 1 << 20)
        expected.replaceSubrange((1 << 19) + 12_345 ..< (1 << 19) + 12_345 + marker.count, with: marker)
        #expect(crossing == (try sha256(expected)))
    }

    /// A file truncated while it is being sent: that response ends (the connection
    /// closes short of Content-Length); the server neither hangs nor crashes.
    @Test(arguments: modes)
    func fileThatShrinksEndsTheResponse(mode: String) throws {
        let scratch = Fixture.scratch
        let name = "root/shrinking\(mode).bin"
        try scratch.sparse(name, size: 64 << 20)
        let server = try FerryServer([mode, scratch.root])
        defer { server.stop() }
        let workers = server.workers(atLeast: 2)

        let client = try RawClient(port: server.port, receiveTimeout: 10)
        client.send("GET /\(name.dropFirst("root/".count)) HTTP/1.0\r\n\r\n")
        let head = client.readHead()
        #expect(head.field("Content-Length") == String(64 << 20))
        _ = client.read(count: 1 << 20)
        try shell("truncate -s 2M \"$1\"", scratch.at(name))
        let start = Date()
        let rest = client.readAllNotingError()
        #expect(seconds(since: start) < 8, "the connection was closed, not left hanging")
        #expect((1 << 20) + rest.bytes.count < 64 << 20)
        #expect(server.ferry.waitForErrors("file shrank", timeout: 5))
        #expect(try request(server.port, "/big.bin", method: "HEAD").status == 200)
        #expect(Set(server.workerPIDs()).isSuperset(of: workers), "no worker died")
    }

    /// A client that goes away mid-body (RST) is logged; the worker lives on and the
    /// next download is complete.
    @Test(arguments: modes)
    func clientLeavingMidBodyIsLogged(mode: String) throws {
        let scratch = Fixture.scratch
        let server = try FerryServer([mode, "--workers", "1", "--max-workers", "1", scratch.root])
        defer { server.stop() }
        let worker = server.workers(atLeast: 1)
        do {
            let client = try RawClient(port: server.port)
            client.send("GET /big.bin HTTP/1.0\r\n\r\n")
            _ = client.readHead()
            _ = client.read(count: 1 << 20)
            client.resetOnClose()
        }  // closed here, with a RST
        #expect(server.ferry.waitForErrors(" bytes", timeout: 10), "the early end is logged")
        let errors = server.ferry.errors
        #expect(errors.contains("Connection reset by peer") || errors.contains("Broken pipe"), "\(errors)")
        #expect(try sha256OfDownload("curl -sS --fail \"$1\"", server.base + "/big.bin") == scratch.sha256("root/big.bin"))
        #expect(server.workerPIDs() == worker, "the same worker served both")
        #expect(!server.ferry.errors.contains("was killed"))
    }
}
