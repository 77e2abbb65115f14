internal import CRdKafka
internal import CTributaryShims
import Dispatch
import Logging
import Synchronization

/// A transactional, idempotent librdkafka producer: the events of a commit unit and its offset record go
/// into one Kafka transaction (KIP-98; librdkafka's transactional API, rdkafka.h "Transactional producer API").
///
/// Usage per commit unit: `beginTransaction()` → `produce(…)`* → `commitTransaction()`. On an error with
/// `requiresAbort`, call `abortTransaction()` and run the unit again. On `.fenced`, stop the agent: another
/// agent with the same `transactional.id` took over. After any other fatal error the producer is unusable and
/// must be recreated (`initTransactions` then aborts what this one left open).
///
/// `produce` never fails on a full local queue (`RD_KAFKA_RESP_ERR__QUEUE_FULL`): it polls, sleeps briefly and
/// retries, which turns `queue.buffering.max.messages` / `queue.buffering.max.kbytes` into backpressure with
/// bounded memory. Blocking calls run on a private serial queue in slices of at most 1 s.
public final class TransactionalProducer: Sendable {
    /// Defaults applied before the user's properties (which may override them). Tuned for throughput into
    /// one transaction per commit unit.
    ///
    /// - `partitioner=murmur2_random`: the Java client's key hashing, so keyed events land on the same
    ///   partitions as Debezium's (null keys spread randomly).
    /// - `linger.ms=5`, `batch.num.messages=10000`, `batch.size=1000000`: large batches; commit flushes at once.
    /// - `queue.buffering.max.messages=100000`, `queue.buffering.max.kbytes=65536`: the memory bound.
    /// - `socket.nagle.disable=true`: as the Java client (`TCP_NODELAY`); small transactional requests
    ///   (AddPartitionsToTxn, EndTxn) must not wait for Nagle.
    public static let defaultProperties: [(String, String)] = [
        ("partitioner", "murmur2_random"),
        ("linger.ms", "5"),
        ("batch.num.messages", "10000"),
        ("batch.size", "1000000"),
        ("queue.buffering.max.messages", "100000"),
        ("queue.buffering.max.kbytes", "65536"),
        ("socket.nagle.disable", "true"),
    ]

    /// `transactional.id` of this producer.
    public let transactionalID: String
    private let client: RDKafkaClient
    private let blocking: BlockingQueue
    private let logger: Logger
    private let knownTopics = Mutex<Set<String>>([])
    private let producedCount = Atomic<Int>(0)
    private let queueFullCount = Atomic<Int>(0)

    /// How often (in produced messages) `produce` serves callbacks with `rd_kafka_poll`.
    private static let pollInterval = 512

    /// Creates the producer. `configuration` holds the user's librdkafka properties (`bootstrap.servers`,
    /// security, tuning); `enable.idempotence=true` and `transactional.id` are always set on top.
    /// Call `initTransactions(timeout:)` before the first transaction.
    public init(configuration: KafkaConfiguration, transactionalID: String, logger: Logger) throws {
        guard !transactionalID.isEmpty else {
            throw KafkaSinkError(.configuration, "transactional.id must not be empty", property: "transactional.id")
        }
        var logger = logger
        logger[metadataKey: KafkaLoggingKeys.transactionalID] = "\(transactionalID)"
        let properties = RDKafkaConfig.layered(
            defaults: Self.defaultProperties, user: configuration.properties,
            forced: [("enable.idempotence", "true"), ("transactional.id", transactionalID)])
        self.client = try RDKafkaClient(kind: .producer, properties: properties, logger: logger)
        self.transactionalID = transactionalID
        self.logger = logger
        self.blocking = BlockingQueue(label: "tributary.kafka.producer")
    }

    // MARK: - Statistics

    /// Messages enqueued by `produce` since creation.
    public var producedMessages: Int { producedCount.load(ordering: .relaxed) }

    /// How many times `produce` found the local queue full and waited (backpressure events).
    public var queueFullWaits: Int { queueFullCount.load(ordering: .relaxed) }

    /// Messages whose delivery failed (their transaction cannot commit), from librdkafka's delivery reports.
    public var deliveryFailures: Int { client.deliveryFailures }

    /// Messages and requests not yet acknowledged by the broker (`rd_kafka_outq_len`).
    public var outstandingMessages: Int { client.outqLength }

    // MARK: - Transactions

