/// One Kafka record ready to produce: topic, serialised key and value, and headers.
public struct FormattedRecord: Sendable, Hashable {
    /// A Kafka record header.
    public struct Header: Sendable, Hashable {
        public var key: String
        public var value: [UInt8]

        public init(key: String, value: [UInt8]) {
            self.key = key
            self.value = value
        }
    }

    public var topic: String
    /// JSON key; nil for keyless tables and truncate events (EVENT-FORMAT.md c.2).
    public var key: [UInt8]?
    /// JSON value; nil for tombstones (c.3).
    public var value: [UInt8]?
    /// Debezium headers: `__debezium.newkey` / `__debezium.oldkey` on primary-key-change records (c.3).
    public var headers: [Header]

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [Header] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// Whether this is a tombstone (a key with a null value, for log compaction).
    public var isTombstone: Bool { value == nil }
}

extension FormattedRecord {
    /// Header on the delete half of a primary-key change: the new key (`RelationalChangeRecordEmitter`).
    public static let newKeyHeader = "__debezium.newkey"
    /// Header on the create half of a primary-key change: the old key.
    public static let oldKeyHeader = "__debezium.oldkey"
}
