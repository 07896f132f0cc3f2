/// What an HTTP session needs to know of the configuration: its limits, timeouts and
/// how to send bodies. Taken from `ServerConfig` once per worker and shared by its
/// sessions (through the worker's context), so a connection carries none of it. Plain
/// numbers only: reading it costs no reference counting.
struct HTTPSessionSettings {
    var limits: HeadLimits
    /// Seconds for a whole request head, from its first byte (or the connection's start).
    var headTimeout: Double
    /// Seconds a response send may make no progress.
    var sendTimeout: Double
    /// Idle seconds allowed between requests; 0 closes after every response.
    var keepAliveTimeout: Double
    /// Most requests answered on one connection.
    var keepAliveRequests: Int
    /// Every response HTTP/1.0 with `Connection: close`, one request per connection.
    var minimalHTTP10: Bool
    var transmit: TransmitSettings
    /// [body] reader_threads: threads per worker that read files not in the page cache.
    var readerThreads: Int
    /// [body] read_ahead: bytes read ahead of a download found not cached.
    var readAheadBytes: Int

    init(_ config: ServerConfig) {
        limits = HeadLimits()
        limits.requestLineBytes = config.requestLineBytes
        limits.headerBytes = config.headerBytes
        limits.headerFields = config.headerFields
        headTimeout = config.headTimeout
        sendTimeout = config.sendTimeout
        keepAliveTimeout = config.keepAliveTimeout
        keepAliveRequests = config.keepAliveRequests
        minimalHTTP10 = config.minimalHTTP10
        transmit = TransmitSettings(bodyMode: config.bodyMode, cork: config.cork,
                                    sendfileChunkBytes: config.sendfileChunkBytes,
                                    copyBufferBytes: config.copyBufferBytes, turnBytes: config.sendPerTurn,
                                    limitRate: Int64(config.limitRate), limitRateAfter: Int64(config.limitRateAfter))
        readerThreads = config.readerThreads
        readAheadBytes = config.readAheadBytes
    }

    /// The most bytes a request head may take, its line ends included.
    var headCapacity: Int { limits.requestLineBytes + limits.headerBytes + 4 }
}
