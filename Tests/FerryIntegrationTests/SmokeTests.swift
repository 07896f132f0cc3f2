import Foundation
import Testing

/// The shortest end-to-end path: the built binary serves the shipped site.
@Suite struct SmokeTests {
    @Test func servesTheShippedSiteToCurl() throws {
        let server = try FerryServer()
        defer { server.stop() }
        let result = try run("curl", ["-s", "-i", server.base + "/"])
        #expect(result.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(result.text.contains("<!DOCTYPE html>"))
    }
}
