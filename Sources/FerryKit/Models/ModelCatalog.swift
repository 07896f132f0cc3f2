/// Every concurrency model by its command-line name.
public enum ModelCatalog {
    public static let all: [any ServerModel] = [
        PreforkPassModel(),
        IterativeModel(),
        ForkPerClientModel(),
        ThreadPerClientModel(),
        PrethreadModel(handoff: .lockedAccept),  // UNP 30.11's locked accept measured slightly faster than 30.12's hand-off
        PreforkAcceptModel(lock: .none),  // Linux wakes one process per connection: no lock needed
    ]

    public static var names: [String] { all.map { type(of: $0).name } }

    public static func model(named name: String) -> (any ServerModel)? {
        all.first { type(of: $0).name == name }
    }
}
