import Testing
@testable import FerryKit

@Suite struct ErrorPageTests {
    @Test func isACompleteHTML5Page() {
        let page = String(decoding: ErrorPage.html(.notFound, detail: nil), as: UTF8.self)
        #expect(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(page.contains("<meta charset=\"utf-8\">"))
        #expect(page.contains("<title>404 Not Found</title>"))
        #expect(page.contains("<h1>404 Not Found</h1>"))
        #expect(!page.contains("<p>"))
        #expect(page.hasSuffix("</body>\n</html>\n"))
    }

    @Test func escapesTheDetail() {
        let page = String(decoding: ErrorPage.html(.badRequest, detail: "<script>alert('x') & \"y\"</script>"),
                          as: UTF8.self)
        #expect(page.contains("<title>400 Bad Request</title>"))
        #expect(page.contains("<p>&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;</p>"))
        #expect(!page.contains("<script>"))
    }

    @Test func emptyDetailAddsNoParagraph() {
        let page = String(decoding: ErrorPage.html(.forbidden, detail: ""), as: UTF8.self)
        #expect(page.contains("<title>403 Forbidden</title>"))
        #expect(!page.contains("<p>"))
    }
}
