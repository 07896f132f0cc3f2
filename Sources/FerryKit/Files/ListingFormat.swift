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
        WeightedList.forEach(Array(accept.utf8)) { type, weight in
            if ASCII.equalsIgnoringCase(type, "application/json"), json == nil { json = weight }
            if ASCII.equalsIgnoringCase(type, "text/html"), html == nil { html = weight }
        }
        guard let json, json > 0 else { return .html }
        return json > (html ?? 0) ? .json : .html
    }
}
