import Foundation

/// Debian's haproxy (`scripts/ensure-deps test` installs it when it runs as root).
let haproxyBinary = "/usr/sbin/haproxy"

/// haproxy running the shipped conf/haproxy.cfg in the foreground (`-db`), given its
/// addresses through the environment variables the file reads: clients on
/// 127.0.0.1:`port`, the Ferry instances on `servers` as servers `a` and `b`, the
/// admin socket in `directory`, the log on standard error.
final class HAProxy {
    let process: FerryProcess
    let port: Int
    let adminSocket: String

    init(port: Int, servers: (a: Int, b: Int), directory: String) throws {
        adminSocket = directory + "/haproxy-admin.sock"
        var environment = ["FERRY_LISTEN": "127.0.0.1:\(port)",
                           "FERRY_A": "127.0.0.1:\(servers.a)", "FERRY_B": "127.0.0.1:\(servers.b)",
                           "HAPROXY_STATS": adminSocket, "HAPROXY_LOG": "stderr"]
        // The file drops to the haproxy user in a chroot, which only root can do.
        if getuid() != 0 { environment["HAPROXY_UNPRIVILEGED"] = "1" }
        process = try FerryProcess(["-db", "-f", packageRoot + "/conf/haproxy.cfg"], executable: haproxyBinary,
                                   environment: environment)
        self.port = port
    }

    @discardableResult
    func stop() -> (status: Int32, stdout: String, stderr: String) { process.stop(timeout: 10) }

    /// One command on the admin socket and its whole answer ("" when the socket is not there yet).
    func command(_ text: String) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            let bytes = Array(adminSocket.utf8.prefix(path.count - 1))
            path.copyBytes(from: bytes + [0])
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return "" }
        let request = Array((text + "\n").utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return "" }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            answer += chunk[..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// The `show stat` row of each server of backend `ferry` ("a", "b", and "BACKEND"
    /// for the whole backend), as column name to value.
    func serverStats() -> [String: [String: String]] {
        let lines = command("show stat").split(separator: "\n")
        guard let header = lines.first, header.hasPrefix("# ") else { return [:] }
        let columns = header.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var rows: [String: [String: String]] = [:]
        for line in lines.dropFirst() {
            let values = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let row = Dictionary(zip(columns, values), uniquingKeysWith: { first, _ in first })
            if row["pxname"] == "ferry", let name = row["svname"] { rows[name] = row }
        }
        return rows
    }

    /// Waits (bounded) until the checks have found every one of `servers` UP.
    @discardableResult
    func waitUntilUp(_ servers: [String], timeout: Double) -> Bool {
        waitUntil(timeout: timeout) {
            let stats = serverStats()
            return servers.allSatisfy { stats[$0]?["status"] == "UP" }
        }
    }

    /// The client ports of the streams `server` is answering now, from `show sess`,
    /// whose lines read "0x55...: proto=tcpv4 src=127.0.0.1:41234 fe=www be=ferry srv=a ...".
    func clientPorts(on server: String) -> Set<Int> {
        Set(command("show sess").split(separator: "\n").compactMap { line in
            guard line.contains(" be=ferry srv=\(server) "), let source = line.range(of: " src=127.0.0.1:") else { return nil }
            return Int(line[source.upperBound...].prefix { $0.isNumber })
        })
    }

    /// From the request log: the server (`a`, `b`) that answered each request for
    /// `path`, by the client's port. A line reads "... 127.0.0.1:41234 [06/Dec/...]
    /// www ferry/a 0/0/0/1/250 200 67109098 ... \"GET /large.bin HTTP/1.1\"".
    func servers(answering path: String) -> [Int: String] {
        var servers: [Int: String] = [:]
        for line in process.errors.split(separator: "\n") where line.hasSuffix("\"GET \(path) HTTP/1.1\"") {
            let words = line.split(separator: " ")
            guard let client = words.firstIndex(where: { $0.hasPrefix("127.0.0.1:") }),
                  let port = Int(words[client].dropFirst("127.0.0.1:".count)),
                  let server = words[client...].first(where: { $0.hasPrefix("ferry/") }) else { continue }
            servers[port] = String(server.dropFirst("ferry/".count))
        }
        return servers
    }
}
