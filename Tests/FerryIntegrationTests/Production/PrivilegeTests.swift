import Foundation
import Testing

private enum PrivilegeSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/open.txt", "anyone may read this\n")
        try scratch.write("root/locked.txt", "only root reads this\n")
        chmod(scratch.at("root/locked.txt"), 0o600)
        // A PNG without an extension: its type can only come from libmagic.
        try scratch.write("root/picture", bytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A,
                                                  0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])
        try scratch.write("errors/404.html", "our own 404 page\n")
    }
}

/// Started as root, ferry drops to [server] user/group in every process that serves,
/// and what such a process can no longer do is checked from the outside: its ids in
/// /proc, a file only root may read, its root directory under --chroot. Needs root
/// (CI and this machine run the tests as root).
@Suite(.serialized, .fixture("privileges", serving: nil, site: PrivilegeSite.self),
       .enabled(if: getuid() == 0, "dropping privileges needs the tests to run as root"))
struct PrivilegeTests {
    var scratch: Scratch { Fixture.scratch }

    /// "Uid:" or "Gid:" of /proc/PID/status: real, effective, saved and filesystem ids.
    static func ids(_ name: String, of pid: Int32) -> String {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
        return line.dropFirst(name.count + 1).split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ")
    }

    /// Waits until the server has `count` workers whose uid is `uid` (a worker drops
    /// right after fork, so one just forked may still show the parent's).
    static func workers(of server: FerryServer, count: Int, uid: String) -> [Int32] {
        var pids: [Int32] = []
        waitUntil(timeout: 10) {
            pids = server.workerPIDs()
            return pids.count == count && pids.allSatisfy { ids("Uid", of: $0) == "\(uid) \(uid) \(uid) \(uid)" }
        }
        return pids
    }

    @Test func workersDropToNobodyAndTheParentStaysRoot() throws {
        let server = try FerryServer(["--workers", "2", "--user", "nobody", "--group", "nogroup", scratch.root])
        defer { server.stop() }
        let workers = Self.workers(of: server, count: 2, uid: "65534")
        #expect(workers.count == 2)
        for pid in workers {
            #expect(Self.ids("Uid", of: pid) == "65534 65534 65534 65534")
            #expect(Self.ids("Gid", of: pid) == "65534 65534 65534 65534")
            #expect(Self.ids("Groups", of: pid) == "65534")
        }
        #expect(Self.ids("Uid", of: server.pid) == "0 0 0 0")
        #expect(try request(server.port, "/open.txt").status == 200)
        // Readable by root only: a worker that dropped cannot open it.
        #expect(try request(server.port, "/locked.txt").status == 403)
        #expect(server.ferry.errors.contains("ferry: serving as nobody:nogroup (uid 65534, gid 65534)\n"))
    }

    /// The same file is served when ferry is told to stay root: the 403 above is the drop.
    @Test func allowRootWithUserRootServesAsRoot() throws {
        let server = try FerryServer(["--workers", "1", "--allow-root", "--user", "root", scratch.root])
        defer { server.stop() }
        let workers = Self.workers(of: server, count: 1, uid: "0")
        #expect(workers.count == 1)
        let locked = try request(server.port, "/locked.txt")
        #expect(locked.status == 200)
        #expect(locked.bodyText == "only root reads this\n")
    }

    @Test func rootWithoutAllowRootIsRefused() throws {
        let result = try run(ferryBinary, ["serve", "--user", "root", "--port", "0", scratch.root], timeout: 30)
        #expect(result.status == 2)
        #expect(result.stderr == "ferry: refusing to serve as root; set [server] user (default nobody) or pass --allow-root\n")
    }

    @Test func unknownUserOrGroupStopsStartup() throws {
        let user = try run(ferryBinary, ["serve", "--user", "no-such-ferry-user", "--port", "0", scratch.root], timeout: 30)
        #expect(user.status == 2)
        #expect(user.stderr == "ferry: --user: unknown user \"no-such-ferry-user\"\n")
        let config = scratch.at("bad-group.toml")
        try scratch.write("bad-group.toml", "[server]\ngroup = \"no-such-ferry-group\"\n")
        let group = try run(ferryBinary, ["serve", "--config", config, "--port", "0", scratch.root], timeout: 30)
        #expect(group.status == 2)
        #expect(group.stderr == "ferry: [server] group: unknown group \"no-such-ferry-group\"\n")
    }

