internal import CRdKafka
import Dispatch
import Logging
import Synchronization

/// Wraps one `rd_kafka_t` handle (`rd_kafka_new` … `rd_kafka_destroy`), with librdkafka's logs and error
/// callbacks routed to swift-log.
///
/// The handle is freed in `deinit` on a background queue, because `rd_kafka_destroy` joins librdkafka's
/// threads and must not block a cooperative-pool thread.
final class RDKafkaClient: @unchecked Sendable {
    // @unchecked Sendable: the rd_kafka_t API is thread-safe (rdkafka.h) and the pointer is immutable.

    enum Kind {
        case producer
        case consumer
    }

    /// The `rd_kafka_t *`.
    let handle: OpaquePointer
    let kind: Kind
    let logger: Logger
    /// `rd_kafka_name`, e.g. `rdkafka#producer-1`.
    let name: String
    private let context: Unmanaged<RDKafkaClientContext>
    /// Extra teardown run (on the destroy queue) before `rd_kafka_destroy`, e.g. `rd_kafka_mock_cluster_destroy`.
    private let beforeDestroy: Mutex<[@Sendable (OpaquePointer) -> Void]> = Mutex([])

    private static let destroyQueue = DispatchQueue(label: "tributary.kafka.destroy", attributes: .concurrent)

    /// Creates a handle from `properties`, applied in order with `rd_kafka_conf_set`.
    init(kind: Kind, properties: [(String, String)], logger: Logger) throws {
        let conf = try RDKafkaConfig.make(properties)
        let context = Unmanaged.passRetained(RDKafkaClientContext(logger: logger))
        rd_kafka_conf_set_opaque(conf, context.toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let context = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
            context.log(
                level: level, client: rk,
                facility: facility.map { String(cString: $0) } ?? "",
                message: message.map { String(cString: $0) } ?? "")
        }
        if kind == .producer {
            // Delivery reports as callbacks: besides counting failures, a report landing on the reply queue
            // wakes `rd_kafka_flush` (and so `rd_kafka_commit_transaction`) at once; without one it sleeps in
            // 10 ms poll steps (rdkafka.c rd_kafka_flush), which made every small transaction take ~10 ms.
            rd_kafka_conf_set_dr_msg_cb(conf) { rk, message, opaque in
                guard let message, message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR, let opaque else { return }
                let context = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
                context.deliveryFailed(code: message.pointee.err)
            }
        }
        rd_kafka_conf_set_error_cb(conf) { rk, err, reason, opaque in
            guard let rk, let opaque else { return }
            let context = Unmanaged<RDKafkaClientContext>.fromOpaque(opaque).takeUnretainedValue()
            context.error(code: err, client: rk, reason: reason.map { String(cString: $0) } ?? "")
        }

        var errstr = [CChar](repeating: 0, count: 512)
        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        // On success rd_kafka_new owns conf; on failure it is still ours.
        guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            context.release()
            throw KafkaSinkError(.clientCreation, "rd_kafka_new failed: \(String(cBuffer: errstr))")
        }
        self.handle = handle
        self.kind = kind
        self.context = context
        self.name = String(cString: rd_kafka_name(handle))
        var logger = logger
        logger[metadataKey: KafkaLoggingKeys.client] = "\(self.name)"
        self.logger = logger
    }

    deinit {
        let job = DestroyJob(
            handle: handle, context: context, hooks: beforeDestroy.withLock { $0 }, isConsumer: kind == .consumer)
        RDKafkaClient.destroyQueue.async { job.run() }
    }

    /// The teardown of one handle, moved to the destroy queue once its owner is gone.
    private struct DestroyJob: @unchecked Sendable {
        // @unchecked Sendable: the handle and context are no longer reachable from anywhere else.
        let handle: OpaquePointer
        let context: Unmanaged<RDKafkaClientContext>
        let hooks: [@Sendable (OpaquePointer) -> Void]
        let isConsumer: Bool

        func run() {
            for hook in hooks { hook(handle) }
            if isConsumer {
                // Legacy (queue) consumers have no group to leave.
                rd_kafka_destroy_flags(handle, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
            } else {
                rd_kafka_destroy(handle)
            }
            context.release()
        }
    }

    /// Registers work to run right before `rd_kafka_destroy` (on the destroy queue).
    func onDestroy(_ hook: @escaping @Sendable (OpaquePointer) -> Void) {
        beforeDestroy.withLock { $0.append(hook) }
    }

    /// Wraps `rd_kafka_poll(rk, 0)`: serves error and log callbacks without blocking.
    @discardableResult
    func poll() -> Int32 {
        rd_kafka_poll(handle, 0)
    }

    /// Messages whose delivery failed since the handle was created.
    var deliveryFailures: Int { context.takeUnretainedValue().deliveryFailures.load(ordering: .relaxed) }

    /// Wraps `rd_kafka_outq_len`: messages and requests waiting to be sent or acknowledged.
    var outqLength: Int { Int(rd_kafka_outq_len(handle)) }

    /// Wraps `rd_kafka_fatal_error`: the fatal error raised on this handle, if any.
    func fatalError() -> (code: rd_kafka_resp_err_t, reason: String)? {
        var errstr = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &errstr, errstr.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return (code, String(cBuffer: errstr))
    }

    // MARK: - Metadata (blocking: call off the cooperative pool)

    struct TopicMetadata: Sendable {
        var name: String
        var partitions: [Int32]
        /// `rd_kafka_metadata_topic.err`, e.g. `UNKNOWN_TOPIC_OR_PART`.
        var error: Int32
    }

    /// Wraps `rd_kafka_metadata`. `topic == nil` lists all topics. Blocks up to `timeoutMs`.
    func metadata(topic: String?, timeoutMs: Int32) throws -> [TopicMetadata] {
        var md: UnsafePointer<rd_kafka_metadata>?
        var err: rd_kafka_resp_err_t
        if let topic {
            guard let rkt = rd_kafka_topic_new(handle, topic, nil) else {
                throw RDKafkaError.make(
                    .metadata, code: rd_kafka_last_error(), operation: "rd_kafka_topic_new", client: self,
                    topic: topic)
            }
            defer { rd_kafka_topic_destroy(rkt) }
            err = rd_kafka_metadata(handle, 0, rkt, &md, timeoutMs)
        } else {
            err = rd_kafka_metadata(handle, 1, nil, &md, timeoutMs)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else {
            throw RDKafkaError.make(.metadata, code: err, operation: "rd_kafka_metadata", client: self, topic: topic)
        }
        defer { rd_kafka_metadata_destroy(md) }
        var topics: [TopicMetadata] = []
        topics.reserveCapacity(Int(md.pointee.topic_cnt))
        for t in 0..<Int(md.pointee.topic_cnt) {
            let entry = md.pointee.topics[t]
            var partitions: [Int32] = []
            for p in 0..<Int(entry.partition_cnt) {
                partitions.append(entry.partitions[p].id)
            }
            topics.append(
                TopicMetadata(
                    name: entry.topic.map { String(cString: $0) } ?? "", partitions: partitions.sorted(),
                    error: entry.err.rawValue))
        }
        return topics
    }

    /// Wraps `rd_kafka_query_watermark_offsets` (ListOffsets with the handle's `isolation.level`, so under
    /// `read_committed` the high mark is the last stable offset). Blocks up to `timeoutMs`.
    func watermarks(topic: String, partition: Int32, timeoutMs: Int32) throws -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDKafkaError.make(
                .metadata, code: err, operation: "rd_kafka_query_watermark_offsets(partition \(partition))",
                client: self, topic: topic)
        }
        return (low, high)
    }
}

