import Dispatch
import Glibc
import Testing
@testable import FerryKit

/// How DocumentRoot resolves paths: every traversal test runs against both.
enum RootResolution: String, CaseIterable, CustomTestStringConvertible {
    case openat2
    case realpathFallback

    var testDescription: String { rawValue }
}

/// A served directory `root/` with neighbours outside it:
///
///     outside/secret.txt             "outside secret"
///     root/a.txt                     "hello"
///     root/docs/b.txt                "docs b"
///     root/docs/up -> ../a.txt       inside to inside, through ".."
///     root/link-inside -> docs/b.txt
///     root/link-passwd -> /etc/passwd
///     root/link-outside -> ../outside
///     root/link-outside-absolute -> <tree>/outside
///     root/loop -> loop
private struct Fixture {
    let tree: TemporaryTree
    let root: DocumentRoot

    init(_ resolution: RootResolution) throws {
        tree = try TemporaryTree()
        try tree.makeDirectory("outside")
        try tree.write("outside/secret.txt", "outside secret")
        try tree.makeDirectory("root")
        try tree.write("root/a.txt", "hello")
        try tree.makeDirectory("root/docs")
        try tree.write("root/docs/b.txt", "docs b")
        try tree.symlink("root/docs/up", to: "../a.txt")
        try tree.symlink("root/link-inside", to: "docs/b.txt")
        try tree.symlink("root/link-passwd", to: "/etc/passwd")
        try tree.symlink("root/link-outside", to: "../outside")
        try tree.symlink("root/link-outside-absolute", to: tree.at("outside"))
        try tree.symlink("root/loop", to: "loop")
        root = try DocumentRoot(path: tree.at("root"), allowOpenat2: resolution == .openat2)
    }

    func open(_ relative: String) -> Result<OpenedFile, OpenFailure> {
        root.open(Array(relative.utf8))
    }

    /// The contents of the opened file, closing it; nil when the open failed.
    func read(_ relative: String) -> [UInt8]? {
        guard case .success(let file) = open(relative) else { return nil }
        defer { close(file.fd) }
        return TemporaryTree.readAll(file.fd)
    }
}

@Suite struct DocumentRootTests {
    @Test(arguments: RootResolution.allCases)
    func opensFilesAndDirectoriesBeneathTheRoot(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }

        #expect(fixture.read("a.txt") == Array("hello".utf8))
        #expect(fixture.read("docs/b.txt") == Array("docs b".utf8))
        #expect(fixture.read("docs/../a.txt") == Array("hello".utf8))
        #expect(fixture.root.usesOpenat2 == (resolution == .openat2), "the chosen resolution was used")

        guard case .success(let file) = fixture.open("a.txt") else {
            Issue.record("a.txt did not open")
            return
        }
        defer { close(file.fd) }
        #expect(file.info.kind == .regular)
        #expect(file.info.size == 5)
        #expect(file.info == (try FileInfo.of(file.fd)))
        #expect(fcntl(file.fd, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test(arguments: RootResolution.allCases)
    func emptyPathOpensTheRootItself(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }

        guard case .success(let file) = fixture.root.open([]) else {
            Issue.record("the root did not open")
            return
        }
        defer { close(file.fd) }
        var status = stat()
        try TemporaryTree.check(stat(fixture.tree.at("root"), &status), "stat")
        #expect(file.info == FileInfo(status))
        #expect(file.info.kind == .directory)

