import TributaryCore

/// Errors of the Kafka sink, carrying librdkafka's classification (`rd_kafka_error_is_fatal`,
/// `rd_kafka_error_is_retriable`, `rd_kafka_error_txn_requires_abort`) copied at the C boundary.
///
/// `isRetriable` tells the engine whether running the commit unit again can succeed: transport trouble,
/// timeouts and aborted transactions are retriable; configuration errors, fatal producer errors and
/// fencing (another agent with the same `transactional.id`) are not.
public struct KafkaSinkError: Error, RetriableError, CustomStringConvertible {
    /// What went wrong, extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case configuration, clientCreation, fenced, fatal, abortRequired, transaction, produce, timedOut,
                metadata, admin, consumer, devBroker, recordFile
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        /// A librdkafka property was rejected by `rd_kafka_conf_set` (see `property`).
        public static let configuration = Code(.configuration)
        /// `rd_kafka_new` failed.
        public static let clientCreation = Code(.clientCreation)
        /// Another producer with the same `transactional.id` took over (`_FENCED`, `PRODUCER_FENCED`,
        /// `INVALID_PRODUCER_EPOCH`). Permanent for this producer: stop the agent.
        public static let fenced = Code(.fenced)
        /// A fatal producer error (`rd_kafka_fatal_error`): the producer must be recreated.
        public static let fatal = Code(.fatal)
        /// The current transaction failed and must be aborted (`rd_kafka_error_txn_requires_abort`),
        /// after which the unit can be produced again.
        public static let abortRequired = Code(.abortRequired)
        /// Another error of the transactional API (init, begin, commit, abort).
        public static let transaction = Code(.transaction)
        /// `rd_kafka_producev` refused a message (other than a full queue, which is waited out).
        public static let produce = Code(.produce)
        /// A blocking call did not finish in the time given.
        public static let timedOut = Code(.timedOut)
        /// Metadata or watermark queries failed.
        public static let metadata = Code(.metadata)
        /// An admin API request (CreateTopics) failed.
        public static let admin = Code(.admin)
        /// Consuming (offset topic, topic reader, record tap) failed.
        public static let consumer = Code(.consumer)
        /// The mock cluster could not be created or configured.
        public static let devBroker = Code(.devBroker)
        /// The record tap's output file could not be written.
        public static let recordFile = Code(.recordFile)
    }

    public var code: Code
    public var message: String
    /// librdkafka's `rd_kafka_resp_err_t` value, when the error came from librdkafka.
    public var rdKafkaCode: Int32?
    /// librdkafka's symbolic error name (`rd_kafka_err2name`), e.g. `_FENCED`, `TOPIC_ALREADY_EXISTS`.
    public var rdKafkaName: String?
    /// `rd_kafka_error_is_fatal` (or a fatal error raised on the handle).
    public var isFatal: Bool
    /// `rd_kafka_error_is_retriable`, or a transient condition (timeout, transport, aborted transaction).
    public var rdKafkaRetriable: Bool
    /// `rd_kafka_error_txn_requires_abort`.
    public var requiresAbort: Bool
    /// The configuration property at fault (for `.configuration`).
    public var property: String?
    /// The topic involved, if any.
    public var topic: String?
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    public init(
        _ code: Code, _ message: String, rdKafkaCode: Int32? = nil, rdKafkaName: String? = nil,
        isFatal: Bool = false, isRetriable: Bool = false, requiresAbort: Bool = false, property: String? = nil,
        topic: String? = nil, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.rdKafkaCode = rdKafkaCode
        self.rdKafkaName = rdKafkaName
        self.isFatal = isFatal
        self.rdKafkaRetriable = isRetriable
        self.requiresAbort = requiresAbort
        self.property = property
        self.topic = topic
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Whether the engine may retry the commit unit (after aborting the transaction when `requiresAbort`).
    public var isRetriable: Bool {
        switch code {
        case .fenced, .fatal, .configuration, .clientCreation, .devBroker, .recordFile:
            return false
        case .abortRequired, .timedOut:
            return !isFatal
        default:
            return !isFatal && (rdKafkaRetriable || requiresAbort)
        }
    }

    /// Whether this error means another producer with our `transactional.id` took over.
    public var isFenced: Bool { code == .fenced }

    public var description: String {
        var text = "Kafka sink error (\(code)): \(message)"
        if let rdKafkaName { text += " [\(rdKafkaName)]" }
        if let property { text += " (property \(property))" }
        if let topic { text += " (topic \(topic))" }
        if isFatal { text += " (fatal)" }
        if let underlying { text += " — \(underlying)" }
        text += " at \(file):\(line)"
        return text
    }
}
