import Foundation
import Testing

private enum SchedulingSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/index.html", "<p>scheduled</p>\n")
    }
}

/// `[server] scheduling`, read back from the kernel: which policy each serving process
/// and thread runs under (sched_getscheduler of its pid or thread id).
@Suite(.fixture("scheduling", serving: nil, site: SchedulingSite.self))
struct SchedulingTests {
    // <sched.h>'s values; SCHED_BATCH and SCHED_IDLE are defined there only under
    // _GNU_SOURCE, which Swift's Glibc module does not set.
    static let other: Int32 = 0
    static let batch: Int32 = 3
    static let idle: Int32 = 5

    /// The policies of every thread of `pid` (from /proc/PID/task).
    static func threadPolicies(of pid: Int32) -> [Int32] {
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return threads.compactMap { Int32($0) }.map { sched_getscheduler($0) }
    }

    @Test func workersRunUnderBatchAndTheParentKeepsItsPolicy() throws {
        let server = try FerryServer(["--workers", "2", "--scheduling", "batch", Fixture.scratch.root])
        defer { server.stop() }
        #expect(try request(server.port, "/").status == 200)
        let workers = server.workers(atLeast: 2)
        #expect(workers.count == 2)
        #expect(workers.map { sched_getscheduler($0) } == [Self.batch, Self.batch])
        #expect(sched_getscheduler(server.pid) == Self.other, "the parent accepts and passes under the policy it was started with")
        #expect(server.ferry.output.contains("scheduling batch"), "the startup line says it: \(server.ferry.output)")
    }

    /// The default is normal: the workers run as started.
    @Test func byDefaultTheWorkersRunAsStarted() throws {
        let server = try FerryServer(["--workers", "2", Fixture.scratch.root])
        defer { server.stop() }
        let workers = server.workers(atLeast: 2)
        #expect(workers.count == 2)
        #expect(workers.map { sched_getscheduler($0) } == [Self.other, Self.other])
        #expect(server.ferry.output.contains("scheduling normal"), "the startup line says it: \(server.ferry.output)")
    }

    /// An operator's choice (here chrt --idle) is not overridden.
    @Test func aPolicySetWithChrtIsKept() throws {
        let server = try FerryServer(["--workers", "2", "--scheduling", "batch", Fixture.scratch.root],
                                     launcher: ["chrt", "--idle", "0"])
        defer { server.stop() }
        #expect(try request(server.port, "/").status == 200)
        let workers = server.workers(atLeast: 2)
        #expect(workers.count == 2)
        #expect(workers.map { sched_getscheduler($0) } == [Self.idle, Self.idle])
        #expect(!server.ferry.errors.contains("scheduling"), "nothing to report: \(server.ferry.errors)")
    }

    /// A model that serves in its own process sets the policy there, before it starts
    /// its threads, which inherit it.
    @Test(arguments: ["epoll", "prethread"])
    func aSingleProcessModelRunsUnderItWithItsThreads(model: String) throws {
        let server = try FerryServer(["--model", model, "--workers", "3", "--scheduling", "batch", Fixture.scratch.root])
        defer { server.stop() }
        #expect(try request(server.port, "/").status == 200)
        let policies = Self.threadPolicies(of: server.pid)
        #expect(!policies.isEmpty)
        #expect(policies.allSatisfy { $0 == Self.batch }, "\(model): \(policies)")
        if model == "prethread" { #expect(policies.count >= 4, "the main thread and 3 pool threads: \(policies)") }
    }
}
