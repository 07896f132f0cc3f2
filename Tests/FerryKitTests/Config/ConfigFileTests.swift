import Glibc
import Testing
@testable import FerryKit

@Suite struct ConfigFileTests {
    @Test func loadsAFileAndResolvesPathsBesideIt() throws {
        var directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.write("ferry.toml", Array("[server]\nroot = \"site\"\n[log]\naccess = \"access.log\"\n".utf8))
        let config = try ConfigLoader.load(path: file, models: testModels)
        let canonical = try ConfigPath.directory(of: file)
        #expect(config.root == "\(canonical)/site")
        #expect(config.accessLog == .file("\(canonical)/access.log"))
    }

    @Test func missingFileAndDirectoryCannotBeRead() throws {
        #expect(throws: ConfigError("/nonexistent/ferry.toml: cannot read: No such file or directory")) {
            try ConfigLoader.load(path: "/nonexistent/ferry.toml", models: testModels)
        }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        #expect(throws: ConfigError("\(directory.path): cannot read: Is a directory")) {
            try ConfigLoader.load(path: directory.path, models: testModels)
        }
    }

    @Test func errorsNameTheFileAsGiven() throws {
        var directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.write("ferry.toml", Array("[server]\nport = 70000\n".utf8))
        #expect(throws: ConfigError("\(file): [server] port: expected an integer from 0 to 65535, got 70000")) {
            try ConfigLoader.load(path: file, models: testModels)
        }
    }

    @Test func rejectsBinaryAndHugeFiles() throws {
        var directory = TemporaryDirectory()
        defer { directory.remove() }
        let binary = directory.write("binary.toml", [0x23, 0xFF, 0xFE, 0x0A])
        #expect(throws: ConfigError("\(binary): cannot read: not UTF-8 text")) {
            try ConfigLoader.load(path: binary, models: testModels)
        }
        let huge = directory.write("huge.toml", [UInt8](repeating: 0x0A, count: ConfigFile.maximumBytes + 1))
        #expect(throws: ConfigError("\(huge): cannot read: File too large")) {
            try ConfigLoader.load(path: huge, models: testModels)
        }
    }

    @Test func directoryOfAFileIsCanonical() throws {
        #expect(try ConfigPath.directory(of: "/proc/self/status") == "/proc/\(getpid())")
        #expect(try ConfigPath.directory(of: "/etc/../etc/hostname") == "/etc")
        #expect(throws: SystemError.self) { try ConfigPath.directory(of: "/nonexistent/x") }
    }
}
