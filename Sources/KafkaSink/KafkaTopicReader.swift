import Logging

/// Reads whole topics from the beginning up to their current high watermarks: a test and operations helper
/// (`tributary offsets show`, end-to-end checks). Uses librdkafka's queue consumer without a consumer group,
/// so it needs no group ACLs and commits nothing.
public struct KafkaTopicReader: Sendable {
    /// Kafka's `isolation.level` consumer property.
    public enum IsolationLevel: String, Sendable {
        /// Only committed transactional records (and all non-transactional ones), up to the last stable offset.
        case readCommitted = "read_committed"
        /// Everything written, including records of open or aborted transactions.
        case readUncommitted = "read_uncommitted"
    }

    public var configuration: KafkaConfiguration
    public var isolationLevel: IsolationLevel
    private let logger: Logger
    private let blocking = BlockingQueue(label: "tributary.kafka.reader")

    /// - Parameters:
    ///   - configuration: librdkafka properties (`bootstrap.servers`, security, …).
    ///   - isolationLevel: Default: `.readCommitted`.
    public init(configuration: KafkaConfiguration, isolationLevel: IsolationLevel = .readCommitted, logger: Logger) {
        self.configuration = configuration
        self.isolationLevel = isolationLevel
        self.logger = logger
    }

    /// All records of `topic` up to its high watermark at call time, ordered by partition then offset. An
    /// unknown topic yields `[]`.
    public func readAll(topic: String, timeout: Duration = .seconds(30)) async throws -> [KafkaMessage] {
        try await readAll(topics: [topic], timeout: timeout)
    }

    /// All records of `topics` (nil: every topic but Kafka's internal ones) up to their high watermarks at call
    /// time, ordered by topic, partition, offset.
    public func readAll(topics: [String]?, timeout: Duration = .seconds(30)) async throws -> [KafkaMessage] {
        let configuration = configuration
        let isolation = isolationLevel.rawValue
        let logger = logger
        let messages = try await blocking.runCancellable { flag in
            var messages: [KafkaMessage] = []
            try RDKafkaRangeReader.read(
                configuration: configuration, topics: topics, isolationLevel: isolation, timeout: timeout, flag: flag,
                logger: logger
            ) { message in
                messages.append(message.copy())
            }
            return messages
        }
        return messages.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }
    }
}
