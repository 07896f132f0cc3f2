import Foundation
import Testing

private enum ResumeSite: FixtureSite {
    static let size = 8 << 20

    static func build(_ scratch: Scratch) throws {
        try scratch.random("root/file.bin", bytes: size)
    }
}

/// `curl -C -` and `wget -c`: resuming a partial file completes it; resuming a
/// complete one ends with exit status 0 and leaves it intact (the 416 with
/// `Content-Range: bytes */LEN` that curl and wget understand; darkhttpd#80, curl#10521).
@Suite(.fixture("resume", site: ResumeSite.self))
struct ResumeTests {
    var url: String { Fixture.server.base + "/file.bin" }

    /// A download directory holding the first `bytes` bytes of the file as file.bin.
    func partialCopy(bytes: Int) throws -> String {
        let scratch = Fixture.scratch
        let directory = try scratch.downloads()
        try shell("head -c \"$1\" \"$2\" > \"$3\"", String(bytes), scratch.at("root/file.bin"), directory + "/file.bin")
        return directory
    }

    func expectIntact(_ directory: String, _ comment: String) throws {
        #expect(try sha256File(directory + "/file.bin") == Fixture.scratch.sha256("root/file.bin"), "\(comment)")
    }

    /// The access log line for the last request with this user agent.
    func lastStatus(agent: String) -> String? {
        let line = Fixture.server.ferry.output.split(separator: "\n").last { $0.hasSuffix("\"\(agent)\"") }
        return line.flatMap { $0.components(separatedBy: "\" ").dropFirst().first?.split(separator: " ").first.map(String.init) }
    }

    @Test(arguments: [1, 3 << 20, ResumeSite.size - 1])
    func curlResumesAPartialFile(have: Int) throws {
        let directory = try partialCopy(bytes: have)
        let agent = "curl-resume-\(UUID().uuidString)"
        let result = try run("curl", ["-sS", "-A", agent, "-C", "-", "-o", "file.bin", url], directory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        try expectIntact(directory, "curl -C - from \(have)")
        #expect(waitUntil(timeout: 5) { lastStatus(agent: agent) == "206" })
    }

    @Test(arguments: [1, 3 << 20, ResumeSite.size - 1])
    func wgetResumesAPartialFile(have: Int) throws {
        let directory = try partialCopy(bytes: have)
        let agent = "wget-resume-\(UUID().uuidString)"
        let result = try run("wget", ["-q", "-U", agent, "-c", url], directory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        try expectIntact(directory, "wget -c from \(have)")
        #expect(waitUntil(timeout: 5) { lastStatus(agent: agent) == "206" })
    }

    @Test func curlResumingACompleteFileEndsCleanly() throws {
        let directory = try partialCopy(bytes: ResumeSite.size)
        let agent = "curl-complete-\(UUID().uuidString)"
        let result = try run("curl", ["-sS", "-A", agent, "-C", "-", "-o", "file.bin", url], directory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        try expectIntact(directory, "curl -C - on a complete file")
        #expect(waitUntil(timeout: 5) { lastStatus(agent: agent) == "416" })
    }

    @Test func wgetResumingACompleteFileEndsCleanly() throws {
        let directory = try partialCopy(bytes: ResumeSite.size)
        let agent = "wget-complete-\(UUID().uuidString)"
        let result = try run("wget", ["-U", agent, "-c", url], timeout: 30, directory: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("already fully retrieved"), "\(result.stderr)")
        try expectIntact(directory, "wget -c on a complete file")
        #expect(waitUntil(timeout: 5) { lastStatus(agent: agent) == "416" })
    }

    /// A fresh download with resume flags is a plain 200 download.
    @Test func resumeFlagsWithoutAPartialFile() throws {
        let directory = try Fixture.scratch.downloads()
        #expect(try run("curl", ["-sS", "-C", "-", "-o", "file.bin", url], directory: directory).status == 0)
        try expectIntact(directory, "curl -C - from nothing")
        try FileManager.default.removeItem(atPath: directory + "/file.bin")
        #expect(try run("wget", ["-q", "-c", url], directory: directory).status == 0)
        try expectIntact(directory, "wget -c from nothing")
    }
}
