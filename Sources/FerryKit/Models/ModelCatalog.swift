/// Every concurrency model by its command-line name.
public enum ModelCatalog {
    /// The default (prefork-pass-epoll) first, then csdesign's designs and its roadmap's.
    public static let all: [any ServerModel] = [
        PreforkPassEpollModel(),
        PreforkPassModel(),
        IterativeModel(),
        ForkPerClientModel(),
        SelectModel(),
        // Linux wakes one process blocked in accept per connection: no lock needed.
        PreforkAcceptModel(lock: .none),
        ThreadPerClientModel(),
        PollModel(),
        EpollModel(),
        // UNP measured 30.11's locked accept slightly faster than 30.12's main-thread hand-off.
        PrethreadModel(handoff: .lockedAccept),
    ]

    public static var names: [String] { all.map { type(of: $0).name } }

    public static func model(named name: String) -> (any ServerModel)? {
        all.first { type(of: $0).name == name }
    }
}
