extension HTTPFileHandler {
    /// "503 Service Unavailable" with `Retry-After: 1` and `Connection: close`, framed
    /// by `Content-Length`: answered before any byte of the request is read, so it
    /// names no request version (HTTP/1.1, or HTTP/1.0 in the minimal mode).
    public func overloadAnswer() -> [UInt8] {
        var head = ResponseHead(status: .serviceUnavailable)
        head.add("Retry-After", "1")
        head.add("Content-Type", "text/html; charset=utf-8")
        let page = ErrorPage.html(.serviceUnavailable, detail: "Too many connections at once; try again in a moment.")
        var bytes: [UInt8] = []
        head.serialize(version: context.settings.minimalHTTP10 ? .http1_0 : .http1_1,
                       contentLength: Int64(page.count), connection: .close, prelude: context.dates.prelude(),
                       into: &bytes)
        return bytes + page
    }
}
