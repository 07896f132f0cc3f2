import CFerry
import FerryKit
import Glibc

/// `ferry demo cork`: how many TCP segments a response written in small pieces
/// costs with TCP_CORK, with TCP_NODELAY, and with neither (Nagle's algorithm).
///
/// Each round is one HTTP/1.0-style response to a reader process on 127.0.0.1: a
/// status line, four header lines, the blank line and a short body, each its own
/// write(2). The count is the sending socket's tcpi_segs_out once every byte is
/// acknowledged, minus its value before the round's first write (on a new
/// connection that leaves out the SYN-ACK, the handshake's only segment on this
/// side). Nothing flows toward the sender, so it sends no pure ACKs: every counted
/// segment carries data. The FIN is not counted: the count is taken before close.
public enum CorkMeasurement {
    public enum Mode: CaseIterable {
        /// TCP_CORK set before the first write and cleared after the last.
        case cork
        /// TCP_NODELAY: each write leaves at once.
        case noDelay
        /// Neither: Nagle holds a small write back while earlier data is unacknowledged.
        case nagle

        public var label: String {
            switch self {
            case .cork: return "TCP_CORK"
            case .noDelay: return "TCP_NODELAY"
            case .nagle: return "neither (Nagle)"
            }
        }
    }

    /// One mode's totals over all rounds.
    public struct Result {
        public var mode: Mode
        public var connections: Connections
        public var rounds = 0
        public var writes = 0
        public var segments = 0
        public var bytes = 0
        /// Per round: from the first write until the last byte left the sender
        /// (tcpi_notsent_bytes reached 0), in microseconds.
        public var flushMicroseconds: [Double] = []

        public var segmentsPerRound: Double { rounds == 0 ? 0 : Double(segments) / Double(rounds) }
    }

    /// The response, one write(2) per element: what a server writing its head line
    /// by line (and then the body) hands the kernel.
    public static let responsePieces: [[UInt8]] = {
        let body = "<!DOCTYPE html>\n<title>ferry</title>\n<p>Hello from ferry.</p>\n"
        return [
            "HTTP/1.0 200 OK\r\n",
            "Server: ferry\r\n",
            "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n",
            "Content-Type: text/html; charset=utf-8\r\n",
            "Content-Length: \(body.utf8.count)\r\n",
            "\r\n",
            body,
        ].map { Array($0.utf8) }
    }()

    /// Whether each response gets its own connection (HTTP/1.0, as `ferry serve`) or
    /// all rounds share one (a keep-alive connection). It matters to Nagle: a fresh
    /// connection's receiver ACKs every segment at once (quick-ACK mode); a warmed-up
    /// one delays its ACKs until the reading application has taken the data.
    public enum Connections: CaseIterable {
        case newPerResponse
        case oneForAll

        public var label: String {
            switch self {
            case .newPerResponse: return "new per response"
            case .oneForAll: return "one for all"
            }
        }
    }

    /// Runs `rounds` responses in `mode`, pausing `gapMicroseconds` between writes
    /// (0: back to back, as a server that formats its head as it goes).
    public static func measure(_ mode: Mode, connections: Connections, rounds: Int,
                               gapMicroseconds: Int) throws -> Result {
        let reader = try LoopbackReader(connections: connections == .newPerResponse ? rounds : 1)
        var result = Result(mode: mode, connections: connections)
        var open: LoopbackReader.Connection?
        for round in 0..<rounds {
            let connection = try open ?? reader.next()
            open = connection
            do {
                try sendResponse(on: connection.fd, mode: mode, gapMicroseconds: gapMicroseconds, into: &result)
            } catch {
                close(connection.fd)
                throw error
            }
            if connections == .newPerResponse || round == rounds - 1 {
                connection.finish()
                open = nil
            }
        }
        let exit = reader.reap()
        guard exit.status == 0 else {
            throw SystemError("the reader process (\(describeExit(exit.status)))", code: EIO)
        }
        return result
    }

    private static func sendResponse(on fd: Int32, mode: Mode, gapMicroseconds: Int,
                                      into result: inout Result) throws {
        switch mode {
        case .cork: break
        case .noDelay: SocketOptions.setNoDelay(fd, true)
        case .nagle: SocketOptions.setNoDelay(fd, false)
        }
        let before = try sendState(fd)
        let start = monotonicNanoseconds()
        if mode == .cork { SocketOptions.setCork(fd, true) }
        for (index, piece) in responsePieces.enumerated() {
            if index > 0 && gapMicroseconds > 0 { usleep(UInt32(gapMicroseconds)) }
            guard writeFully(fd, piece) else { throw SystemError("write") }
            result.writes += 1
        }
        if mode == .cork { SocketOptions.setCork(fd, false) }
        let flushed = try waitFor(fd, "the last byte to leave") { $0.not_sent_bytes == 0 }
        result.flushMicroseconds.append(Double(flushed.time - start) / 1000)
        let acknowledged = try waitFor(fd, "the acknowledgment") {
            $0.not_sent_bytes == 0 && $0.unacked_segments == 0
        }
        result.rounds += 1
        result.segments += Int(acknowledged.state.segments_out - before.segments_out)
        result.bytes += Int(acknowledged.state.bytes_sent - before.bytes_sent)
    }