    /// --chroot: a worker's root directory is the document root, and what was opened
    /// before the drop still works inside it: the root, the magic database (a type
    /// sniffed from content) and an error pages directory outside the root.
    @Test func chrootConfinesWorkersToTheDocumentRoot() throws {
        let server = try FerryServer(["--workers", "2", "--chroot", "--error-pages", scratch.at("errors"), scratch.root])
        defer { server.stop() }
        let workers = Self.workers(of: server, count: 2, uid: "65534")
        #expect(workers.count == 2)
        for pid in workers {
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root")) == scratch.root)
        }
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.pid)/root")) == "/")
        #expect(try request(server.port, "/open.txt").bodyText == "anyone may read this\n")
        #expect(try request(server.port, "/picture").field("Content-Type") == "image/png")
        let missing = try request(server.port, "/missing")
        #expect(missing.status == 404)
        #expect(missing.bodyText == "our own 404 page\n")
        #expect(try request(server.port, "/locked.txt").status == 403)
    }

    /// A single-process model has no privileged parent: the process itself drops.
    @Test func singleProcessModelDropsItself() throws {
        let server = try FerryServer(["--model", "epoll", scratch.root])
        defer { server.stop() }
        #expect(waitUntil(timeout: 10) { Self.ids("Uid", of: server.pid) == "65534 65534 65534 65534" })
        #expect(try request(server.port, "/open.txt").status == 200)
        #expect(try request(server.port, "/locked.txt").status == 403)
    }

    /// Every other model drops too: each forked process that serves, or the process.
    @Test(arguments: ["prefork-pass", "prefork-accept", "fork", "thread", "prethread", "select", "poll", "iterative"])
    func everyModelServesDropped(model: String) throws {
        let server = try FerryServer(["--model", model, "--workers", "2", scratch.root])
        defer { server.stop() }
        #expect(try request(server.port, "/open.txt").status == 200)
        #expect(try request(server.port, "/locked.txt").status == 403)
    }

    /// Without CAP_SETUID (a bounding set that lacks it) setuid fails: ferry says so in
    /// one line and does not start, whether workers or the process itself would drop.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs setpriv (util-linux)"),
          arguments: ["prefork-pass-epoll", "epoll"])
    func aDropThatCannotWorkStopsStartup(model: String) throws {
        let result = try run("/usr/bin/setpriv", ["--bounding-set", "-setuid", ferryBinary, "serve", "--model", model,
                                                  "--port", "0", scratch.root], timeout: 30)
        #expect(result.status == 1)
        #expect(result.stderr.hasSuffix("ferry: cannot drop privileges: setuid nobody (65534): Operation not permitted\n"))
        #expect(!result.text.contains("Ferry serving"))
    }

    /// Started as another user nothing can be dropped: user and group are ignored,
    /// silently when unset, with one line when set to another than the process's own.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs setpriv (util-linux)"))
    func startedAsAnotherUserItIgnoresTheSettings() throws {
        chmod(scratch.path, 0o755)  // mkdtemp's 0700 would keep nobody out of the root
        let asNobody = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
        let quiet = try FerryServer(["--workers", "1", "--user", "nobody", scratch.root], launcher: asNobody)
        #expect(try request(quiet.port, "/open.txt").status == 200)
        let quietErrors = quiet.stop().stderr
        #expect(!quietErrors.contains("ignored") && !quietErrors.contains("serving as"))

        let warned = try FerryServer(["--workers", "1", "--user", "www-data", "--chroot", scratch.root], launcher: asNobody)
        #expect(try request(warned.port, "/open.txt").status == 200)
        let warnings = warned.stop().stderr
        #expect(warnings.contains("ferry: [server] user \"www-data\" ignored: not started as root (running as nobody)\n"))
        #expect(warnings.contains("ferry: [server] chroot ignored: only root can chroot; serving without it\n"))
        #expect(!warnings.contains("serving as"))
    }
}
