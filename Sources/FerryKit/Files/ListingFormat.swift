/// Which form of a directory listing a request gets.
public enum ListingFormat: Equatable, Sendable {
    case html, json

    /// `format=json` or `format=html` in the query decides (for browsers and curl);
    /// otherwise JSON when Accept names `application/json` with a weight above
    /// `text/html`'s (or without text/html at all), as a program's client does.
    /// Browsers list text/html first and `*/*` counts for neither, so they get HTML.
    public static func choose(query: String?, accept: String?) -> ListingFormat {
        for (key, value) in QueryParameters.pairs(query) where key == "format" {
            if value == "json" { return .json }
            if value == "html" { return .html }
        }
        guard let accept else { return .html }
        var json: Int?
        var html: Int?
        for element in Array(accept.utf8).split(separator: ASCII.comma) {
            let parts = element.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
            let type = String(decoding: ASCII.trimmingWhitespace(parts[0]).map(ASCII.lowercased), as: UTF8.self)
            var weight = 1000
            for parameter in parts.dropFirst() {
                let text = ASCII.trimmingWhitespace(parameter)
                if text.count >= 2, ASCII.lowercased(text[text.startIndex]) == UInt8(ascii: "q"),
                   text[text.startIndex + 1] == UInt8(ascii: "=") {
                    weight = AcceptEncoding.qvalue(text[(text.startIndex + 2)...]) ?? 0
                }
            }
            if type == "application/json", json == nil { json = weight }
            if type == "text/html", html == nil { html = weight }
        }
        guard let json, json > 0 else { return .html }
        return json > (html ?? 0) ? .json : .html
    }
}
