import Foundation
import Testing

private enum FileChangeSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/load/one.txt", String(repeating: "1", count: 1024))
        try scratch.write("root/load/two.txt", String(repeating: "2", count: 2048))
    }
}

/// The open-file cache is never stale: each file is changed right after it was served
/// (so every worker's cache holds it), under load, in every way a deploy or an editor
/// changes files, and asked for at once over a connection kept from before the
/// change, one opened before it but not used yet, and a new one. Every answer must
/// match the file's state after the change: status, validators and bytes.
@Suite(.fixture("file-changes", serving: nil, site: FileChangeSite.self))
struct FileChangeTests {
    enum Change: String, CaseIterable {
        case rewriteInPlace, renameOver, renameOverKeepingTimeAndSize, truncate, delete, chmod
        case sidecarCreated, sidecarRemoved, directoryRenamed
    }

    static let rounds = 12
    var root: String { Fixture.scratch.root }

    @Test(arguments: Change.allCases)
    func noStaleAnswer(_ change: Change) throws {
        let server = try FerryServer(["--access-log", "off", root])
        defer { server.stop() }
        let load = BackgroundLoad(port: server.port, paths: ["/load/one.txt", "/load/two.txt"])
        defer { load.stop() }
        var stale: [String] = []
        var answers = 0
        for round in 0..<Self.rounds {
            let file = try prepare(change, round: round)
            // Served first, over several connections so that both workers cache it.
            let kept = try RawClient(port: server.port, receiveTimeout: 10)
            for client in [kept] + (try (0..<3).map { _ in try RawClient(port: server.port, receiveTimeout: 10) }) {
                if let problem = ask(client, file) { stale.append("before the change, round \(round): \(problem)") }
            }
            let openedBefore = try RawClient(port: server.port, receiveTimeout: 10)
            let asked = try apply(change, to: file, round: round)
            for (label, client) in [("kept", kept), ("opened before", openedBefore),
                                    ("new", try RawClient(port: server.port, receiveTimeout: 10))] {
                for path in asked {
                    answers += 1
                    if let problem = ask(client, path) { stale.append("\(label) connection, round \(round): \(problem)") }
                }
            }
        }
        #expect(load.served > 0, "the load ran")
        #expect(stale.isEmpty, "\(stale.count) stale answers of \(answers): \(stale.prefix(5))")
    }

    // MARK: the changes

    /// A file's request path and whether it is asked for with gzip accepted.
    struct Asked {
        var path: String
        var acceptsGzip = false
    }

    private func prepare(_ change: Change, round: Int) throws -> Asked {
        let scratch = Fixture.scratch
        let name = "root/\(change.rawValue).txt"
        switch change {
        case .directoryRenamed:
            // Two levels above the file: every ancestor must be watched. Each round
            // renames it back and forth.
            let current = round % 2 == 0 ? "dA" : "dB"
            if round == 0 { try scratch.write("root/\(current)/sub/x.txt", content(round)) }
            return Asked(path: "/\(current)/sub/x.txt")
        case .delete:
            try scratch.write(name, content(round))
        case .chmod:
            try scratch.write(name, content(round))
            chmod(scratch.at(name), 0o644)
        case .sidecarCreated:
            try scratch.write(name, content(round))
            unlink(scratch.at(name + ".gz"))
            return Asked(path: "/\(change.rawValue).txt", acceptsGzip: true)
        case .sidecarRemoved:
            try scratch.write(name, content(round))
            try gzipBeside(scratch.at(name))
            return Asked(path: "/\(change.rawValue).txt", acceptsGzip: true)
        case .rewriteInPlace, .renameOver, .renameOverKeepingTimeAndSize, .truncate:
            try scratch.write(name, content(round))
        }
        return Asked(path: "/\(change.rawValue).txt")
    }

    /// Makes the change; returns the paths to ask for afterwards.
    private func apply(_ change: Change, to asked: Asked, round: Int) throws -> [Asked] {
        let path = root + asked.path
        switch change {
        case .rewriteInPlace:
            // Same size, new bytes, through the same inode (and perhaps within the same
            // tick of the file system's clock, so even the mtime may not change).
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.write(contentsOf: Data("REWRITTEN-\(round)-".utf8))
            try handle.close()
        case .renameOver:
            try Data(content(round + 100).utf8).write(to: URL(fileURLWithPath: path + ".new"))
            rename(path + ".new", path)
        case .renameOverKeepingTimeAndSize:
            // As rsync -t and cp -p replace files: the same size and mtime, another inode.
            var old = stat()
            stat(path, &old)
            try Data(content(round + 200).utf8).write(to: URL(fileURLWithPath: path + ".new"))
            var times = [old.st_atim, old.st_mtim]
            utimensat(AT_FDCWD, path + ".new", &times, 0)
            rename(path + ".new", path)
        case .truncate:
            truncate(path, 7)
        case .delete:
            unlink(path)
        case .chmod:
            chmod(path, 0)
        case .sidecarCreated:
            try gzipBeside(path)
        case .sidecarRemoved:
            unlink(path + ".gz")
        case .directoryRenamed:
            let from = asked.path.split(separator: "/")[0]
            let to = from == "dA" ? "dB" : "dA"
            rename(root + "/" + from, root + "/" + to)
            return [asked, Asked(path: "/\(to)/sub/x.txt")]
        }
        return [asked]
    }

