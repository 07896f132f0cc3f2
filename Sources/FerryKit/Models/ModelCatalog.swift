/// Every concurrency model by its command-line name.
public enum ModelCatalog {
    public static let all: [any ServerModel] = [
        PreforkPassModel(),
        IterativeModel(),
        ForkPerClientModel(),
        ThreadPerClientModel(),
        // UNP measured 30.11's locked accept slightly faster than 30.12's main-thread hand-off.
        PrethreadModel(handoff: .lockedAccept),
        // Linux wakes one process blocked in accept per connection: no lock needed.
        PreforkAcceptModel(lock: .none),
    ]

    public static var names: [String] { all.map { type(of: $0).name } }

    public static func model(named name: String) -> (any ServerModel)? {
        all.first { type(of: $0).name == name }
    }
}
