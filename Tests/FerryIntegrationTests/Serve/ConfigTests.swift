import Foundation
import Testing

private enum ConfigSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/file.txt", "from the root\n")
        try scratch.write("root/docs/a.txt", "a\n")
        try scratch.write("other/file.txt", "from the other root\n")
    }
}

/// `ferry serve --config FILE`: a bad file stops startup with exit status 2 and one
/// line naming the file, the key and the problem; a good one is applied; flags win.
@Suite(.fixture("config", serving: nil, site: ConfigSite.self))
struct ConfigTests {
    /// Starts `ferry serve --config FILE` with `toml` and expects it to refuse.
    func expectRefusal(_ toml: String, naming words: [String]) throws {
        let scratch = Fixture.scratch
        let path = try configFile(scratch, toml)
        let ferry = try FerryProcess(["serve", "--config", path, "--port", "0", scratch.root])
        let (status, stdout, stderr) = ferry.wait(timeout: 20)
        #expect(status == 2, "\(toml): exit \(status), \(stderr)")
        #expect(!stdout.contains("serving"), "\(toml)")
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "one line, got: \(stderr)")
        let line = String(lines.first ?? "")
        #expect(line.hasPrefix("ferry: "), "\(line)")
        #expect(line.contains(path), "names the file: \(line)")
        for word in words { #expect(line.contains(word), "\(word) in \(line)") }
    }

    @Test func unknownKey() throws {
        try expectRefusal("[server]\nprot = 8080\n", naming: ["[server]", "prot", "unknown key"])
    }

    @Test func unknownSection() throws {
        try expectRefusal("[sever]\nport = 8080\n", naming: ["sever", "unknown section"])
    }

    @Test func wrongType() throws {
        try expectRefusal("[server]\nport = \"8080\"\n", naming: ["[server] port", "expected an integer", "a string"])
        try expectRefusal("[http]\nlisting = \"no\"\n", naming: ["[http] listing", "a string"])
    }

    @Test func badValue() throws {
        try expectRefusal("[server]\nport = 70000\n", naming: ["[server] port", "70000"])
        try expectRefusal("[body]\nmode = \"mmap\"\n", naming: ["[body] mode", "mmap"])
        try expectRefusal("[limits]\nhead_timeout = 0\n", naming: ["[limits] head_timeout"])
    }

    @Test func syntaxError() throws {
        try expectRefusal("[server]\nport = 80\nhost = \n", naming: ["line 3"])
    }

    @Test func missingFile() throws {
        let scratch = Fixture.scratch
        let path = scratch.at("no-such.toml")
        let ferry = try FerryProcess(["serve", "--config", path, "--port", "0", scratch.root])
        let (status, _, stderr) = ferry.wait(timeout: 20)
        #expect(status == 2)
        #expect(stderr.contains(path) && stderr.contains("cannot read"), "\(stderr)")
    }

    /// The file's settings are applied: server name, listing off, copy mode.
    @Test func settingsAreApplied() throws {
        let scratch = Fixture.scratch
        let config = try configFile(scratch, """
            [http]
            server_name = "Test-Ferry/1"
            listing = false
            [body]
            mode = "copy"
            """)
        let server = try FerryServer(["--config", config, scratch.root])
        let file = try request(server.port, "/file.txt")
        #expect(file.field("Server") == "Test-Ferry/1")
        #expect(try request(server.port, "/docs/").status == 403)
        let report = server.stop().stdout
        #expect(report.contains("copy, cork on"), "the startup line names the mode")
        #expect(report.contains("total: 2 connections, 2 requests, 0 bytes via sendfile, 14 bytes via copy"), "\(report)")
    }

