import ArgumentParser
import FerryKit

struct ForkDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fork",
        abstract: "One child process per client; SIGCHLD reaps them, so no zombies remain.",
        discussion: """
            The parent accepts each connection and forks a child for it; the child closes the \
            listening socket, answers, and exits. SIGCHLD reaches the parent through a signalfd \
            and it reaps every ended child with waitpid(WNOHANG): while the client runs, \
            `ps --ppid <server pid>` shows only live children, never <defunct> ones. At most \
            \(ForkDemo.childCap) children are alive at once.

            Try: ferry demo fork -i 127.0.0.1 -p 2000, then in another terminal \
            ferry client -i 127.0.0.1 -p 2000 -c 5 -t 100 -b 3000, then Ctrl-C the server \
            (or kill -TERM it). Expect one line, child 0, with the total of all the children: \
            there is no pool, each child serves one connection.
            """
    )

    /// The csdesign document's server01 forks without limit; this cap only keeps a runaway client
    /// from filling the process table.
    static let childCap = 1024

    @OptionGroup var listen: EchoListenOptions

    func run() throws {
        try EchoServerDemo.run(ForkPerClientModel(), listen: listen, workers: Self.childCap,
                               what: "one child process per client")
    }
}
