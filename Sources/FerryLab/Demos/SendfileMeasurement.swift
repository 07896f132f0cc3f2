import FerryKit
import Glibc

/// `ferry demo sendfile FILE`: csdesign's "Need for Speed" section measured. FILE
/// goes to a reader process on 127.0.0.1 once with sendfile(2) and once with a
/// read(2)/write(2) loop through a user-space buffer, several times each.
///
/// The sender is this process and it is single-threaded, so getrusage(RUSAGE_SELF)
/// deltas around a transfer are exactly the sender's CPU. The reader is another
/// process; its CPU comes from wait4(2) and is shown apart. The wall time ends when
/// the reader has read the last byte and closed, not when the last write returned.
public enum SendfileMeasurement {
    public enum Mode: Equatable {
        case sendfile
        case readWrite(bufferSize: Int)

        public var label: String {
            switch self {
            case .sendfile: return "sendfile"
            case .readWrite(let size): return "read/write \(byteCount(Int64(size)))"
            }
        }
    }

    /// One transfer of the whole file.
    public struct Run {
        public var wallSeconds: Double
        public var senderUserSeconds: Double
        public var senderSystemSeconds: Double
        public var readerSeconds: Double
        public var senderSeconds: Double { senderUserSeconds + senderSystemSeconds }

        /// "0.412 s, sender cpu 0.301 s, 2605 MB/s": one run, as it finishes.
        func summary(bytes: Int64) -> String {
            "\(format(wallSeconds, decimals: 3)) s, sender cpu \(format(senderSeconds, decimals: 3)) s,"
                + " \(format(Double(bytes) / wallSeconds / 1e6, decimals: 0)) MB/s"
        }
    }

    /// A mode's runs; the report shows the median of each column.
    public struct Result {
        public var mode: Mode
        public var bytes: Int64
        public var runs: [Run] = []
    }

    /// An open regular file to send.
    public struct Source {
        public let path: String
        public let fd: Int32
        public let size: Int64
    }

    /// Opens `path` for sending: a readable, non-empty regular file. The error says
    /// what is wrong in one line.
    public static func open(_ path: String) throws -> Source {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SendfileSourceError(path: path, problem: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let problem = String(cString: strerror(errno))
            close(fd)
            throw SendfileSourceError(path: path, problem: problem)
        }
        let problem: String?
        switch info.st_mode & S_IFMT {
        case S_IFREG: problem = info.st_size == 0 ? "the file is empty" : nil
        case S_IFDIR: problem = "is a directory"
        default: problem = "not a regular file"
        }
        if let problem {
            close(fd)
            throw SendfileSourceError(path: path, problem: problem)
        }
        return Source(path: path, fd: fd, size: Int64(info.st_size))
    }

    /// Reads the whole file once, untimed, so every measured run finds it in the
    /// page cache and no mode pays for the disk.
    static func warmPageCache(_ source: Source) throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while offset < source.size {
            let n = buffer.withUnsafeMutableBytes { pread(source.fd, $0.baseAddress, $0.count, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SystemError("read \(source.path)") }
            if n == 0 { break }
            offset += Int64(n)
        }
    }

    /// Warms the page cache, then sends the file `repeat` times in each mode, the
    /// modes alternating so a change in the machine's load falls on both. `progress`
    /// gets a line per run.
    public static func compare(_ source: Source, modes: [Mode], repeat count: Int,
                               progress: (String) -> Void) throws -> [Result] {
        try warmPageCache(source)
        var results = modes.map { Result(mode: $0, bytes: source.size) }
        for round in 1...count {
            for index in results.indices {
                let run = try measure(source, mode: results[index].mode)
                results[index].runs.append(run)
                progress("run \(round), \(results[index].mode.label): \(run.summary(bytes: source.size))")
            }
        }
        return results
    }

    /// Sends the whole file once in `mode` and measures it.
    static func measure(_ source: Source, mode: Mode) throws -> Run {
        let reader = try LoopbackReader(connections: 1)
        let connection = try reader.next()
        let usageBefore = resourceUsage()
        let start = monotonicNanoseconds()
        do {
            try send(source, on: connection.fd, mode: mode)
        } catch {
            close(connection.fd)
            throw error
        }
        connection.finish()
        let end = monotonicNanoseconds()
        let usageAfter = resourceUsage()
        let exit = reader.reap()
        guard exit.status == 0 else {
            throw SystemError("the reader process (\(describeExit(exit.status)))", code: EIO)
        }
        return Run(wallSeconds: Double(end - start) / 1e9,
                   senderUserSeconds: usageAfter.ru_utime.seconds - usageBefore.ru_utime.seconds,
                   senderSystemSeconds: usageAfter.ru_stime.seconds - usageBefore.ru_stime.seconds,
                   readerSeconds: exit.userSeconds + exit.systemSeconds)
    }

