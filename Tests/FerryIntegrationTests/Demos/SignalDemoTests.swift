import Foundation
import Testing

/// The csdesign document's tricks with signals: a RST and what writing after it does (rst +
/// sigpipe), and waiting for a signal in select with and without a race
/// (selsigrace, selfpipe, pselect, signalfd). Real processes, real signals. A test
/// that stops early leaves its process to FerryProcess's deinit, which kills it
/// (stopping twice would wait out PipeCollector.finish a second time).
@Suite struct SignalDemoTests {
    @Test func sigpipeShowsTheResetThenSIGPIPEThenBrokenPipe() throws {
        let server = try FerryProcess(["demo", "rst", "-i", "127.0.0.1", "-p", "0"])
        let port = try #require(server.announcedPort(timeout: 10), "rst printed no port: \(server.errors)")

        let client = try run(ferryBinary, ["demo", "sigpipe", "-i", "127.0.0.1", "-p", String(port)], timeout: 30)
        #expect(client.status == 0, "\(client.stderr)")
        let cases = client.text.components(separatedBy: "\n\n")
        try #require(cases.count == 4, "expected a header and three cases: \(client.text)")
        // 1. read gets the RST; the write in a child with SIGPIPE at its default kills it.
        #expect(cases[1].contains("read: [Errno 104] Connection reset by peer"), "\(cases[1])")
        #expect(cases[1].range(of: #"child \d+ was killed by signal 13 \(Broken pipe\)"#,
                               options: .regularExpression) != nil, "\(cases[1])")
        // 2. the same with SIGPIPE ignored: EPIPE.
        #expect(cases[2].contains("read: [Errno 104] Connection reset by peer"), "\(cases[2])")
        #expect(cases[2].contains("write: [Errno 32] Broken pipe"), "\(cases[2])")
        // 3. writing first: the pending ECONNRESET once, without a signal; then SIGPIPE.
        #expect(cases[3].range(of: #"child \d+: write: \[Errno 104\] Connection reset by peer"#,
                               options: .regularExpression) != nil, "\(cases[3])")
        #expect(cases[3].contains("was killed by signal 13 (Broken pipe)"), "\(cases[3])")

        let stopped = server.stop(signal: SIGINT, timeout: 10)
        #expect(stopped.status == 0)
        #expect(stopped.stdout.components(separatedBy: "sent RST to 127.0.0.1:").count - 1 == 3, "\(stopped.stdout)")
        #expect(stopped.stdout.contains("stopped after resetting 3 connections"))
    }

    @Test(arguments: ["selfpipe", "pselect", "signalfd"], [true, false])
    func raceFreeDemoGetsTheSignal(demo: String, sentDuringTheSleep: Bool) throws {
        let process = try FerryProcess(["demo", demo, "--sleep", "1"])
        try #require(process.waitForOutput("Sleep for 1 secs", timeout: 10), "\(process.output)\(process.errors)")
        if !sentDuringTheSleep {
            try #require(process.waitForOutput("Wake up and block in", timeout: 10))
        }
        kill(process.pid, SIGUSR1)
        let result = process.wait(timeout: 10)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("PID: \(process.pid)\n"), "\(result.stdout)")
        // Acted on only after the sleep, and not missed.
        let wake = try #require(result.stdout.range(of: "Wake up and block in"), "\(result.stdout)")
        let got = try #require(result.stdout.range(of: "Got signal"), "\(result.stdout)")
        #expect(wake.upperBound <= got.lowerBound)
    }

    /// As the csdesign document's selfpipe.py: no sleep by default, so one SIGUSR1 ends
    /// it at once, whether it comes right after the PID line (it may beat the wait) or
    /// once the process is asleep in the wait.
    @Test(arguments: ["selfpipe", "pselect", "signalfd"], [true, false])
    func raceFreeDemoWaitsAtOnceByDefault(demo: String, sentAtOnce: Bool) throws {
        let start = Date()
        let process = try FerryProcess(["demo", demo])
        try #require(process.waitForOutput("PID: \(process.pid)\n", timeout: 10), "\(process.output)\(process.errors)")
        if !sentAtOnce {
            try #require(waitUntil(timeout: 10) { Self.state(of: process.pid) == "S" }, "never blocked")
        }
        kill(process.pid, SIGUSR1)
        let result = process.wait(timeout: 10)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("PID: \(process.pid)\nGot signal\n"), "\(result.stdout)")
        #expect(!result.stdout.contains("Sleep for"), "\(result.stdout)")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    /// selsigrace keeps the document's 10-second window by default.
    @Test func selsigraceSleepsTenSecondsByDefault() throws {
        let process = try FerryProcess(["demo", "selsigrace"])
        #expect(process.waitForOutput("Sleep for 10 secs", timeout: 10), "\(process.output)\(process.errors)")
        process.stop(signal: SIGKILL)
    }

    /// The state letter in /proc/PID/stat: "R" running, "S" asleep (here: in the wait).
    static func state(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    @Test func selsigraceMissesASignalSentBeforeSelectAndEndsOnTheNext() throws {
        let process = try FerryProcess(["demo", "selsigrace", "--sleep", "2"])
        try #require(process.waitForOutput("Sleep for 2 secs", timeout: 10), "\(process.output)\(process.errors)")
        kill(process.pid, SIGUSR1)
        try #require(process.waitForOutput("Wake up and block in \"select\"", timeout: 10))

        // The handler ran during the sleep, but select blocks: the signal is missed.
        usleep(1_500_000)
        #expect(process.process.isRunning)
        #expect(!process.output.contains("Got signal"))

        kill(process.pid, SIGUSR1)
        let result = process.wait(timeout: 10)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Got signal"), "\(result.stdout)")
        #expect(result.stdout.contains("the handler ran 2 times"), "\(result.stdout)")
    }
}