    /// Wraps `rd_kafka_init_transactions`: registers the `transactional.id` with the coordinator, fences
    /// older producers with the same id and aborts their open transaction. Resumed in 1 s slices until
    /// `timeout`.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        try await sliced("rd_kafka_init_transactions", timeout: timeout) { rk, ms in
            rd_kafka_init_transactions(rk, ms)
        }
        logger.debug("Kafka transactions initialised")
    }

    /// Wraps `rd_kafka_begin_transaction` (local, non-blocking).
    public func beginTransaction() throws {
        client.poll()
        if let error = rd_kafka_begin_transaction(client.handle) {
            throw RDKafkaError.take(error, operation: "rd_kafka_begin_transaction", client: client)
        }
    }

    /// Wraps `rd_kafka_commit_transaction`: flushes the transaction's messages and commits them. Retriable
    /// errors (timeouts) are resumed in 1 s slices until `timeout`; an error with `requiresAbort` means the
    /// caller must `abortTransaction()`.
    public func commitTransaction(timeout: Duration = .seconds(60)) async throws {
        try await sliced("rd_kafka_commit_transaction", timeout: timeout) { rk, ms in
            rd_kafka_commit_transaction(rk, ms)
        }
    }

    /// Wraps `rd_kafka_abort_transaction`: purges queued messages and aborts the transaction on the broker.
    public func abortTransaction(timeout: Duration = .seconds(60)) async throws {
        try await sliced("rd_kafka_abort_transaction", timeout: timeout) { rk, ms in
            rd_kafka_abort_transaction(rk, ms)
        }
    }

    /// Wraps `rd_kafka_flush`: waits until every produced message is acknowledged, in 1 s slices.
    public func flush(timeout: Duration = .seconds(30)) async throws {
        let client = client
        let deadline = ContinuousClock.now + timeout
        while true {
            try Task.checkCancellation()
            let ms = Self.sliceMilliseconds(until: deadline)
            let err = try await blocking.run { rd_kafka_flush(client.handle, ms).rawValue }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR.rawValue { return }
            let code = rd_kafka_resp_err_t(rawValue: err)
            if code == RD_KAFKA_RESP_ERR__TIMED_OUT && ContinuousClock.now < deadline { continue }
            throw RDKafkaError.make(.timedOut, code: code, operation: "rd_kafka_flush", client: client, topic: nil)
        }
    }

    // MARK: - Produce

    /// Enqueues one message (`rd_kafka_producev` with `RD_KAFKA_MSG_F_COPY`) in the open transaction.
    ///
    /// - Parameters:
    ///   - key: message key; nil is a null key (partitioned randomly).
    ///   - value: message value; nil is a tombstone.
    ///   - headers: record headers, in order.
    ///   - partition: an explicit partition, or nil for the partitioner.
    /// Suspends while the local queue is full. Delivery failures surface from `commitTransaction`.
    public func produce(
        topic: String, key: [UInt8]?, value: [UInt8]?, headers: [(String, [UInt8])] = [], partition: Int32? = nil
    ) async throws {
        if !knownTopics.withLock({ $0.contains(topic) }) {
            learnTopic(topic)
        }
        while true {
            let err = enqueue(topic: topic, key: key, value: value, headers: headers, partition: partition ?? -1)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR.rawValue {
                if producedCount.wrappingAdd(1, ordering: .relaxed).newValue % Self.pollInterval == 0 {
                    client.poll()
                }
                return
            }
            guard err == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue else {
                var error = RDKafkaError.make(
                    .produce, code: rd_kafka_resp_err_t(rawValue: err), operation: "rd_kafka_producev",
                    client: client, topic: topic)
                if err == RD_KAFKA_RESP_ERR__STATE.rawValue {
                    error.message += " (is a transaction open?)"
                }
                throw error
            }
            // Backpressure: the queue drains as the broker acknowledges batches.
            queueFullCount.add(1, ordering: .relaxed)
            client.poll()
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Asks for `topic`'s metadata right away, in the background. librdkafka 2.0.2 otherwise learns the
    /// partitions of a topic first produced to only at its next 1 s topic scan, so the first transaction that
    /// writes a new topic would wait up to a second in its commit.
    private func learnTopic(_ topic: String) {
        let isNew = knownTopics.withLock { known in known.insert(topic).inserted }
        guard isNew else { return }
        let client = client
        let logger = logger
        Self.metadataQueue.async {
            do {
                _ = try client.metadata(topic: topic, timeoutMs: 1000)
            } catch {
                // Not fatal: librdkafka's periodic scan finds the topic later.
                logger.debug(
                    "Kafka topic metadata prefetch failed",
                    metadata: [KafkaLoggingKeys.topic: "\(topic)", "error": "\(error)"])
            }
        }
    }

    private static let metadataQueue = DispatchQueue(label: "tributary.kafka.metadata", attributes: .concurrent)

    /// Calls the C shim; returns the `rd_kafka_resp_err_t` raw value.
    private func enqueue(
        topic: String, key: [UInt8]?, value: [UInt8]?, headers: [(String, [UInt8])], partition: Int32
    ) -> Int32 {
        let rk = UnsafeMutableRawPointer(client.handle)
        return Self.withOptionalBytes(key) { keyPointer, keySize in
            Self.withOptionalBytes(value) { valuePointer, valueSize in
                topic.withCString { topicPointer in
                    guard !headers.isEmpty else {
                        return tributary_rd_produce(
                            rk, topicPointer, partition, keyPointer, keySize, valuePointer, valueSize, nil, nil, nil, 0)
                    }
                    return Self.withCHeaders(headers) { names, values, sizes in
                        tributary_rd_produce(
                            rk, topicPointer, partition, keyPointer, keySize, valuePointer, valueSize, names, values,
                            sizes, headers.count)
                    }
                }
            }
        }
    }

    /// nil → NULL (null key / tombstone); empty → a non-NULL pointer with size 0 (an empty, non-null value).
    private static func withOptionalBytes<R>(
        _ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> R
    ) -> R {
        guard let bytes else { return body(nil, 0) }
        if bytes.isEmpty {
            let zero: UInt8 = 0
            return withUnsafeBytes(of: zero) { body($0.baseAddress, 0) }
        }
        return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
    }

    /// Lays headers out as C arrays: names NUL-terminated in one buffer, values in another.
    private static func withCHeaders<R>(
        _ headers: [(String, [UInt8])],
        _ body: (
            UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafeRawPointer?>?, UnsafePointer<Int>?
        ) -> R
    ) -> R {
        var nameBytes: [CChar] = []
        var valueBytes: [UInt8] = []
        var nameOffsets: [Int] = []
        var valueOffsets: [Int] = []
        var sizes: [Int] = []
        for (name, value) in headers {
            nameOffsets.append(nameBytes.count)
            nameBytes.append(contentsOf: name.utf8.map { CChar(bitPattern: $0) })
            nameBytes.append(0)
            valueOffsets.append(valueBytes.count)
            valueBytes.append(contentsOf: value)
            sizes.append(value.count)
        }
        // Keep the value buffer non-empty so every value pointer is non-NULL (an empty value, not a null one).
        valueBytes.append(0)
        return nameBytes.withUnsafeBufferPointer { names in
            valueBytes.withUnsafeBytes { values in
                let namePointers: [UnsafePointer<CChar>?] = nameOffsets.map { offset in
                    names.baseAddress.map { $0 + offset }
                }
                let valuePointers: [UnsafeRawPointer?] = valueOffsets.map { offset in
                    values.baseAddress.map { $0 + offset }
                }
                return namePointers.withUnsafeBufferPointer { np in
                    valuePointers.withUnsafeBufferPointer { vp in
                        sizes.withUnsafeBufferPointer { sp in
                            body(np.baseAddress, vp.baseAddress, sp.baseAddress)
                        }
                    }
                }
            }
        }
    }

    // MARK: - Blocking transactional calls

    /// Runs a resumable transactional call in slices of at most 1 s until it succeeds, fails with a
    /// non-retriable error, or `timeout` passes (librdkafka documents init/commit/abort as resumable after a
    /// retriable error such as `_TIMED_OUT`).
    private func sliced(
        _ operation: String, timeout: Duration,
        _ call: @escaping @Sendable (OpaquePointer, Int32) -> OpaquePointer?
    ) async throws {
        let client = client
        let deadline = ContinuousClock.now + timeout
        while true {
            try Task.checkCancellation()
            let ms = Self.sliceMilliseconds(until: deadline)
            let failure: KafkaSinkError? = try await blocking.run {
                client.poll()
                guard let error = call(client.handle, ms) else { return nil }
                // Serve the delivery reports and error callbacks that explain the failure.
                client.poll()
                return RDKafkaError.take(error, operation: operation, client: client)
            }
            guard let failure else { return }
            if failure.rdKafkaRetriable && !failure.isFatal && !failure.requiresAbort
                && ContinuousClock.now < deadline
            {
                logger.debug(
                    "Kafka transactional call will be resumed",
                    metadata: [KafkaLoggingKeys.errorCode: "\(failure.rdKafkaName ?? "")"])
                continue
            }
            throw failure
        }
    }

    /// The next wait slice: what is left until `deadline`, at most 1 s and at least 1 ms.
    static func sliceMilliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let remaining = ContinuousClock.now.duration(to: deadline)
        let ms = remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
        return Int32(max(1, min(1000, ms)))
    }
}