/// What librdkafka's callbacks reach through `rd_kafka_opaque`: the logger.
final class RDKafkaClientContext: Sendable {
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// librdkafka `log_cb`: syslog levels mapped to swift-log. Libraries log at info or below (STYLE §8), so
    /// librdkafka's warnings and errors (connection refused, broker down: recoverable) become info.
    func log(level: Int32, client: OpaquePointer, facility: String, message: String) {
        let mapped: Logger.Level
        switch level {
        case ...5: mapped = .info
        case 6: mapped = .debug
        default: mapped = .trace
        }
        guard logger.logLevel <= mapped else { return }
        logger.log(
            level: mapped, "librdkafka log",
            metadata: [
                KafkaLoggingKeys.client: "\(String(cString: rd_kafka_name(client)))",
                KafkaLoggingKeys.facility: "\(facility)",
                KafkaLoggingKeys.librdkafkaMessage: "\(message)",
            ])
    }

    /// Messages whose delivery failed (`dr_msg_cb` with an error).
    let deliveryFailures = Atomic<Int>(0)

    /// librdkafka `dr_msg_cb` for a failed message: counted; the transaction's commit reports the failure.
    func deliveryFailed(code: rd_kafka_resp_err_t) {
        if deliveryFailures.wrappingAdd(1, ordering: .relaxed).oldValue == 0 || logger.logLevel <= .debug {
            logger.debug(
                "Kafka message delivery failed", metadata: [KafkaLoggingKeys.errorCode: "\(RDKafkaError.name(code))"])
        }
    }

    /// librdkafka `error_cb` (served by `rd_kafka_poll`): transport trouble is retried by librdkafka itself;
    /// fatal errors also surface from the next API call, where they are thrown.
    func error(code: Int32, client: OpaquePointer, reason: String) {
        let err = rd_kafka_resp_err_t(rawValue: code)
        logger.info(
            "librdkafka error",
            metadata: [
                KafkaLoggingKeys.client: "\(String(cString: rd_kafka_name(client)))",
                KafkaLoggingKeys.errorCode: "\(String(cString: rd_kafka_err2name(err)))",
                KafkaLoggingKeys.librdkafkaMessage: "\(reason)",
            ])
    }
}

/// Dotted logging metadata keys of the Kafka sink (STYLE §8).
enum KafkaLoggingKeys {
    static let client = "kafka.client"
    static let facility = "kafka.facility"
    static let librdkafkaMessage = "kafka.message"
    static let errorCode = "kafka.error"
    static let topic = "kafka.topic"
    static let partition = "kafka.partition"
    static let offset = "kafka.offset"
    static let transactionalID = "kafka.transactional_id"
    static let bootstrapServers = "kafka.bootstrap_servers"
    static let path = "kafka.record_path"
    static let count = "kafka.count"
}
