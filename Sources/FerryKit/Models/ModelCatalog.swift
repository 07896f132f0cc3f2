/// Every concurrency model by its command-line name.
public enum ModelCatalog {
    public static let all: [any ServerModel] = [
        PreforkPassModel(),
        SelectModel(),
        PollModel(),
        EpollModel(),
    ]

    public static var names: [String] { all.map { type(of: $0).name } }

    public static func model(named name: String) -> (any ServerModel)? {
        all.first { type(of: $0).name == name }
    }
}
