import Glibc
import Testing
@testable import FerryKit

@Suite struct ExtensionTableTests {
    /// Types that must hold whatever the system table says.
    static let pinned: [(String, String)] = [
        ("css", "text/css"), ("js", "text/javascript"), ("mjs", "text/javascript"),
        ("svg", "image/svg+xml"), ("wasm", "application/wasm"), ("html", "text/html"),
        ("htm", "text/html"), ("json", "application/json"), ("txt", "text/plain"),
        ("png", "image/png"), ("jpg", "image/jpeg"), ("jpeg", "image/jpeg"), ("gif", "image/gif"),
        ("webp", "image/webp"), ("ico", "image/vnd.microsoft.icon"), ("pdf", "application/pdf"),
        ("xml", "application/xml"), ("woff2", "font/woff2"), ("mp4", "video/mp4"),
        ("iso", "application/x-iso9660-image"), ("gz", "application/gzip"), ("zip", "application/zip"),
    ]

    @Test(arguments: ["/etc/mime.types", "/nonexistent/mime.types"])
    func builtInsAlwaysHold(_ mimeTypesPath: String) {
        let table = ExtensionTable(mimeTypesPath: mimeTypesPath)
        for (ext, type) in Self.pinned {
            #expect(table.type(forExtension: ext) == type, "\(ext)")
            #expect(table.type(forExtension: ext.uppercased()) == type, "\(ext.uppercased())")
        }
    }

    @Test func builtInsOverrideAndCommentsAreSkipped() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let path = try tree.write("mime.types", """
            # comment line with words css js
            application/x-javascript\tjs
            text/x-first\tdup FOO2   # trailing comment bar
            text/x-second dup
            image/x-bare
            \t
            #text/x-commented cmt
            application/x-crlf crlf\r

            """)

        let table = ExtensionTable(mimeTypesPath: path)
        #expect(table.type(forExtension: "js") == "text/javascript")
        #expect(table.type(forExtension: "dup") == "text/x-first")
        #expect(table.type(forExtension: "foo2") == "text/x-first")
        #expect(table.type(forExtension: "Foo2") == "text/x-first")
        #expect(table.type(forExtension: "bar") == nil)
        #expect(table.type(forExtension: "cmt") == nil)
        #expect(table.type(forExtension: "crlf") == "application/x-crlf")
        #expect(table.type(forExtension: "words") == nil)
        #expect(table.type(forExtension: "") == nil)
    }

    @Test(.enabled(if: access("/etc/mime.types", R_OK) == 0))
    func readsTheSystemTable() {
        let table = ExtensionTable()
        #expect(table.type(forExtension: "tar") == "application/x-tar")
        #expect(table.type(forExtension: "odt") == "application/vnd.oasis.opendocument.text")
        #expect(table.type(forExtension: "no-such-extension") == nil)
    }

    @Test func extensionIsWhatFollowsTheLastDot() {
        let cases: [(String, String?)] = [
            ("a.txt", "txt"), ("archive.tar.gz", "gz"), ("UPPER.PNG", "PNG"), (".profile", nil),
            (".config.json", "json"), ("README", nil), ("trailing.", nil), ("", nil), (".", nil),
            ("..", nil), ("..x", "x"),
        ]
        for (name, ext) in cases {
            #expect(ExtensionTable.fileExtension(of: Array(name.utf8)) == ext, "\(name)")
        }
    }
}