    /// Flags override the file: the directory, the body mode, the access log, the
    /// worker count, the port.
    @Test func flagsOverrideTheFile() throws {
        let scratch = Fixture.scratch
        let config = try configFile(scratch, """
            [server]
            root = "other"
            port = 1
            workers = 3
            [body]
            mode = "copy"
            [log]
            access = "off"
            """)
        // root = "other" is relative to the config file's directory: the scratch tree.
        let fromFile = try FerryServer(["--config", config])
        #expect(try request(fromFile.port, "/file.txt").bodyText == "from the other root\n")
        #expect(fromFile.workers(atLeast: 3).count >= 3, "[server] workers = 3")
        let fromFileOutput = fromFile.stop().stdout
        #expect(fromFileOutput.contains("3 workers, copy"), "\(fromFileOutput)")
        #expect(!fromFileOutput.contains("\"GET /file.txt"), "access = off")

        let overridden = try FerryServer(["--config", config, "--sendfile", "--access-log", "stdout",
                                          "--workers", "2", "--max-workers", "2", scratch.root])
        #expect(overridden.port != 1)
        #expect(try request(overridden.port, "/file.txt").bodyText == "from the root\n")
        #expect(overridden.workers(atLeast: 2).count == 2)
        let output = overridden.stop().stdout
        #expect(output.contains("\"GET /file.txt HTTP/1.0\" 200 14"), "\(output)")
        #expect(output.contains("total: 1 connections, 1 requests, 14 bytes via sendfile, 0 bytes via copy"), "\(output)")
    }

    /// A flag's value is held to the key's range in `ConfigSchema`, and the error names
    /// the flag: one line, exit status 2, nothing served.
    @Test(arguments: [
        (["--max-workers", "2000"], "--max-workers: expected an integer from 1 to 1024, got 2000"),
        (["--workers", "0"], "--workers: expected an integer from 1 to 1024, got 0"),
        (["--workers", "1025"], "--workers: expected an integer from 1 to 1024, got 1025"),
        (["--port", "70000"], "--port: expected an integer from 0 to 65535, got 70000"),
        (["--workers", "4", "--max-workers", "2"], "--max-workers: must be at least workers (4), got 2"),
        (["--model", "nope"], "--model: unknown model \"nope\""),
        (["--host", ""], "--host: expected a host name or address"),
        (["--access-log", ""], "--access-log: expected \"stdout\", \"off\" or a file path"),
        (["--max-connections", "0"], "--max-connections: expected an integer from 1 to 1048576, got 0"),
        (["--max-connections-per-address", "2000000"],
         "--max-connections-per-address: expected an integer from 0 to 1048576, got 2000000"),
        (["--keepalive-timeout", "4000"], "--keepalive-timeout: expected a number of seconds from 0"),
        (["--keepalive-requests", "0"], "--keepalive-requests: expected an integer from 1 to 1000000, got 0"),
        (["--scheduling", "fifo"], "--scheduling: expected \"batch\" or \"normal\", got \"fifo\""),
    ])
    func flagOutOfRangeNamesTheFlag(_ flags: [String], _ expected: String) throws {
        let ferry = try FerryProcess(["serve", "--port", "0"] + flags + [Fixture.scratch.root])
        let (status, stdout, stderr) = ferry.wait(timeout: 20)
        #expect(status == 2, "\(flags): exit \(status), \(stderr)")
        #expect(!stdout.contains("serving"))
        let lines = stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line, got: \(stderr)")
        #expect(lines.first?.hasPrefix("ferry: " + expected) == true, "\(stderr)")
        #expect(!stderr.contains("[server]") && !stderr.contains("[log]"), "names the flag, not the key: \(stderr)")
    }

    /// The range is the configuration key's: the file's value is judged the same way,
    /// and named by its key.
    @Test func fileValueOutOfRangeNamesTheKey() throws {
        try expectRefusal("[server]\nmax_workers = 2000\n",
                          naming: ["[server] max_workers: expected an integer from 1 to 1024, got 2000"])
    }

    /// A document root that does not exist is a clear one-line error, not a crash.
    @Test func missingDocumentRoot() throws {
        let path = Fixture.scratch.at("no-such-directory")
        let ferry = try FerryProcess(["serve", "--port", "0", path])
        let (status, _, stderr) = ferry.wait(timeout: 20)
        #expect(status != 0)
        #expect(stderr.contains(path) && stderr.contains("does not exist"), "\(stderr)")
        #expect(stderr.split(separator: "\n").count == 1, "\(stderr)")
    }
}
