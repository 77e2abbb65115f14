/// Where events go (`sink.type`, `sink.file.path`).
public struct SinkSettings: Sendable, Hashable {
    /// `sink.type` with its location.
    public enum Kind: Sendable, Hashable {
        /// Kafka, transactional (`kafka.*` properties).
        case kafka
        /// JSON lines on standard output.
        case stdout
        /// JSON lines appended to `sink.file.path`.
        case file(path: String)
    }

    /// `sink.type`. Default: `kafka`.
    public var kind: Kind

    public init(kind: Kind = .kafka) {
        self.kind = kind
    }
}
