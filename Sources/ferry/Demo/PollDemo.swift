import ArgumentParser
import FerryKit

struct PollDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poll",
        abstract: "One process multiplexes every connection with poll(2).",
        discussion: """
            The select demo's loop with poll(2): an array of (descriptor, events) entries \
            instead of bitmaps, so there is no FD_SETSIZE limit, only `ulimit -n`. The \
            array is kept between waits: an entry is appended on accept, its events flip \
            from POLLIN to POLLOUT when the connection has its count and waits to write, \
            and it is removed when the connection closes. The kernel still scans the whole \
            array on every call.

            Try: ferry demo poll -i 127.0.0.1 -p 2000, then in another terminal \
            ferry client -i 127.0.0.1 -p 2000 -c 5 -t 500 -b 3000, then Ctrl-C the server. \
            It prints one row, "child 0 : 2500 times": a single process served them all.
            """
    )

    @OptionGroup var listen: EchoListenOptions

    func run() throws {
        try EchoServerDemo.run(PollModel(), listen: listen, workers: 1,
                               what: "one process, poll(2) over every connection")
    }
}