        guard case .success(let docs) = fixture.open("docs") else {
            Issue.record("docs did not open")
            return
        }
        defer { close(docs.fd) }
        #expect(docs.info.kind == .directory)
    }

    @Test(arguments: RootResolution.allCases)
    func symlinksThatStayInsideWork(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }

        #expect(fixture.read("link-inside") == Array("docs b".utf8))
        #expect(fixture.read("docs/up") == Array("hello".utf8))
    }

    /// RESOLVE_BENEATH refuses every absolute symlink; the realpath fallback only
    /// checks where it lands. Either way nothing outside is opened.
    @Test(arguments: RootResolution.allCases)
    func absoluteSymlinksInsideDependOnTheResolution(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }
        try fixture.tree.symlink("root/absolute-inside", to: fixture.tree.at("root/a.txt"))

        switch resolution {
        case .openat2: #expect(fixture.open("absolute-inside").failure == .forbidden)
        case .realpathFallback: #expect(fixture.read("absolute-inside") == Array("hello".utf8))
        }
    }

    @Test(arguments: RootResolution.allCases)
    func symlinksLeadingOutAreForbidden(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }

        for path in ["link-passwd", "link-outside", "link-outside/secret.txt",
                     "link-outside-absolute/secret.txt"] {
            #expect(fixture.open(path).failure == .forbidden, "\(path)")
        }
    }

    @Test(arguments: RootResolution.allCases)
    func dotDotAndAbsolutePathsNeverOpenAnythingOutside(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }

        let attempts = ["..", "../", "../outside/secret.txt", "./../outside/secret.txt",
                        "docs/../../outside/secret.txt", "a/../../outside/secret.txt",
                        "docs/../..", "a/../../etc/passwd", "../../../../../../etc/passwd",
                        "/etc/passwd", fixture.tree.at("outside/secret.txt")]
        for path in attempts {
            let failure = fixture.open(path).failure
            #expect(failure == .forbidden || failure == .notFound, "\(path): \(String(describing: failure))")
        }
    }

    @Test(arguments: RootResolution.allCases)
    func missingPathsAreNotFound(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }

        for path in ["missing", "docs/missing", "missing/b.txt", "a.txt/x", "a.txt/"] {
            #expect(fixture.open(path).failure == .notFound, "\(path)")
        }
        // A NUL must not cut the name short and open "a.txt".
        #expect(fixture.root.open(Array("a.txt".utf8) + [0] + Array(".png".utf8)).failure == .notFound)
        #expect(fixture.open(String(repeating: "x", count: 300)).failure == .notFound)
    }

    @Test(arguments: RootResolution.allCases)
    func symlinkLoopsAreForbidden(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }

        #expect(fixture.open("loop").failure == .forbidden)
    }

    /// Opening a FIFO without O_NONBLOCK blocks until a writer shows up. If that
    /// ever regresses, a watchdog opens the write side after two seconds so the
    /// test fails on the elapsed time instead of hanging.
    @Test(arguments: RootResolution.allCases)
    func aFIFOIsForbiddenAtOnce(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }
        try fixture.tree.fifo("root/pipe")

        let fifoPath = fixture.tree.at("root/pipe")
        let watchdog = DispatchWorkItem {
            let writer = Glibc.open(fifoPath, O_RDWR | O_NONBLOCK | O_CLOEXEC)
            if writer >= 0 {
                usleep(500_000)
                close(writer)
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 2, execute: watchdog)
        let started = monotonicNanoseconds()
        let result = fixture.open("pipe")
        let elapsed = monotonicNanoseconds() - started
        watchdog.cancel()

        #expect(result.failure == .forbidden)
        #expect(elapsed < 1_000_000_000, "open took \(elapsed) ns")
    }

    @Test(arguments: RootResolution.allCases)
    func aUnixSocketIsForbidden(_ resolution: RootResolution) throws {
        let fixture = try Fixture(resolution)
        defer { fixture.tree.remove() }
        let socket = try fixture.tree.unixSocket("root/socket")
        defer { close(socket) }

        #expect(fixture.open("socket").failure == .forbidden)
    }

    @Test func rootPathIsResolved() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.makeDirectory("real")
        try tree.symlink("alias", to: "real")

        let root = try DocumentRoot(path: tree.at("alias") + "/")
        let expected = try #require(realpath(tree.at("real"), nil))
        defer { free(expected) }
        #expect(root.path == String(cString: expected))
        #expect(fcntl(root.fd, F_GETFD) & FD_CLOEXEC != 0)
    }

    @Test func unusableRootsAreReportedWithThePath() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let file = try tree.write("file", "x")
        let missing = tree.at("missing")

        #expect(throws: DocumentRootError.doesNotExist(missing)) { try DocumentRoot(path: missing) }
        #expect(throws: DocumentRootError.notADirectory(file)) { try DocumentRoot(path: file) }
        #expect(DocumentRootError.doesNotExist(missing).description == "document root \(missing) does not exist")
        #expect(DocumentRootError.notADirectory(file).description == "document root \(file) is not a directory")
        #expect(DocumentRootError.cannotOpen(file, EACCES).description
            == "document root \(file) cannot be opened: Permission denied")
    }

    @Test func errnoMapping() {
        for code in [ENOENT, ENOTDIR, ENAMETOOLONG] {
            #expect(DocumentRoot.failure(errno: code) == .notFound)
        }
        for code in [EACCES, EPERM, ELOOP, EXDEV, ENXIO, ENODEV] {
            #expect(DocumentRoot.failure(errno: code) == .forbidden)
        }
        #expect(DocumentRoot.failure(errno: EMFILE) == .failed(EMFILE))
    }
}

private extension Result where Failure == OpenFailure, Success == OpenedFile {
    /// The failure, or nil after closing the descriptor of an unexpected success.
    var failure: OpenFailure? {
        switch self {
        case .success(let file):
            close(file.fd)
            return nil
        case .failure(let failure):
            return failure
        }
    }
}