    private static func sendState(_ fd: Int32) throws -> ferry_tcp_send_state {
        var state = ferry_tcp_send_state()
        try check(ferry_tcp_send_state_read(fd, &state), "getsockopt(TCP_INFO)")
        return state
    }

    /// Polls TCP_INFO until `condition` holds (at most 2 s: a delayed ACK is 40 ms,
    /// a lost segment on loopback does not happen). Yields the CPU between polls so
    /// the reader, on a 2-core machine, is not starved.
    private static func waitFor(_ fd: Int32, _ what: String, _ condition: (ferry_tcp_send_state) -> Bool)
        throws -> (state: ferry_tcp_send_state, time: UInt64) {
        let deadline = monotonicNanoseconds() + 2_000_000_000
        while true {
            let state = try sendState(fd)
            let now = monotonicNanoseconds()
            if condition(state) { return (state, now) }
            if now > deadline { throw SystemError("waiting for \(what)", code: ETIMEDOUT) }
            sched_yield()
        }
    }

    // MARK: report

    /// The table and the notes that say what it means, measured numbers included.
    public static func report(_ results: [Result]) -> [String] {
        var table = TextTable(header: ["mode", "connection", "rounds", "writes", "segments", "segments/round",
                                       "bytes", "bytes/segment", "flush µs avg", "flush µs max"])
        for result in results {
            table.add([
                result.mode.label, result.connections.label, String(result.rounds), String(result.writes),
                String(result.segments), format(result.segmentsPerRound, decimals: 2), String(result.bytes),
                format(result.segments == 0 ? 0 : Double(result.bytes) / Double(result.segments), decimals: 1),
                format(average(result.flushMicroseconds), decimals: 1),
                format(result.flushMicroseconds.max() ?? 0, decimals: 1),
            ])
        }
        return table.lines + [""] + notes(results).flatMap { wrap($0) }
    }

    private static func notes(_ results: [Result]) -> [String] {
        let pieces = responsePieces.count
        var notes = [
            "segments: the sender's tcpi_segs_out once all data was acknowledged, minus its value before the"
                + " round's first write (on a new connection that subtracts the handshake's one segment on this"
                + " side, the SYN-ACK). No data flows back, so every counted segment carries data; the FIN is"
                + " sent after the count. bytes: tcpi_bytes_sent over the same span.",
            "flush: from the first write(2) until no written byte is left unsent (tcpi_notsent_bytes = 0).",
        ]
        for connections in Connections.allCases {
            let row = { (mode: Mode) in results.first { $0.mode == mode && $0.connections == connections } }
            if let cork = row(.cork), let noDelay = row(.noDelay) {
                notes.append("\(connections.label): TCP_CORK sent \(format(cork.segmentsPerRound, decimals: 2))"
                             + " segment(s) per response of \(pieces) writes, TCP_NODELAY"
                             + " \(format(noDelay.segmentsPerRound, decimals: 2)); every segment adds at least"
                             + " 40 bytes of TCP/IP headers (52 with timestamps) and a trip through both stacks.")
            }
            if let nagle = row(.nagle) {
                let perRound = format(nagle.segmentsPerRound, decimals: 2)
                if nagle.segments < nagle.writes {
                    notes.append("\(connections.label): Nagle alone also coalesced (\(perRound) segments per"
                                 + " response on average): a write that found an earlier small segment still"
                                 + " unacknowledged was held and left with the writes after it once the ACK came."
                                 + " An ACK is late when the receiver delays it (out of quick-ACK mode, the mode"
                                 + " of a new connection, it ACKs as its reader reads) or when a busy machine"
                                 + " gets to it late. On loopback that wait is microseconds; over a network it is"
                                 + " a round trip, or a delayed-ACK timeout (40 ms or more).")
                } else {
                    notes.append("\(connections.label): Nagle did not coalesce (\(perRound) segments per"
                                 + " response): the ACK of each small segment was back before the next write(2),"
                                 + " since the receiver ACKed each at once (quick-ACK mode, as on a new"
                                 + " connection) and loopback's round trip is microseconds. Over a network the"
                                 + " writes after the first would wait a round trip.")
                }
            }
        }
        return notes
    }

    private static func average(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
