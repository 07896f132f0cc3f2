import Foundation
import Testing

private enum DigestSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.random("root/release.iso", bytes: 3 << 20)
        // As a mirror publishes it: sha256sum's own line, made after the file.
        try shell("cd \"$1\" && sha256sum release.iso > release.iso.sha256 && touch -d '+1 second' release.iso.sha256",
                  scratch.root)
        try scratch.random("root/bare.bin", bytes: 4096)
        try shell("cd \"$1\" && sha256sum bare.bin | cut -d' ' -f1 > bare.bin.sha256 && touch -d '+1 second' bare.bin.sha256",
                  scratch.root)
        try scratch.random("root/stale.bin", bytes: 4096)
        try shell("cd \"$1\" && sha256sum stale.bin > stale.bin.sha256 && touch -d '-1 day' stale.bin.sha256", scratch.root)
        try scratch.random("root/other.bin", bytes: 4096)
        try shell("cd \"$1\" && sha256sum bare.bin > other.bin.sha256 && touch -d '+1 second' other.bin.sha256",
                  scratch.root)
        // Not a digest at all: a truncated hex string.
        try scratch.random("root/broken.bin", bytes: 4096)
        try shell("cd \"$1\" && sha256sum broken.bin | cut -c1-40 > broken.bin.sha256"
                  + " && touch -d '+1 second' broken.bin.sha256", scratch.root)
        try scratch.write("root/text.txt", String(repeating: "compressible text\n", count: 200))
        try shell("cd \"$1\" && sha256sum text.txt > text.txt.sha256 && gzip -k -n text.txt"
                  + " && touch -d '+1 second' text.txt.sha256 text.txt.gz", scratch.root)
    }
}

/// Repr-Digest (RFC 9530) from NAME.sha256 beside a download, checked with curl and
/// against sha256sum's own answer.
@Suite(.fixture("digests", site: DigestSite.self))
struct DigestTests {
    var port: Int { Fixture.server.port }
    var base: String { Fixture.server.base }

    /// `sha-256=:BASE64:` of the file's SHA-256 as sha256sum computes it.
    func expectedDigest(_ name: String) throws -> String {
        let hex = try sha256File(Fixture.scratch.at("root/" + name))
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return "sha-256=:" + Data(bytes).base64EncodedString() + ":"
    }

    @Test func aPublishedDigestIsSentWithTheWholeFileItsPartsAndHead() throws {
        let expected = try expectedDigest("release.iso")
        #expect(try request(port, "/release.iso").field("Repr-Digest") == expected)
        #expect(try request(port, "/release.iso", method: "HEAD").field("Repr-Digest") == expected)
        // A part carries the digest of the whole representation, not of the part.
        let partial = try request(port, "/release.iso", headers: ["Range: bytes=100-199"])
        #expect(partial.status == 206)
        #expect(partial.field("Repr-Digest") == expected)
        #expect(try request(port, "/bare.bin").field("Repr-Digest") == expectedDigest("bare.bin"))
    }

    @Test func curlSeesTheDigestOfWhatItDownloads() throws {
        let headers = try run("curl", ["-sS", "-D", "-", "-o", Fixture.scratch.at("download.iso"), base + "/release.iso"])
        let field = headers.text.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("repr-digest:") }
        #expect(field?.dropFirst("repr-digest: ".count).description == (try expectedDigest("release.iso")))
        #expect(try sha256File(Fixture.scratch.at("download.iso")) == (try sha256File(Fixture.scratch.at("root/release.iso"))))
    }

    @Test func staleMalformedOrForeignSidecarsAreIgnored() throws {
        #expect(try request(port, "/stale.bin").field("Repr-Digest") == nil)
        #expect(try request(port, "/other.bin").field("Repr-Digest") == nil)
        #expect(try request(port, "/broken.bin").field("Repr-Digest") == nil)
        #expect(try request(port, "/text.txt").field("Repr-Digest") != nil)
        // A sidecar is another representation: the file's digest is not its digest.
        let compressed = try request(port, "/text.txt", headers: ["Accept-Encoding: gzip"])
        #expect(compressed.field("Content-Encoding") == "gzip")
        #expect(compressed.field("Repr-Digest") == nil)
        waitUntil(timeout: 5) { Fixture.server.ferry.errors.contains("stale.bin.sha256 is older than its file") }
        #expect(Fixture.server.ferry.errors.contains("stale.bin.sha256 is older than its file"))
        #expect(Fixture.server.ferry.errors.contains("other.bin.sha256 does not hold one SHA-256 for other.bin"))
        #expect(Fixture.server.ferry.errors.contains("broken.bin.sha256 does not hold one SHA-256 for broken.bin"))
    }

    @Test func theSidecarItselfIsAPlainFile() throws {
        let sidecar = try request(port, "/release.iso.sha256")
        #expect(sidecar.status == 200)
        #expect(sidecar.bodyText.hasSuffix("  release.iso\n"))
        #expect(sidecar.field("Repr-Digest") == nil)
    }

    @Test func digestsCanBeTurnedOff() throws {
        let server = try FerryServer(["--no-digests", Fixture.scratch.root])
        defer { server.stop() }
        #expect(try request(server.port, "/release.iso").field("Repr-Digest") == nil)
    }
}
