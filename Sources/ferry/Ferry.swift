import ArgumentParser
import Glibc

@main
struct Ferry: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ferry",
        abstract: "A preforked, descriptor-passing sendfile file server, and a lab of Unix server designs.",
        subcommands: [ServeCommand.self, ClientCommand.self, DemoCommand.self, BenchCommand.self]
    )

    static func main() {
        // A blocked signal mask survives exec: a parent that spawned us from a thread
        // with SIGTERM blocked (test runners, some supervisors) would otherwise leave
        // our signal handling deaf. Start from an empty mask.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        main(nil)
    }
}
