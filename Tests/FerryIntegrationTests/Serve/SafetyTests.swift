import Foundation
import Testing

private enum SafetySite: FixtureSite {
    /// In every file that must never be served, and in no file that may be.
    static let secret = "SECRET-" + UUID().uuidString

    static func build(_ scratch: Scratch) throws {
        // Outside the root: scratch/secret.txt, scratch/private/key.txt.
        try scratch.write("secret.txt", secret + "\n")
        try scratch.write("private/key.txt", secret + "\n")
        // Inside, served.
        try scratch.write("root/public.txt", "public\n")
        try scratch.write("root/docs/a.txt", "a\n")
        try scratch.write("root/.well-known/security.txt", "Contact: mailto:security@example.com\n")
        try scratch.symlink("root/inside-link", to: "public.txt")
        // Inside, hidden: dot-files and dot-directories.
        try scratch.write("root/.env", secret + "\n")
        try scratch.write("root/.git/config", secret + "\n")
        try scratch.write("root/docs/.htpasswd", secret + "\n")
        // /.well-known/ itself is served, not dot-files beneath it.
        try scratch.write("root/.well-known/.private", secret + "\n")
        // Symbolic links leading out of the root, relative and absolute, to files and directories.
        try scratch.symlink("root/link-out", to: "../secret.txt")
        try scratch.symlink("root/abs-link-out", to: scratch.at("secret.txt"))
        try scratch.symlink("root/dir-out", to: "..")
        try scratch.symlink("root/docs/deep-out", to: "../../private/key.txt")
        try scratch.symlink("root/etc-passwd", to: "/etc/passwd")
        try scratch.symlink("root/proc-self-root", to: "/proc/self/root")
    }
}

/// Nothing outside the document root, and no dot-file, is ever served, whatever the
/// request-target looks like. Each answer is checked for the secret's bytes, not only
/// for its status.
@Suite(.fixture("safety", site: SafetySite.self))
struct SafetyTests {
    var port: Int { Fixture.server.port }

    func expectNoLeak(_ response: HTTPResponseText, _ target: String) {
        #expect([400, 403, 404].contains(response.status), "\(target) → \(response.statusLine)")
        #expect(!response.rawText.contains(SafetySite.secret), "\(target) leaked the secret")
        #expect(!response.rawText.contains("root:x:0:0"), "\(target) leaked /etc/passwd")
    }

    /// Raw request-targets, sent byte for byte (no client normalizes them first).
    @Test(arguments: [
        // Plain and encoded dot segments (CVE-2021-41773: decode, then normalize).
        "/../secret.txt", "/../../secret.txt", "/docs/../../secret.txt", "/./../secret.txt",
        "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/%2e./secret.txt",
        "/docs/%2e%2e/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt", "/..%2fsecret.txt", "/..%2Fprivate%2Fkey.txt",
        // Double-encoded: decoded once, "%2e%2e" is a name, not ".." (dubyte/dir2opds#17).
        "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt", "/docs/%252e%252e/%252e%252e/secret.txt",
        // Overlong UTF-8 for "." and "/".
        "/%c0%ae%c0%ae/secret.txt", "/%c0%ae%c0%ae%c0%afsecret.txt",
        // Backslashes, raw and encoded.
        "/..\\secret.txt", "/docs/..\\..\\secret.txt", "/%5c..%5csecret.txt", "/..%5c..%5csecret.txt", "\\..\\secret.txt",
        // NUL, which would cut a C string short.
        "/secret.txt%00", "/public.txt%00/../../secret.txt", "/%00/../secret.txt", "/link-out%00.txt",
        // Absolute-form targets: the authority is ignored, the path is judged alone.
        "http://127.0.0.1/../secret.txt", "http://127.0.0.1/%2e%2e/secret.txt", "HTTP://x/..%2f..%2fsecret.txt",
        "http://127.0.0.1:1/../private/key.txt", "http:/../secret.txt", "file:///etc/passwd", "//etc/passwd",
        // Relative references.
        "../secret.txt", "secret.txt", ".",
        // Symbolic links that lead out: relative, absolute, through a directory, magic links.
        "/link-out", "/abs-link-out", "/dir-out/secret.txt", "/dir-out/private/key.txt", "/dir-out/",
        "/docs/deep-out", "/etc-passwd", "/proc-self-root/etc/passwd", "/dir-out/root/../secret.txt",
        // Dot-files and dot-directories, plain and encoded; /.well-known/ does not open the rest.
        "/.env", "/%2eenv", "/.git/config", "/.git/", "/.git", "/docs/.htpasswd", "/docs/%2Ehtpasswd",
        "/.well-known/../.env", "/.well-known/%2e%2e/.git/config", "/docs/../.env",
        "/.well-known/.private", "/.well-known/%2eprivate",
    ])
    func noTargetLeaks(target: String) throws {
        expectNoLeak(try request(port, target), target)
    }

    /// The same targets through curl with --path-as-is, so curl sends the dots unchanged.
    @Test(arguments: ["/../secret.txt", "/%2e%2e/secret.txt", "/dir-out/secret.txt", "/link-out", "/.env"])
    func curlPathAsIs(path: String) throws {
        let result = try run("curl", ["-sS", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", Fixture.server.base + path])
        #expect(!result.text.contains(SafetySite.secret), "\(path)")
        let status = Int(result.text.split(separator: "\n").last ?? "") ?? 0
        #expect([400, 403, 404].contains(status), "\(path) → \(status)")
    }

    /// What the controls above must not block: files inside, a link that stays
    /// inside, dot segments that stay inside, /.well-known/.
    @Test func legitimatePathsStillWork() throws {
        for (target, body) in [("/public.txt", "public\n"), ("/docs/../public.txt", "public\n"),
                               ("/%2e/public.txt", "public\n"), ("/docs/%2e%2e/public.txt", "public\n"),
                               ("/inside-link", "public\n"), ("http://example.com/public.txt", "public\n"),
                               ("/.well-known/security.txt", "Contact: mailto:security@example.com\n")] {
            let response = try request(port, target)
            #expect(response.status == 200, "\(target)")
            #expect(response.bodyText == body, "\(target)")
        }
    }

    /// Listings show neither dot-files nor anything of what links point to outside.
    @Test func listingsDoNotLeak() throws {
        let page = try request(port, "/").bodyText
        #expect(page.contains("public.txt"))
        #expect(!page.contains(".env") && !page.contains(".git") && !page.contains(".well-known"))
        #expect(!page.contains(SafetySite.secret))
        let wellKnown = try request(port, "/.well-known/").bodyText
        #expect(wellKnown.contains("security.txt"))
    }
}
