import FerryKit

/// One row of the design table: a concurrency model with its settings, and the
/// number the classic comparison measured for it.
public struct DesignVariant {
    /// Row name, as in the book's table.
    public let title: String
    /// The catalog model (for HTTP rows, served with `ferry serve --model`).
    public let model: String
    /// Extra `ferry demo MODEL` arguments (locks, hand-off style).
    public let demoArguments: [String]
    /// Whether the model has a pool whose size is -n / --workers.
    public let pooled: Bool
    /// Server CPU seconds minus the iterative baseline in UNP vol. 1, 3rd ed., Fig. 30.1
    /// (newest column: 5,000 connections of 4,000 bytes, 15 children or threads).
    public let book: Double?
    /// Whether an HTTP row exists for it (`serve` runs each catalog model with its default settings).
    public let servesHTTP: Bool

    /// The designs in the book's order, then the multiplexing ones the book did not time.
    public static let all: [DesignVariant] = [
        DesignVariant(title: "iterative (baseline)", model: "iterative", demoArguments: [], pooled: false,
                      book: 0, servesHTTP: true),
        DesignVariant(title: "fork per client", model: "fork", demoArguments: [], pooled: false,
                      book: 20.90, servesHTTP: true),
        DesignVariant(title: "prefork, children call accept", model: "prefork-accept", demoArguments: [],
                      pooled: true, book: 1.80, servesHTTP: true),
        DesignVariant(title: "prefork, file lock around accept", model: "prefork-accept",
                      demoArguments: ["--lock", "file"], pooled: true, book: 2.07, servesHTTP: false),
        DesignVariant(title: "prefork, thread mutex around accept", model: "prefork-accept",
                      demoArguments: ["--lock", "mutex"], pooled: true, book: 1.75, servesHTTP: false),
        DesignVariant(title: "prefork, descriptor passing", model: "prefork-pass", demoArguments: [], pooled: true,
                      book: 2.58, servesHTTP: true),
        DesignVariant(title: "thread per client", model: "thread", demoArguments: [], pooled: false,
                      book: 0.99, servesHTTP: true),
        DesignVariant(title: "prethreaded, mutex around accept", model: "prethread", demoArguments: ["--lock"],
                      pooled: true, book: 1.93, servesHTTP: true),
        DesignVariant(title: "prethreaded, main thread accepts", model: "prethread",
                      demoArguments: ["--main-accept"], pooled: true, book: 2.05, servesHTTP: false),
        DesignVariant(title: "select", model: "select", demoArguments: [], pooled: false, book: nil, servesHTTP: true),
        DesignVariant(title: "poll", model: "poll", demoArguments: [], pooled: false, book: nil, servesHTTP: true),
        DesignVariant(title: "epoll", model: "epoll", demoArguments: [], pooled: false, book: nil, servesHTTP: true),
    ]
}
