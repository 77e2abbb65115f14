/// Where the committed source offset lives (`offset.storage*`).
public struct OffsetSettings: Sendable, Hashable {
    /// `offset.storage` with its location.
    public enum Storage: Sendable, Hashable {
        /// A compacted topic (`offset.storage.topic`), written in the events' Kafka transaction.
        case kafka(topic: String)
        /// A local file (`offset.storage.file.filename`), replaced atomically after the sink flushed.
        case file(path: String)
    }

    /// `offset.storage`. Default: `kafka(topic: "<name>.offsets")` when `sink.type` is `kafka`, else `file`
    /// (whose `offset.storage.file.filename` is then required).
    public var storage: Storage

    public init(storage: Storage) {
        self.storage = storage
    }
}
