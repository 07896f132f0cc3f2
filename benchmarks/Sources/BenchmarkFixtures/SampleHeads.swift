/// Request heads as real clients send them: the inputs of the parser, responder and
/// access log benchmarks. `fields` adds field lines (each ending in CRLF) before the
/// empty line, for the conditional and range requests.
public enum SampleHeads {
    /// What Firefox 128 sends for a stylesheet: 470 bytes, its kept fields (Host,
    /// User-Agent, Accept, Accept-Encoding, Referer) each once, and the fields Ferry
    /// checks and drops (Accept-Language, Connection, Cookie, Sec-Fetch-*, Priority).
    public static func browser(target: String = "/site.css", fields: String = "") -> [UInt8] {
        Array(("GET \(target) HTTP/1.1\r\n"
            + "Host: www.example.org\r\n"
            + "User-Agent: \(firefoxUserAgent)\r\n"
            + "Accept: text/css,*/*;q=0.1\r\n"
            + "Accept-Language: en-US,en;q=0.5\r\n"
            + "Accept-Encoding: gzip, deflate, br, zstd\r\n"
            + "Referer: \(referer)\r\n"
            + "Connection: keep-alive\r\n"
            + "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=analytics:0\r\n"
            + "Sec-Fetch-Dest: style\r\n"
            + "Sec-Fetch-Mode: no-cors\r\n"
            + "Sec-Fetch-Site: same-origin\r\n"
            + "Priority: u=2\r\n"
            + fields
            + "\r\n").utf8)
    }

    /// Firefox 128's User-Agent on Linux.
    public static let firefoxUserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    /// The page that asked for the browser's stylesheet.
    public static let referer = "https://www.example.org/"

    /// What curl 7.88 (Debian 12) sends for `curl http://localhost:8080/site.css`.
    public static func curl(target: String = "/site.css", fields: String = "") -> [UInt8] {
        Array(("GET \(target) HTTP/1.1\r\n"
            + "Host: localhost:8080\r\n"
            + "User-Agent: curl/7.88.1\r\n"
            + "Accept: */*\r\n"
            + fields
            + "\r\n").utf8)
    }

    /// What `ab -k` (ApacheBench 2.3) sends: HTTP/1.0 asking to keep the connection.
    /// bench/compare counts a kept request's allocations on the whole path with it.
    public static let ab = Array(("GET /site.css HTTP/1.0\r\n"
        + "Connection: Keep-Alive\r\n"
        + "Host: 127.0.0.1:8080\r\n"
        + "User-Agent: ApacheBench/2.3\r\n"
        + "Accept: */*\r\n"
        + "\r\n").utf8)

    /// What wrk sends, the smallest head a benchmark client gets away with.
    public static let wrk = Array("GET /site.css HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".utf8)
}
