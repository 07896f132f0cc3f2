import ArgumentParser
import FerryKit
import FerryLab

struct CorkDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cork",
        abstract: "Count the TCP segments a response written in small pieces costs: TCP_CORK, TCP_NODELAY, Nagle.",
        discussion: """
            Each round sends one HTTP/1.0-style response to a reader process on \
            127.0.0.1 that reads continuously: a status line, four header lines, the \
            blank line and a short body, each its own write(2). It is done three ways: \
            with TCP_CORK set before the first write and cleared after the last (the \
            kernel holds partial segments until uncorked), with TCP_NODELAY (every write \
            leaves at once as its own segment), and with neither (Nagle's algorithm holds \
            a small write back while earlier data is unacknowledged); each way once with \
            a new connection per response (HTTP/1.0, as ferry serve) and once with all \
            rounds on one connection.

            For each it prints the segments the sender sent (TCP_INFO tcpi_segs_out, read \
            once all data is acknowledged, minus its value before the first write: on a \
            new connection, the SYN-ACK), the bytes, and how long until the last byte \
            left the sender.

            Try: ferry demo cork, or ferry demo cork --rounds 200, or --gap 50 to space \
            the writes out. Expect TCP_CORK at 1 segment per response and TCP_NODELAY at \
            7. Nagle depends on when ACKs come back: on a new connection the receiver \
            ACKs at once and Nagle sends 7 or nearly, like TCP_NODELAY; on a long one it delays \
            its ACKs and Nagle coalesces. The notes say what happened.
            """
    )

    @Option(help: "Responses (connections) per mode; totals and averages are over all of them.")
    var rounds = 20

    @Option(help: "Microseconds to pause between writes (0: back to back, as a server formatting its head).")
    var gap = 0

    func validate() throws {
        guard (1...10_000).contains(rounds) else { throw ValidationError("--rounds must be from 1 to 10000") }
        guard (0...100_000).contains(gap) else {
            throw ValidationError("--gap must be from 0 to 100000 microseconds")
        }
    }

    func run() throws {
        let pieces = CorkMeasurement.responsePieces
        Console.out("cork: \(rounds) responses per mode, each \(pieces.count) writes of"
                    + " \(pieces.map(\.count).reduce(0, +)) bytes in all, to a reader process on 127.0.0.1"
                    + (gap > 0 ? ", \(gap) µs between writes" : ""))
        var results: [CorkMeasurement.Result] = []
        for connections in CorkMeasurement.Connections.allCases {
            for mode in CorkMeasurement.Mode.allCases {
                do {
                    results.append(try CorkMeasurement.measure(mode, connections: connections, rounds: rounds,
                                                               gapMicroseconds: gap))
                } catch {
                    Console.error("ferry demo cork: \(mode.label), \(connections.label) connection: \(error)")
                    throw ExitCode(1)
                }
            }
        }
        CorkMeasurement.report(results).forEach(Console.out)
    }
}
