import Glibc

/// The two ways a file's bytes reach the socket, one non-blocking step at a time.
/// `offset` and `remaining` are 64-bit: files over 4 GiB work, and every call names
/// its file offset explicitly (sendfile's offset pointer, pread), so nothing else
/// reading the same descriptor (libmagic) can disturb it.
public enum BodySender {
    public enum Step: Equatable {
        /// Bytes went out; call again.
        case sent(Int)
        /// The socket buffer is full: wait until it is writable.
        case wouldBlock
        /// The file ended before the promised length (it shrank while being sent).
        case fileEnded
        /// sendfile cannot send this file (EINVAL/ENOSYS): use the copy loop instead.
        case unsupported
        /// The peer went away (EPIPE, ECONNRESET) or another error; errno inside.
        case failed(Int32)
    }

    /// One sendfile(2) call of at most `chunk` bytes (the kernel itself stops at
    /// 0x7ffff000 per call, so large files always take a loop).
    public static func sendfileStep(socket: Int32, file: Int32, offset: inout Int64, remaining: inout Int64,
                                    chunk: Int) -> Step {
        while true {
            var position = off_t(offset)
            let n = sendfile(socket, file, &position, Int(min(remaining, Int64(chunk))))
            if n > 0 {
                offset += Int64(n)
                remaining -= Int64(n)
                return .sent(n)
            }
            if n == 0 { return .fileEnded }
            switch errno {
            case EINTR: continue
            case EAGAIN: return .wouldBlock
            case EINVAL, ENOSYS: return .unsupported
            default: return .failed(errno)
            }
        }
    }

    /// A read/write copy loop's step through `buffer`, reading at most `most` bytes
    /// (default: a bufferful): bytes read from the file but not yet written stay in
    /// `pending` (a range of `buffer`) for the next call.
    public static func copyStep(socket: Int32, file: Int32, offset: inout Int64, remaining: inout Int64,
                                buffer: inout [UInt8], pending: inout Range<Int>, most: Int = .max) -> Step {
        if pending.isEmpty {
            let wanted = Int(min(remaining, Int64(min(buffer.count, most))))
            let n = buffer.withUnsafeMutableBytes { pread(file, $0.baseAddress, wanted, off_t(offset)) }
            if n < 0 { return errno == EINTR ? .sent(0) : .failed(errno) }
            if n == 0 { return .fileEnded }
            offset += Int64(n)
            pending = 0..<n
        }
        let n = buffer.withUnsafeBytes { raw in
            write(socket, raw.baseAddress! + pending.lowerBound, pending.count)
        }
        if n < 0 {
            switch errno {
            case EINTR: return .sent(0)
            case EAGAIN: return .wouldBlock
            default: return .failed(errno)
            }
        }
        pending = (pending.lowerBound + n)..<pending.upperBound
        remaining -= Int64(n)
        return .sent(n)
    }
}
