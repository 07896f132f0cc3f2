import ArgumentParser
import FerryKit

struct SelectDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "select",
        abstract: "One process multiplexes every connection with select(2).",
        discussion: """
            No children and no threads: one loop waits in select(2) on the listening \
            socket, every connection and a signalfd at once, and serves whichever is ready. \
            A connection that cannot take its whole answer at once waits in the write set \
            and resumes where it stopped (csdesign's version writes blocking and admits it \
            cheats), so one slow reader never holds up the others.

            An fd_set holds descriptors 0 to FD_SETSIZE-1 (1023); setting a higher one \
            corrupts memory. A connection whose descriptor is that high is refused: the \
            server logs "refusing the connection ... at or above FD_SETSIZE" and closes it, \
            then goes on serving the rest. The poll and epoll demos have no such limit.

            Try: ferry demo select -i 127.0.0.1 -p 2000, then in another terminal \
            ferry client -i 127.0.0.1 -p 2000 -c 5 -t 500 -b 3000, then Ctrl-C the server. \
            It prints one row, "child 0 : 2500 times": a single process served them all. \
            To see the refusal, hold more than 1024 connections open at once from a shell \
            with a high enough `ulimit -n`: \
            for i in $(seq 1100); do exec {fd}<>/dev/tcp/127.0.0.1/2000; done
            """
    )

    @OptionGroup var listen: EchoListenOptions

    func run() throws {
        try EchoServerDemo.run(SelectModel(), listen: listen, workers: 1,
                               what: "one process, select(2) over every connection")
    }
}
