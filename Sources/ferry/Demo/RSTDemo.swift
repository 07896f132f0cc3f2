import ArgumentParser
import FerryKit
import FerryLab

struct RSTDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rst",
        abstract: "An iterative server that answers every connection with a TCP RST (SO_LINGER {on, 0}).",
        discussion: """
            The csdesign document's rstserver: accept a connection, set SO_LINGER to {on, 0 seconds}, \
            close it. With a zero linger time close(2) throws the connection away and sends \
            a RST instead of the usual FIN. One line per connection: "sent RST to \
            127.0.0.1:5555". Runs until Ctrl-C or SIGTERM.

            Try: ferry demo rst, then in another terminal ferry demo sigpipe (both default \
            to 127.0.0.1 port 2000) and watch the client's read fail with "Connection \
            reset by peer" and its writes with SIGPIPE and "Broken pipe". \
            `sudo tcpdump -i lo -n port 2000` shows the [R.] segment.
            """
    )

    @Option(name: .customShort("i"),
            help: ArgumentHelp("Address to listen on. 127.0.0.1 by default, as csdesign's rstserver binds localhost: a server that resets every connection belongs on loopback, not on a public interface.",
                               valueName: "host"))
    var host = "127.0.0.1"

    @Option(name: .short, help: ArgumentHelp("TCP port (0 picks a free one; the first line shows it).", valueName: "port"))
    var port = 2000

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("-p must be from 0 to 65535") }
    }

    func run() throws {
        let listeners: [Listener]
        do {
            listeners = try Listener.open(host: host, port: port)
        } catch {
            Console.error("ferry: cannot listen on \(host) port \(port): \(error)")
            throw ExitCode(1)
        }
        let address = listeners.map { $0.address.description }.joined(separator: " and ")
        Console.out("rst: listening on \(address); every connection is accepted and closed with"
                    + " SO_LINGER {on, 0}, which sends a RST")
        Console.out("Try `ferry demo sigpipe -i \(listeners[0].address.host) -p \(listeners[0].address.port)`;"
                    + " Ctrl-C stops.")
        let resets = try RSTServer.run(listeners: listeners)
        Console.out("rst: stopped after resetting \(resets) connection\(resets == 1 ? "" : "s")")
    }
}
