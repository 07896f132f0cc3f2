import ArgumentParser

/// `ferry demo NAME`: every server design and socket trick of the seed document and
/// its roadmap, each a small program to run, load with `ferry client`, and watch.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run one server design or socket trick from the seed document.",
        discussion: """
            The servers speak the seed's echo protocol: the client sends a decimal byte \
            count and a newline, the server answers with that many bytes and closes. Load \
            them with `ferry client -i 127.0.0.1 -p 2000 -c 5 -t 500 -b 3000`; Ctrl-C \
            prints how many connections each child, thread or process served.
            """,
        subcommands: [
            // The servers: the seed's (fork, select, prefork x2), its roadmap's, and the baseline.
            IterativeDemo.self,
            ForkDemo.self,
            SelectDemo.self,
            PreforkAcceptDemo.self,
            PreforkPassDemo.self,
            ThreadDemo.self,
            PollDemo.self,
            EpollDemo.self,
            PrethreadDemo.self,
            // The tricks.
            RSTDemo.self,
            SigpipeDemo.self,
            SelSigRaceDemo.self,
            SelfPipeDemo.self,
            PselectDemo.self,
            SignalfdDemo.self,
            CorkDemo.self,
            SendfileDemo.self,
            HerdDemo.self,
        ]
    )
}