    private func content(_ round: Int) -> String {
        "round \(round) of the file, " + String(repeating: "\(round % 10)", count: 60) + "\n"
    }

    /// `file.gz` beside `file`, newer than it (a sidecar older than its file is never used).
    private func gzipBeside(_ path: String) throws {
        try shell("gzip -c -n \"$1\" > \"$1.gz\" && touch -d '+1 second' \"$1.gz\"", path)
    }

    // MARK: checking an answer against the file

    /// Asks for `asked` on `client`; nil when the answer matches the file's state now,
    /// else what differs.
    private func ask(_ client: RawClient, _ asked: Asked) -> String? {
        let expected = Self.expectedAnswer(root + asked.path, acceptsGzip: asked.acceptsGzip)
        client.send("GET \(asked.path) HTTP/1.1\r\nHost: x\r\n" + (asked.acceptsGzip ? "Accept-Encoding: gzip\r\n" : "")
                    + "\r\n")
        let response = client.readResponse()
        if response.status != expected.status {
            return "\(asked.path): status \(response.status), the file says \(expected.status)"
        }
        guard expected.status == 200 else { return nil }
        if response.field("ETag") != expected.etag {
            return "\(asked.path): ETag \(response.field("ETag") ?? "none"), the file's is \(expected.etag ?? "")"
        }
        if response.field("Content-Encoding") != expected.encoding {
            return "\(asked.path): Content-Encoding \(response.field("Content-Encoding") ?? "none"), "
                + "expected \(expected.encoding ?? "none")"
        }
        return response.body == expected.body ? nil : "\(asked.path): a body of another version"
    }

    struct ExpectedAnswer {
        var status: Int
        var etag: String?
        var encoding: String?
        var body: [UInt8] = []
    }

    /// What Ferry must answer for the file at `path` as it is now: 404 when it is gone,
    /// 403 when the server cannot read it, else its bytes (or its sidecar's, for a
    /// client that accepts gzip and a sidecar no older than the file) and ETag.
    static func expectedAnswer(_ path: String, acceptsGzip: Bool) -> ExpectedAnswer {
        var status = stat()
        guard stat(path, &status) == 0 else { return ExpectedAnswer(status: 404) }
        // The server reads as nobody when the tests run as root, else as this user.
        let readable = getuid() == 0 ? status.st_mode & 0o004 != 0 : status.st_mode & 0o400 != 0
        guard readable else { return ExpectedAnswer(status: 403) }
        var sidecar = stat()
        if acceptsGzip, stat(path + ".gz", &sidecar) == 0,
           (sidecar.st_mtim.tv_sec, sidecar.st_mtim.tv_nsec) >= (status.st_mtim.tv_sec, status.st_mtim.tv_nsec) {
            return ExpectedAnswer(status: 200, etag: etag(sidecar), encoding: "gzip",
                                  body: Array((try? Data(contentsOf: URL(fileURLWithPath: path + ".gz"))) ?? Data()))
        }
        return ExpectedAnswer(status: 200, etag: etag(status), encoding: nil,
                              body: Array((try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()))
    }

    /// Ferry's strong ETag: inode, size, mtime seconds and nanoseconds in hex.
    static func etag(_ status: stat) -> String {
        let parts = [UInt64(status.st_ino), UInt64(status.st_size), UInt64(bitPattern: Int64(status.st_mtim.tv_sec)),
                     UInt64(status.st_mtim.tv_nsec)]
        return "\"" + parts.map { String($0, radix: 16) }.joined(separator: "-") + "\""
    }
}

/// Clients asking for `paths` in a loop over kept connections, so the workers'
/// event loops are busy (several sessions per wakeup) while files change.
final class BackgroundLoad: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var count = 0
    private var threads: [Thread] = []
    private let finished = DispatchGroup()

    init(port: Int, paths: [String], clients: Int = 3) {
        for index in 0..<clients {
            finished.enter()
            let thread = Thread { [self] in
                defer { finished.leave() }
                guard let client = try? RawClient(port: port, receiveTimeout: 5) else { return }
                var iteration = index
                // Bounded: at most a minute's worth, whatever the test does.
                for _ in 0..<200_000 {
                    if lock.withLock({ stopping }) { return }
                    client.send("GET \(paths[iteration % paths.count]) HTTP/1.1\r\nHost: x\r\n\r\n")
                    guard client.readResponse().status == 200 else { return }
                    lock.withLock { count += 1 }
                    iteration += 1
                }
            }
            threads.append(thread)
            thread.start()
        }
    }

    var served: Int { lock.withLock { count } }

    func stop() {
        lock.withLock { stopping = true }
        _ = finished.wait(timeout: .now() + 10)
    }
}
