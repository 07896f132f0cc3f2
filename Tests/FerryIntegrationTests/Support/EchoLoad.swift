/// What a run of echo connections amounted to.
struct EchoLoadResult {
    var connections = 0
    var failures = 0
}

/// Opens `connections` echo connections one after another to 127.0.0.1:`port`: each
/// sends "BYTES\n" and must read back exactly `bytes` bytes before the server closes.
func echoLoad(port: Int, connections: Int, bytes: Int) -> EchoLoadResult {
    var result = EchoLoadResult()
    for _ in 0..<connections {
        result.connections += 1
        guard let client = try? RawClient(port: port, receiveTimeout: 10) else {
            result.failures += 1
            continue
        }
        client.send("\(bytes)\n")
        let answer = client.readAll(limit: bytes + 1)
        if answer.count != bytes || answer.contains(where: { $0 != UInt8(ascii: "x") }) { result.failures += 1 }
    }
    return result
}
