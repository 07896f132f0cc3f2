import Glibc
import Testing
@testable import FerryKit

/// What `PrivilegeDrop.plan` decides from the configuration, and the account lookups
/// behind it. The drop itself is tested from outside, on the real binary
/// (Tests/FerryIntegrationTests/Production/PrivilegeTests.swift).
@Suite struct PrivilegeDropTests {
    @Test func lookUpsFindTheSystemAccounts() {
        #expect(PrivilegeDrop.lookUpUser("root") == 0)
        #expect(PrivilegeDrop.lookUpUser("nobody") == 65534)
        #expect(PrivilegeDrop.lookUpGroup("nogroup") == 65534)
        #expect(PrivilegeDrop.lookUpUser("no-such-ferry-user") == nil)
        #expect(PrivilegeDrop.lookUpGroup("no-such-ferry-group") == nil)
        #expect(PrivilegeDrop.lookUpUserName(0) == "root")
        #expect(PrivilegeDrop.lookUpGroupName(65534) == "nogroup")
    }

    @Test(.enabled(if: geteuid() == 0, "planning a drop needs root"))
    func planAsRoot() throws {
        let drop = try #require(try PrivilegeDrop.plan(ServerConfig(), documentRoot: "/srv/www"))
        #expect(drop.userName == "nobody" && drop.groupName == "nogroup")
        #expect(drop.uid == 65534 && drop.gid == 65534)
        #expect(drop.chrootDirectory == nil)

        var chrooted = ServerConfig()
        chrooted.chroot = true
        #expect(try PrivilegeDrop.plan(chrooted, documentRoot: "/srv/www")?.chrootDirectory == "/srv/www")

        var asRoot = ServerConfig()
        asRoot.user = "root"
        #expect(throws: FileServerError.self) { try PrivilegeDrop.plan(asRoot, documentRoot: "/srv/www") }
        asRoot.allowRoot = true
        #expect(try PrivilegeDrop.plan(asRoot, documentRoot: "/srv/www") == nil)

        var unknown = ServerConfig()
        unknown.group = "no-such-ferry-group"
        #expect(throws: ConfigError(section: "server", key: "group", problem: "unknown group \"no-such-ferry-group\"")) {
            try PrivilegeDrop.plan(unknown, documentRoot: "/srv/www")
        }
    }
}
