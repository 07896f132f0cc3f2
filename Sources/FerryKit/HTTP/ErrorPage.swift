import HTTPTypes

/// The body of error responses: a small, complete HTML5 page.
public enum ErrorPage {
    /// A page titled like "404 Not Found", with `detail` (HTML-escaped) as a paragraph.
    public static func html(_ status: HTTPResponse.Status, detail: String?) -> [UInt8] {
        let title = HTMLEscape.escape("\(status.code) \(status.reasonPhrase)")
        var page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        page += "<title>\(title)</title>\n</head>\n<body>\n<h1>\(title)</h1>\n"
        if let detail, !detail.isEmpty {
            page += "<p>\(HTMLEscape.escape(detail))</p>\n"
        }
        page += "</body>\n</html>\n"
        return Array(page.utf8)
    }
}
