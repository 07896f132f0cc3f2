/// The storage a message of connections is built in or received into, sized once for
/// the largest message (`DescriptorChannel.maxConnectionsPerMessage` descriptors and
/// peers) and reused by every message one end sends or takes, so that passing a
/// connection allocates nothing and zeroes no buffer. One per parent, one per worker.
public struct ChannelScratch {
    /// The descriptors of the message: as many from the start as it carries.
    var descriptors: [Int32]
    /// The message's bytes: its kind, then one `PassedPeer` per connection.
    var payload: [UInt8]
    /// The connections of the last message received (`receiveParentMessage(into:)`).
    public internal(set) var connections: [PassedConnection] = []

    public init() {
        let most = DescriptorChannel.maxConnectionsPerMessage
        descriptors = [Int32](repeating: -1, count: most)
        payload = [UInt8](repeating: 0, count: ParentMessageKind.size + most * MemoryLayout<PassedPeer>.stride)
        connections.reserveCapacity(most)
    }

    /// Writes a message of `connections` (at most `maxConnectionsPerMessage`): their
    /// descriptors, and the kind followed by their peers. Returns the payload's length.
    mutating func writeConnections(_ connections: ArraySlice<PassedConnection>) -> Int {
        let stride = MemoryLayout<PassedPeer>.stride
        payload.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: ParentMessageKind.connections.rawValue, as: UInt32.self)
            for (index, connection) in connections.enumerated() {
                descriptors[index] = connection.fd
                raw.storeBytes(of: PassedPeer(connection.peer), toByteOffset: ParentMessageKind.size + index * stride,
                               as: PassedPeer.self)
            }
        }
        return ParentMessageKind.size + connections.count * stride
    }

    /// The kind of a message of `received` bytes (nil when too short to say).
    func kind(ofReceived received: Int) -> ParentMessageKind? {
        guard received >= ParentMessageKind.size else { return nil }
        return ParentMessageKind(rawValue: payload.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
    }

    /// How many peers a message of connections of `received` bytes announces.
    func peerCount(ofReceived received: Int) -> Int {
        (received - ParentMessageKind.size) / MemoryLayout<PassedPeer>.stride
    }

    /// The peer at `index` in the message received.
    func peer(_ index: Int) -> SocketAddress {
        payload.withUnsafeBytes {
            $0.loadUnaligned(fromByteOffset: ParentMessageKind.size + index * MemoryLayout<PassedPeer>.stride,
                             as: PassedPeer.self)
        }.address
    }
}