    /// The transfer itself, on a blocking socket: the same steps `ferry serve` takes.
    private static func send(_ source: Source, on socket: Int32, mode: Mode) throws {
        var offset: Int64 = 0
        var remaining = source.size
        var buffer: [UInt8] = []
        var pending = 0..<0
        if case .readWrite(let size) = mode { buffer = [UInt8](repeating: 0, count: size) }
        while remaining > 0 {
            let step: BodySender.Step
            switch mode {
            case .sendfile:
                step = BodySender.sendfileStep(socket: socket, file: source.fd, offset: &offset,
                                               remaining: &remaining, chunk: 0x7fff_f000)
            case .readWrite:
                step = BodySender.copyStep(socket: socket, file: source.fd, offset: &offset,
                                           remaining: &remaining, buffer: &buffer, pending: &pending)
            }
            switch step {
            case .sent, .wouldBlock: continue
            case .fileEnded: throw SystemError("\(source.path) shrank while being sent", code: EIO)
            case .unsupported: throw SystemError("sendfile from \(source.path)", code: EINVAL)
            case .failed(let code): throw SystemError("send to the reader process", code: code)
            }
        }
    }

    private static func resourceUsage() -> rusage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage
    }

    // MARK: report

    public static func report(_ results: [Result]) -> [String] {
        var table = TextTable(header: ["mode", "wall s", "sender user s", "sender sys s", "sender cpu s",
                                       "MB/s", "wall ×", "sender cpu ×", "reader cpu s"])
        let baseline = results.first { $0.mode == .sendfile }
        let baseWall = baseline.map { median($0.runs.map(\.wallSeconds)) }
        let baseCPU = baseline.map { median($0.runs.map(\.senderSeconds)) }
        for result in results {
            let wall = median(result.runs.map(\.wallSeconds))
            let cpu = median(result.runs.map(\.senderSeconds))
            table.add([
                result.mode.label, format(wall, decimals: 3),
                format(median(result.runs.map(\.senderUserSeconds)), decimals: 3),
                format(median(result.runs.map(\.senderSystemSeconds)), decimals: 3),
                format(cpu, decimals: 3),
                format(Double(result.bytes) / wall / 1e6, decimals: 0),
                baseWall.map { format(wall / $0, decimals: 2) } ?? "-",
                baseCPU.map { $0 > 0 ? format(cpu / $0, decimals: 2) : "-" } ?? "-",
                format(median(result.runs.map(\.readerSeconds)), decimals: 3),
            ])
        }
        var notes = [
            "Each column is the median of its runs. wall: from the first byte handed to the kernel until"
                + " the reader had read the last one and closed. sender user/sys: getrusage(RUSAGE_SELF)"
                + " deltas of this process, which sends and does nothing else meanwhile. MB/s: file bytes"
                + " (10^6) per wall second. ×: relative to sendfile. reader cpu: the reader process's own"
                + " user+sys time (wait4).",
            "sendfile hands the file's page-cache pages to the socket without copying them into this"
                + " process; the read/write loop copies every byte into its buffer (read) and back into the"
                + " kernel (write), two system calls per buffer.",
        ]
        if let sendfile = baseline, let copy = results.first(where: { $0.mode != .sendfile }) {
            notes += comparison(sendfile: sendfile, copy: copy)
        }
        notes.append("On loopback the receive path's TCP processing runs as a softirq in the sender's context"
                     + " and is charged to the sender's sys time, in both modes alike.")
        return table.lines + [""] + notes.flatMap { wrap($0) }
    }

    /// What the medians say, in words: the sender's CPU, then the wall time, and,
    /// when the copy loop won on the clock, where sendfile's time went.
    private static func comparison(sendfile: Result, copy: Result) -> [String] {
        let cpuRatio = median(copy.runs.map(\.senderSeconds)) / median(sendfile.runs.map(\.senderSeconds))
        let wallRatio = median(copy.runs.map(\.wallSeconds)) / median(sendfile.runs.map(\.wallSeconds))
        let readerRatio = median(sendfile.runs.map(\.readerSeconds)) / median(copy.runs.map(\.readerSeconds))
        var notes: [String] = []
        if cpuRatio > 1 {
            notes.append("Here \(copy.mode.label) needed \(format(cpuRatio, decimals: 2))× the sender CPU that"
                         + " sendfile needed (the smaller the buffer, the more system calls the loop makes).")
        } else {
            notes.append("Here sendfile did not save the sender CPU (\(format(cpuRatio, decimals: 2))× of the"
                         + " copy loop's): the runs were too short, or the machine too busy, to tell.")
        }
        if wallRatio >= 1 {
            notes.append("sendfile also finished first, \(format(wallRatio, decimals: 2))× sooner.")
        } else if readerRatio <= 1 {
            notes.append("Yet the copy loop finished first (\(format(1 / wallRatio, decimals: 2))× sooner);"
                         + " wall time on a busy machine varies from run to run: compare the CPU columns.")
        } else {
            notes.append("Yet the copy loop finished first (\(format(1 / wallRatio, decimals: 2))× sooner): on"
                         + " loopback the receiver runs on this machine too, and it needed"
                         + " \(format(readerRatio, decimals: 2))× the CPU to receive what sendfile sent (reader"
                         + " cpu). Over a real network the receiver is elsewhere and the card reads the"
                         + " page-cache pages itself; what the server saves is its own CPU.")
        }
        return notes
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

/// FILE cannot be sent: missing, unreadable, a directory, empty.
public struct SendfileSourceError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String { "\(path): \(problem)" }
}

/// "64 KiB", "1 GiB", "1536 bytes": a size as a person would write it.
func byteCount(_ bytes: Int64) -> String {
    for (unit, size) in [("GiB", Int64(1) << 30), ("MiB", Int64(1) << 20), ("KiB", Int64(1) << 10)]
    where bytes >= size && bytes % size == 0 {
        return "\(bytes / size) \(unit)"
    }
    return "\(bytes) bytes"
}
