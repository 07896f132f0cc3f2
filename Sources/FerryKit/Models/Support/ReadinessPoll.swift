import Glibc

/// poll(2) for input on `descriptors`: returns those that are readable, hung up or
/// in error within `timeoutMilliseconds` (-1: wait forever). A timeout or EINTR
/// returns none, so callers simply loop.
func readableDescriptors(_ descriptors: [Int32], timeoutMilliseconds: Int32) -> [Int32] {
    var entries = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
    let count = poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
    guard count > 0 else { return [] }
    return entries.filter { $0.revents != 0 }.map(\.fd)
}
