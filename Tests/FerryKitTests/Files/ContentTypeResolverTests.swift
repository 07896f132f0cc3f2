import Glibc
import Testing
@testable import FerryKit

@Suite struct ContentTypeResolverTests {
    /// A real 1x1 RGBA PNG.
    static let png: [UInt8] = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
        0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0x64, 0x60, 0xF8, 0x5F,
        0x0F, 0x00, 0x02, 0x87, 0x01, 0x80, 0xEB, 0x47, 0xBA, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
        0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]
    static let binary: [UInt8] = [0x00, 0xFF, 0x13, 0x37, 0x00, 0x01, 0x02, 0xFE, 0x80, 0x00]

    /// Resolves the type of `tree/name` through an open descriptor, as the server does.
    private func type(_ resolver: ContentTypeResolver, _ tree: TemporaryTree, _ name: String) throws -> String {
        let fd = open(tree.at(name), O_RDONLY | O_CLOEXEC)
        try TemporaryTree.check(fd, "open \(name)")
        defer { close(fd) }
        return resolver.contentType(fileName: Array(name.utf8), fd: fd, info: try FileInfo.of(fd))
    }

    @Test func extensionDecidesAndMagicAddsTheCharset() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write("style.css", "body { color: red }\n")
        try tree.write("app.js", "console.log('h\u{E9}llo')\n")
        try tree.write("data.json", "{\"a\": 1}\n")
        try tree.write("icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n")
        try tree.write("notes.txt", "caf\u{E9}\n")
        try tree.write("binary.txt", Self.binary)
        try tree.write("empty.txt", [])
        try tree.write("text.png", "not a png at all\n")
        try tree.write("page.HTML", "<!DOCTYPE html><p>hi</p>\n")
        let resolver = ContentTypeResolver(table: ExtensionTable())

        #expect(try type(resolver, tree, "style.css") == "text/css; charset=utf-8")
        #expect(try type(resolver, tree, "app.js") == "text/javascript; charset=utf-8")
        #expect(try type(resolver, tree, "data.json") == "application/json; charset=utf-8")
        #expect(try type(resolver, tree, "icon.svg") == "image/svg+xml; charset=utf-8")
        #expect(try type(resolver, tree, "notes.txt") == "text/plain; charset=utf-8")
        #expect(try type(resolver, tree, "page.HTML") == "text/html; charset=utf-8")
        #expect(try type(resolver, tree, "binary.txt") == "text/plain", "charset=binary is left out")
        #expect(try type(resolver, tree, "empty.txt") == "text/plain")
        let sniffed = resolver.cachedGuessCount
        #expect(try type(resolver, tree, "text.png") == "image/png", "a non-text extension wins unexamined")
        #expect(resolver.cachedGuessCount == sniffed, "no magic for a known non-text type")
    }

    @Test func magicNamesFilesWithoutAKnownExtension() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write("pixel", Self.png)
        try tree.write("README", "Plain words.\n")
        try tree.write("LICENSE.unknownext", "Plain words.\n")
        try tree.write("blob", Self.binary)
        try tree.write("empty", [])
        let resolver = ContentTypeResolver(table: ExtensionTable())

        #expect(try type(resolver, tree, "pixel") == "image/png")
        #expect(try type(resolver, tree, "README") == "text/plain; charset=utf-8")
        #expect(try type(resolver, tree, "LICENSE.unknownext") == "text/plain; charset=utf-8")
        #expect(try type(resolver, tree, "blob") == "application/octet-stream")
        #expect(try type(resolver, tree, "empty") == "application/octet-stream")
    }

    @Test func withoutMagicUnknownIsOctetStreamAndTextHasNoCharset() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write("pixel", Self.png)
        try tree.write("notes.txt", "caf\u{E9}\n")
        let resolver = ContentTypeResolver(table: ExtensionTable(), useMagic: false)

        #expect(try type(resolver, tree, "pixel") == "application/octet-stream")
        #expect(try type(resolver, tree, "notes.txt") == "text/plain")
        #expect(resolver.cachedGuessCount == 0)
    }

    @Test func theDescriptorIsLeftOpenAndWhereItWas() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write("pixel", Self.png)
        let fd = open(tree.at("pixel"), O_RDONLY | O_CLOEXEC)
        try TemporaryTree.check(fd, "open")
        defer { close(fd) }
        #expect(lseek(fd, 3, SEEK_SET) == 3)

        let resolver = ContentTypeResolver(table: ExtensionTable())
        #expect(resolver.contentType(fileName: Array("pixel".utf8), fd: fd, info: try FileInfo.of(fd)) == "image/png")
        #expect(fcntl(fd, F_GETFD) != -1, "still open")
        #expect(lseek(fd, 0, SEEK_CUR) == 3)
        #expect(TemporaryTree.readAll(fd) == Self.png)
    }

    /// Same size and same mtime: the cached answer stands even though the bytes
    /// changed (proving the cache is used); a new mtime makes it look again.
    @Test func guessesAreCachedUntilTheFileChanges() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let text = "hello!\n", binary = "\u{0}\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}"
        #expect(text.utf8.count == binary.utf8.count)
        try tree.write("note", text)
        try tree.setModified("note", seconds: 1_700_000_000, nanoseconds: 123)
        let resolver = ContentTypeResolver(table: ExtensionTable())

        #expect(try type(resolver, tree, "note") == "text/plain; charset=utf-8")
        #expect(try type(resolver, tree, "note") == "text/plain; charset=utf-8")
        #expect(resolver.cachedGuessCount == 1)

        try tree.write("note", binary)
        try tree.setModified("note", seconds: 1_700_000_000, nanoseconds: 123)
        #expect(try type(resolver, tree, "note") == "text/plain; charset=utf-8", "served from the cache")

        try tree.setModified("note", seconds: 1_700_000_000, nanoseconds: 456)
        #expect(try type(resolver, tree, "note") == "application/octet-stream", "re-sniffed")
    }

    @Test func theCacheIsBounded() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write("note", "hello\n")
        let fd = open(tree.at("note"), O_RDONLY | O_CLOEXEC)
        try TemporaryTree.check(fd, "open")
        defer { close(fd) }
        var info = try FileInfo.of(fd)
        let resolver = ContentTypeResolver(table: ExtensionTable())

        for inode in 1...UInt64(ContentTypeResolver.cacheLimit + 10) {
            info.inode = inode
            #expect(resolver.contentType(fileName: Array("note".utf8), fd: fd, info: info)
                == "text/plain; charset=utf-8")
        }
        #expect(resolver.cachedGuessCount <= ContentTypeResolver.cacheLimit)
        #expect(resolver.cachedGuessCount > 0)
    }

    @Test func magicGuessParsing() {
        let text = MagicGuess("text/plain; charset=us-ascii")
        #expect(text.mimeType == "text/plain" && text.encoding == "us-ascii")
        #expect(MagicGuess("image/png; charset=binary").encoding == "binary")
        let bare = MagicGuess("application/pdf")
        #expect(bare.mimeType == "application/pdf" && bare.encoding == nil)
        #expect(ContentTypeResolver.isText("text/css"))
        #expect(ContentTypeResolver.isText("image/svg+xml"))
        #expect(ContentTypeResolver.isText("application/javascript"))
        #expect(!ContentTypeResolver.isText("image/png"))
    }
}
