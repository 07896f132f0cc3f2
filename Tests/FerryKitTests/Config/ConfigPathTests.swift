import Testing
@testable import FerryKit

@Suite struct ConfigPathTests {
    @Test func resolvesLeadingDotsAgainstTheBase() {
        #expect(ConfigPath.resolve("../public", against: "/srv/ferry/conf") == "/srv/ferry/public")
        #expect(ConfigPath.resolve("../../../..", against: "/srv/ferry") == "/")
        #expect(ConfigPath.resolve("./a/./b/", against: "/srv") == "/srv/a/b")
        #expect(ConfigPath.resolve(".", against: "/srv") == "/srv")
        #expect(ConfigPath.resolve("public", against: "/") == "/public")
    }

    @Test func keepsDotDotAfterANameAndAbsolutePaths() {
        #expect(ConfigPath.resolve("link/../x", against: "/srv") == "/srv/link/../x")
        #expect(ConfigPath.resolve("/etc/../var", against: "/srv") == "/etc/../var")
    }

    @Test func relativeBases() {
        #expect(ConfigPath.resolve("../public", against: "conf") == "public")
        #expect(ConfigPath.resolve("../public", against: ".") == "../public")
        #expect(ConfigPath.resolve("..", against: "conf") == ".")
    }
}
