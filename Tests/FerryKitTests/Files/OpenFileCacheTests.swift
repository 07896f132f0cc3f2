import Foundation
import Glibc
import Testing
@testable import FerryKit

/// The open-file cache on a real directory and real inotify, without an event loop:
/// every lookup reads the change queue first.
@Suite struct OpenFileCacheTests {
    final class Catalog {
        let tree: TemporaryTree
        let cache: OpenFileCache
        let catalog: FileCatalog

        init(openFiles: Int, precompressed: Bool = false, inactiveSeconds: Double = 60) throws {
            tree = try TemporaryTree()
            for name in ["a", "b", "c", "d"] { try tree.write("\(name).txt", "\(name)\n") }
            let root = try DocumentRoot(path: tree.path)
            cache = OpenFileCache(root: root, limits: OpenFileCache.Limits(openFiles: openFiles,
                                                                             inactiveSeconds: inactiveSeconds))
            catalog = FileCatalog(root: root, maker: FileEntryMaker(root: root, types: ContentTypeResolver(table: ExtensionTable()),
                                                                    precompressed: precompressed, headerRules: []),
                                  cache: cache)
        }

        deinit { tree.remove() }

        /// The entry for a file path, as a request for it would get it.
        func entry(_ path: String) -> FileEntry? {
            let key = Array(path.utf8)
            guard case .file(let entry) = catalog.lookup(key: key, relativeCount: key.count, directory: false,
                                                         headTick: cache.tickForHead(readOnWakeup: false)) else { return nil }
            return entry
        }
    }

    @Test func aSecondLookupIsTheSameEntry() throws {
        let catalog = try Catalog(openFiles: 8)
        let first = try #require(catalog.entry("a.txt"))
        #expect(catalog.entry("a.txt") === first)
        #expect(catalog.cache.count == 1)
    }

    /// [cache] inactive below a second: an entry stays at least that long, and goes
    /// once unused for longer (the cache's clock counts whole seconds).
    @Test func aFractionalInactiveKeepsAnEntryAtLeastThatLong() throws {
        let catalog = try Catalog(openFiles: 8, inactiveSeconds: 0.5)
        catalog.cache.noteWakeup(changesReady: true, now: 10_900_000_000)
        let entry = try #require(catalog.entry("a.txt"))
        // 0.1 s later, across a second's boundary.
        catalog.cache.noteWakeup(changesReady: true, now: 11_000_000_000)
        catalog.cache.sweepInactive()
        #expect(catalog.entry("a.txt") === entry)
        // Unused for 2 s.
        catalog.cache.noteWakeup(changesReady: true, now: 13_000_000_000)
        catalog.cache.sweepInactive()
        #expect(catalog.cache.count == 0)
    }

    @Test func descriptorsStayWithinTheBound() throws {
        let catalog = try Catalog(openFiles: 2)
        for name in ["a", "b", "c", "d", "a", "c"] { _ = catalog.entry("\(name).txt") }
        // One descriptor each: the bound holds exactly two of the four.
        #expect(catalog.cache.count == 2)
    }

    @Test func sidecarsCountAsDescriptors() throws {
        let catalog = try Catalog(openFiles: 3, precompressed: true)
        try catalog.tree.write("a.txt.gz", "gz")
        try catalog.tree.write("a.txt.br", "br")
        let entry = try #require(catalog.entry("a.txt"))
        #expect(entry.descriptorCount == 3)
        _ = catalog.entry("b.txt")
        // a.txt (3) and b.txt (1) do not fit in 3: one of them went.
        #expect(catalog.cache.count == 1)
    }

    @Test(arguments: ["rewrite", "rename", "delete", "sidecar"])
    func aChangeReplacesTheEntry(_ change: String) throws {
        let catalog = try Catalog(openFiles: 8, precompressed: true)
        let before = try #require(catalog.entry("a.txt"))
        // Cached: unchanged, the same entry answers.
        #expect(catalog.entry("a.txt") === before)
        switch change {
        case "rewrite": try catalog.tree.write("a.txt", "rewritten\n")
        case "rename":
            try catalog.tree.write("new", "renamed over\n")
            rename(catalog.tree.at("new"), catalog.tree.at("a.txt"))
        case "delete": unlink(catalog.tree.at("a.txt"))
        default: try catalog.tree.write("a.txt.gz", "gz")
        }
        let after = catalog.entry("a.txt")
        #expect(after !== before)
        if change == "delete" { #expect(after == nil) }
        if change == "sidecar" { #expect(after?.codings.contains(.gzip) == true) }
    }

    @Test func anEntryEvictedWhileInUseKeepsItsFileOpen() throws {
        let catalog = try Catalog(openFiles: 1)
        let kept = try #require(catalog.entry("a.txt"))
        let other = try #require(catalog.entry("b.txt"))
        // b.txt took the one place: a.txt was evicted.
        #expect(catalog.entry("b.txt") === other)
        #expect(catalog.cache.count == 1)
        // A response still holding the evicted entry reads the file it began with.
        unlink(catalog.tree.at("a.txt"))
        var byte: UInt8 = 0
        #expect(pread(kept.identity.file.fd, &byte, 1, 0) == 1 && byte == UInt8(ascii: "a"))
    }
}
