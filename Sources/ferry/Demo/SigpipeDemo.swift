import ArgumentParser
import FerryKit
import FerryLab
import Glibc

struct SigpipeDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigpipe",
        abstract: "Writes to a connection reset by the peer: ECONNRESET, then SIGPIPE or EPIPE.",
        discussion: """
            The csdesign document's sigpipe client, run against `ferry demo rst`. Each case opens a fresh \
            connection and waits (poll, up to 5 s) until the server's RST has arrived:

              1. read, then write, SIGPIPE at its default action (csdesign's order): the \
            read fails with "[Errno 104] Connection reset by peer"; the write, made in a \
            child process, kills that child with SIGPIPE: "child N was killed by signal 13 \
            (Broken pipe)".
              2. read, then write, SIGPIPE ignored: the write fails with "[Errno 32] Broken \
            pipe" (EPIPE) and the process lives on.
              3. write before any read, SIGPIPE at its default action: the first write \
            reports the pending ECONNRESET, with no signal; the second one gets SIGPIPE.

            Linux reports a RST once, to whichever read or write comes first; after that \
            every write is EPIPE, preceded by SIGPIPE unless it is ignored. That is why \
            servers ignore SIGPIPE (or send with MSG_NOSIGNAL): a client that goes away \
            must be an error to handle, not the end of the server.

            Try: ferry demo rst in one terminal, ferry demo sigpipe in another.
            """
    )

    @Option(name: .customShort("i"), help: ArgumentHelp("Address of the `ferry demo rst` server.", valueName: "host"))
    var host = "127.0.0.1"

    @Option(name: .short, help: ArgumentHelp("Port of the `ferry demo rst` server.", valueName: "port"))
    var port = 2000

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("-p must be from 1 to 65535") }
    }

    func run() throws {
        do {
            try BrokenPipeDemonstration.run(host: host, port: port)
        } catch let error as SystemError where error.code == ECONNREFUSED {
            Console.error("ferry: \(error); start `ferry demo rst -i \(host) -p \(port)` first")
            throw ExitCode(1)
        } catch {
            Console.error("ferry: \(error)")
            throw ExitCode(1)
        }
    }
}
