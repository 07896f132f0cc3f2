import ArgumentParser

/// `ferry demo NAME`: every server design and socket trick of the csdesign document and
/// its roadmap, each a small program to run, load with `ferry client`, and watch.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run one server design or socket trick from the csdesign document.",
        discussion: """
            The servers speak the csdesign document's echo protocol: the client sends a \
            decimal byte count, the server answers with that many bytes and closes. The \
            count ends at a newline, at the end of the client's input, or when nothing more \
            arrives after its digits, so the document's client.py (bare digits, no newline) \
            works with every server, as `ferry client` (digits and a newline) does. Load \
            them with `ferry client -i 127.0.0.1 -p 2000 -c 5 -t 500 -b 3000`; Ctrl-C \
            prints how many connections each child, thread or process served.
            """,
        subcommands: [
            // The servers: the document's (fork, select, prefork x2), its roadmap's, and the baseline.
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
