import Glibc
import Testing
@testable import FerryKit

/// The shipped conf/ferry.toml spells out every default: loading it must give exactly
/// `ServerConfig()`, with the root resolved to the package's public/ directory.
@Suite struct ShippedConfigTests {
    /// The package root: four levels above Tests/FerryKitTests/Config/this file.
    static let packageRoot: String = {
        var path = "\(#filePath)"
        for _ in 0..<4 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path
    }()

    @Test func shippedFileEqualsTheDefaults() throws {
        let config = try ConfigLoader.load(path: "\(Self.packageRoot)/conf/ferry.toml",
                                           models: [ServerConfig().model])
        var expected = ServerConfig()
        let canonicalRoot = try #require(realpath(Self.packageRoot, nil))
        defer { free(canonicalRoot) }
        expected.root = String(cString: canonicalRoot) + "/public"
        #expect(config == expected)
    }
}
