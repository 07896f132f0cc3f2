import Testing
@testable import FerryKit

@Suite struct PathPatternTests {
    func matches(_ pattern: String, _ path: String) -> Bool {
        PathPattern(pattern)!.matches(Array(path.utf8))
    }

    @Test func wholePath() {
        #expect(matches("/assets/**", "/assets/app.js"))
        #expect(matches("/assets/**", "/assets/js/deep/app.js"))
        #expect(matches("/assets/**", "/assets/"))
        #expect(!matches("/assets/**", "/assetsX/app.js"))
        #expect(!matches("/assets/**", "/other/assets/app.js"))
        #expect(matches("/api/*", "/api/users"))
        #expect(!matches("/api/*", "/api/users/1"))
        #expect(matches("/index.html", "/index.html"))
        #expect(!matches("/index.html", "/index.htm"))
        #expect(matches("/**", "/"))
        #expect(matches("/**/*.css", "/a/b/site.css"))
        #expect(matches("/file?.txt", "/file1.txt"))
        #expect(!matches("/file?.txt", "/file/.txt"))
    }

    @Test func fileName() {
        #expect(matches("*.html", "/index.html"))
        #expect(matches("*.html", "/docs/deep/page.html"))
        #expect(!matches("*.html", "/page.html.gz"))
        #expect(matches("app.*.js", "/assets/app.3f2a91.js"))
        #expect(matches("*", "/docs/"))
    }

    @Test func invalid() {
        #expect(PathPattern("") == nil)
        #expect(PathPattern("assets/*.js") == nil)
        #expect(PathPattern("/ok") != nil)
    }
}
