/// What an HTTP session needs to know of the configuration: its limits, timeouts and
/// how to send bodies. Taken from `ServerConfig` once per worker.
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
    var bodyMode: BodyMode
    var cork: Bool
    var sendfileChunkBytes: Int
    var copyBufferBytes: Int
    /// File body bytes per second per response; 0: no limit.
    var limitRate: Int64
    /// File body bytes sent at full speed before `limitRate` applies.
    var limitRateAfter: Int64
    /// The Server field's value.
    var serverName: String

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
        bodyMode = config.bodyMode
        cork = config.cork
        sendfileChunkBytes = config.sendfileChunkBytes
        copyBufferBytes = config.copyBufferBytes
        limitRate = Int64(config.limitRate)
        limitRateAfter = Int64(config.limitRateAfter)
        serverName = config.serverName
    }
}
