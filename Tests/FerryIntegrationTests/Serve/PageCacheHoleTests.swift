import Foundation
import Testing

private enum HoleSite: FixtureSite {
    static let size = 48 << 20
    static let holeOffset = 16 << 20
    static let holeLength = 1 << 20

    static func build(_ scratch: Scratch) throws {
        try scratch.random("root/holed.bin", bytes: size)
    }
}

/// A file in the page cache but for a few pages (reclaimed, say): the worker's reader
/// threads read those pages, not the rest of the file. Before, the first page found
/// missing put the download in read-ahead mode for the rest of its life, and the
/// readers copied every following MiB of a cached file for nothing (a 1 GiB stream
/// lost a third of its speed so).
@Suite(.fixture("page-cache-hole", serving: nil, site: HoleSite.self))
struct PageCacheHoleTests {
    /// Bytes read (`rchar`: read, pread and sendfile count there) by the threads of
    /// `pid` other than its first one (/proc/PID/task/TID/io: each task counts its
    /// own): a worker's readers.
    static func readerBytes(of pid: Int32) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.filter { $0 != String(pid) }.reduce(0) { total, task in
            let io = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/io", encoding: .utf8)) ?? ""
            let line = io.split(separator: "\n").first { $0.hasPrefix("rchar:") }
            return total + (line.flatMap { Int($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) } ?? 0)
        }
    }

    /// Reads the file into the page cache, writes it back (dirty pages cannot be
    /// dropped), then drops the hole's pages (POSIX_FADV_DONTNEED) and checks with
    /// RWF_NOWAIT reads that they are gone and the rest is there. Prints "cached" or
    /// why it is not.
    static let makeHole = """
        import os, sys
        path, start, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        fd = os.open(path, os.O_RDONLY)
        while os.read(fd, 1 << 20): pass
        os.fsync(fd)
        os.posix_fadvise(fd, start, length, os.POSIX_FADV_DONTNEED)
        def cached(offset):
            try: return os.preadv(fd, [bytearray(1)], offset, os.RWF_NOWAIT) == 1
            except BlockingIOError: return False
        print("cached" if not cached(start + length // 2) and cached(start + length + (4 << 20))
              else "the page cache of this file system cannot be holed")
        """

    @Test func aHoleIsReadAndTheRestIsNot() throws {
        let scratch = Fixture.scratch
        let server = try FerryServer(["--workers", "1", "--access-log", "off", scratch.root])
        defer { server.stop() }
        let worker = try #require(server.workers(atLeast: 1).first)
        let hole = try run("python3", ["-c", Self.makeHole, scratch.at("root/holed.bin"),
                                        String(HoleSite.holeOffset), String(HoleSite.holeLength)])
        try #require(hole.text.hasPrefix("cached"), "\(hole.text)\(hole.stderr)")
        let before = Self.readerBytes(of: worker)
        let digest = try sha256OfDownload("curl -sf \"$1\"", server.base + "/holed.bin")
        #expect(digest == (try scratch.sha256("root/holed.bin")))
        let read = Self.readerBytes(of: worker) - before
        // The hole's 1 MiB in 256 KiB steps; the 32 MiB behind it stay the kernel's.
        #expect(read >= HoleSite.holeLength / 4, "the readers brought the hole in: \(read) bytes")
        #expect(read <= 4 * HoleSite.holeLength, "the readers read \(read) bytes of a file cached but for 1 MiB")
    }
}
