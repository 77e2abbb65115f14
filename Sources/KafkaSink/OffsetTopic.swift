internal import CRdKafka
import Logging

/// The compacted offsets topic `<agent name>.offsets`: one record per agent, key = agent name, value = the
/// JSON `Offset` (DESIGN.md "Offsets"). The record is produced by the caller with
/// `TransactionalProducer.produce` inside the same transaction as the data it covers; this type creates the
/// topic and reads the latest committed record back.
public struct OffsetTopic: Sendable {
    public var configuration: KafkaConfiguration
    private let logger: Logger
    private let blocking = BlockingQueue(label: "tributary.kafka.offsets")

    /// `<agent>.offsets`.
    public static func name(forAgent agent: String) -> String { "\(agent).offsets" }

    public init(configuration: KafkaConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: - CreateTopics

    /// Creates `name` with 1 partition and `cleanup.policy=compact` through the admin API
    /// (`rd_kafka_CreateTopics`). `TOPIC_ALREADY_EXISTS` is success. When the broker does not answer in
    /// `timeout` or lacks the API (librdkafka's mock cluster has no CreateTopics) this logs at info and returns:
    /// the topic is then auto-created on first produce.
    ///
    /// - Parameter replicationFactor: Default: -1, the broker's `default.replication.factor` (Kafka ≥ 2.4).
    public func ensureTopic(name: String, replicationFactor: Int32 = -1, timeout: Duration = .seconds(10))
        async throws
    {
        let client = try RDKafkaClient(
            kind: .producer, properties: RDKafkaConfig.ordered(configuration.properties), logger: logger)
        let timeoutMs = RDKafkaRangeReader.remainingMs(ContinuousClock.now + timeout)

        // Build the request (non-blocking).
        var errstr = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(name, 1, replicationFactor, &errstr, errstr.count) else {
            throw KafkaSinkError(.admin, "rd_kafka_NewTopic_new: \(String(cBuffer: errstr))", topic: name)
        }
        let request = AdminRequest(client: client, newTopic: newTopic)
        let setErr = rd_kafka_NewTopic_set_config(newTopic, "cleanup.policy", "compact")
        guard setErr == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDKafkaError.make(
                .admin, code: setErr, operation: "rd_kafka_NewTopic_set_config", client: client, topic: name)
        }
        try request.send(timeoutMs: timeoutMs)

        // Wait for the result event without blocking: poll the result queue, sleep between polls.
        let deadline = ContinuousClock.now + timeout + .seconds(1)
        while true {
            if let outcome = try request.poll(topic: name) {
                switch outcome {
                case .created:
                    logger.info("Kafka offsets topic created", metadata: [KafkaLoggingKeys.topic: "\(name)"])
                case .exists:
                    logger.debug("Kafka offsets topic exists", metadata: [KafkaLoggingKeys.topic: "\(name)"])
                case .unavailable(let reason):
                    logger.info(
                        "Kafka CreateTopics not available; relying on topic auto-creation",
                        metadata: [KafkaLoggingKeys.topic: "\(name)", KafkaLoggingKeys.librdkafkaMessage: "\(reason)"])
                }
                return
            }
            if ContinuousClock.now >= deadline {
                logger.info(
                    "Kafka CreateTopics got no answer; relying on topic auto-creation",
                    metadata: [KafkaLoggingKeys.topic: "\(name)"])
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: - Read back

    /// The value of the last record whose key equals `key`, reading every partition of `topic` from the
    /// beginning up to its high watermark with `isolation.level=read_committed` (no group, nothing committed).
    /// nil when there is none, when the last one is a tombstone, or when the topic does not exist.
    public func readLatest(topic: String, key: [UInt8], timeout: Duration = .seconds(30)) async throws -> [UInt8]? {
        let configuration = configuration
        let logger = logger
        return try await blocking.runCancellable { flag in
            var latest: [UInt8]?
            try RDKafkaRangeReader.read(
                configuration: configuration, topics: [topic], isolationLevel: "read_committed", timeout: timeout,
                flag: flag, logger: logger
            ) { message in
                guard let messageKey = message.keyBytes, messageKey.elementsEqual(key) else { return }
                latest = message.valueBytes.map { Array($0) }
            }
            return latest
        }
    }

    /// `readLatest` with a UTF-8 key (the agent name).
    public func readLatest(topic: String, key: String, timeout: Duration = .seconds(30)) async throws -> [UInt8]? {
        try await readLatest(topic: topic, key: Array(key.utf8), timeout: timeout)
    }
}

/// One `rd_kafka_CreateTopics` request and its result queue; frees everything in `deinit`.
private final class AdminRequest {
    enum Outcome {
        case created
        case exists
        case unavailable(String)
    }

    let client: RDKafkaClient
    let newTopic: OpaquePointer
    let queue: OpaquePointer
    var options: OpaquePointer?

    init(client: RDKafkaClient, newTopic: OpaquePointer) {
        self.client = client
        self.newTopic = newTopic
        self.queue = rd_kafka_queue_new(client.handle)
    }

    deinit {
        rd_kafka_NewTopic_destroy(newTopic)
        if let options { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_queue_destroy(queue)
    }

    func send(timeoutMs: Int32) throws {
        let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        self.options = options
        var errstr = [CChar](repeating: 0, count: 512)
        if rd_kafka_AdminOptions_set_request_timeout(options, timeoutMs, &errstr, errstr.count)
            != RD_KAFKA_RESP_ERR_NO_ERROR
            || rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMs, &errstr, errstr.count)
                != RD_KAFKA_RESP_ERR_NO_ERROR
        {
            throw KafkaSinkError(.admin, "rd_kafka_AdminOptions: \(String(cBuffer: errstr))")
        }
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(client.handle, &topics, 1, options, queue)
    }

    /// Non-blocking `rd_kafka_queue_poll(queue, 0)`: nil while the result is pending.
    func poll(topic: String) throws -> Outcome? {
        client.poll()
        guard let event = rd_kafka_queue_poll(queue, 0) else { return nil }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let reason = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? RDKafkaError.describe(err)
            if err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE
                || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION
            {
                return .unavailable("\(RDKafkaError.name(err)): \(reason)")
            }
            var error = RDKafkaError.make(.admin, code: err, operation: "CreateTopics", client: client, topic: topic)
            error.message += " (\(reason))"
            throw error
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaSinkError(.admin, "CreateTopics: unexpected event type", topic: topic)
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else {
            return .created
        }
        for index in 0..<count {
            guard let topicResult = results[index] else { continue }
            let topicErr = rd_kafka_topic_result_error(topicResult)
            if topicErr == RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            if topicErr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { return .exists }
            if topicErr == RD_KAFKA_RESP_ERR__TIMED_OUT || topicErr == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT {
                return .unavailable(RDKafkaError.describe(topicErr))
            }
            let message = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
            var error = RDKafkaError.make(
                .admin, code: topicErr, operation: "CreateTopics", client: client, topic: topic)
            error.message += message.isEmpty ? "" : " (\(message))"
            throw error
        }
        return .created
    }
}
