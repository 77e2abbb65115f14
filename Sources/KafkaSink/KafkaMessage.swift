/// One record header (Kafka record format v2: a string key and a nullable byte value).
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    /// nil for a header written with a null value.
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// The value as UTF-8 text (invalid sequences repaired), nil for a null value.
    public var stringValue: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

/// A consumed Kafka record, copied out of librdkafka (`rd_kafka_message_t`).
public struct KafkaMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// nil for a null key.
    public var key: [UInt8]?
    /// nil for a tombstone.
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Record timestamp, ms since the epoch (`rd_kafka_message_timestamp`), nil when not available.
    public var timestampMillis: Int64?

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = [],
        timestampMillis: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMillis = timestampMillis
    }

    /// The key as UTF-8 text (invalid sequences repaired).
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }

    /// The value as UTF-8 text (invalid sequences repaired).
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }

    /// The value of the last header called `name` (nil if absent or null).
    public func header(_ name: String) -> [UInt8]? {
        headers.last { $0.name == name }?.value ?? nil
    }
}
