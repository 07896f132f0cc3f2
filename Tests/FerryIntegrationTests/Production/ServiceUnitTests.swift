import Foundation
import Testing

private enum ServiceUnitSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/index.html", "<!DOCTYPE html><title>service</title>\n")
        try scratch.write("root/locked.txt", "root only\n")
        chmod(scratch.at("root/locked.txt"), 0o600)
    }
}

/// The shipped systemd units: systemd's own checker accepts them, and ferry started
/// the way ferry.service starts it (its capability bounding set, NoNewPrivileges)
/// still drops to nobody, chroots, replaces a killed worker and stops cleanly.
@Suite(.serialized, .fixture("service-unit", serving: nil, site: ServiceUnitSite.self))
struct ServiceUnitTests {
    var scratch: Scratch { Fixture.scratch }

    static func unit(_ name: String) throws -> String {
        try String(contentsOfFile: packageRoot + "/conf/" + name, encoding: .utf8)
    }

    /// The value of the first `Key=` line of a unit.
    static func setting(_ key: String, in unit: String) -> String? {
        unit.split(separator: "\n").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"),
                   "systemd-analyze is missing (Debian package systemd)"))
    func unitsPassSystemdAnalyzeVerify() throws {
        // verify insists that ExecStart's program exists: point it at the built binary.
        let service = try Self.unit("ferry.service")
        #expect(Self.setting("ExecStart", in: service) == "/usr/local/bin/ferry serve --config /etc/ferry/ferry.toml /srv/www")
        try scratch.write("units/ferry.service", service.replacingOccurrences(of: "/usr/local/bin/ferry", with: ferryBinary))
        try scratch.write("units/ferry.socket", try Self.unit("ferry.socket"))
        let result = try run("/usr/bin/systemd-analyze", ["verify", scratch.at("units/ferry.socket"),
                                                          scratch.at("units/ferry.service")], timeout: 60)
        #expect(result.status == 0)
        #expect(result.stderr == "")
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "needs root and setpriv (util-linux)"))
    func dropsAndStopsUnderTheServiceHardening() throws {
        let service = try Self.unit("ferry.service")
        #expect(Self.setting("NoNewPrivileges", in: service) == "yes")
        let capabilities = try #require(Self.setting("CapabilityBoundingSet", in: service))
            .split(separator: " ").map { "+" + $0.dropFirst("CAP_".count).lowercased() }
        let server = try FerryServer(["--workers", "2", "--chroot", scratch.root], launcher: [
            "setpriv", "--bounding-set", (["-all"] + capabilities).joined(separator: ","), "--no-new-privs",
        ])
        defer { server.stop() }
        #expect(try request(server.port, "/").status == 200)
        #expect(try request(server.port, "/locked.txt").status == 403)
        var workers: [Int32] = []
        #expect(waitUntil(timeout: 10) {
            workers = server.workerPIDs()
            return workers.count == 2 && workers.allSatisfy { PrivilegeTests.ids("Uid", of: $0) == "65534 65534 65534 65534" }
        })
        // The root parent, without CAP_DAC_OVERRIDE or most else, still signals and replaces them.
        let killed = try #require(workers.first)
        kill(killed, SIGKILL)
        #expect(server.ferry.waitForErrors("(pid \(killed)) was killed by signal 9"))
        #expect(waitUntil(timeout: 10) { server.workerPIDs().count == 2 && !server.workerPIDs().contains(killed) })
        #expect(try request(server.port, "/").status == 200)
        let stopped = server.stop()
        #expect(stopped.status == 0)
    }
}
