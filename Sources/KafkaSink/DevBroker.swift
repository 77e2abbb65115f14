internal import CRdKafka
internal import CTributaryShims
import Logging
import Synchronization

/// The engine of `tributary dev-broker`: librdkafka's in-process mock cluster
/// (`rd_kafka_mock_cluster_new`, rdkafka_mock.h), served on 127.0.0.1 ephemeral ports to other processes.
///
/// Limits of librdkafka 2.0.2's mock (ENVIRONMENT.md): transactions are accepted but aborted records stay
/// visible to `read_committed` readers, there is no CreateTopics/compaction, auto-created topics get
/// `autoCreatedPartitions` partitions, and each partition keeps only ~5 MiB / 100k message sets, so content
/// checks read while producing: `record(to:)` taps every topic into a JSON-lines file from inside this process.
///
/// The mock does not disable Nagle on accepted sockets; with `tcpNoDelay` the process-wide `accept()`
/// interposer in CTributaryShims sets `TCP_NODELAY` on them (multi-partition transactions otherwise stall
/// ~40 ms per round trip).
public final class DevBroker: Sendable {
    /// A topic created up front with `rd_kafka_mock_topic_create`.
    public struct Topic: Sendable, Hashable {
        public var name: String
        public var partitions: Int32

        public init(_ name: String, partitions: Int32 = DevBroker.autoCreatedPartitions) {
            self.name = name
            self.partitions = partitions
        }
    }

    /// Partitions of auto-created topics: fixed at 4 by librdkafka 2.0.2's mock (`defaults.partition_cnt`, no
    /// API to change it). Pre-create topics with `Topic(name, partitions:)` for another count.
    public static let autoCreatedPartitions: Int32 = 4

    /// Number of mock brokers (ids 1…n).
    public let brokerCount: Int
    /// `rd_kafka_mock_cluster_bootstraps`: `127.0.0.1:port,…`, the `bootstrap.servers` for clients.
    public let bootstrapServers: String
    private let cluster: MockCluster
    private let logger: Logger
    private let recorded = Atomic<Int>(0)
    private let lost = Atomic<Int>(0)

    /// Starts the mock cluster.
    ///
    /// - Parameters:
    ///   - brokerCount: Default: 1.
    ///   - topics: topics created at once (others are auto-created with `autoCreatedPartitions`).
    ///   - tcpNoDelay: enable the `accept()` interposer for this process. Default: true.
    public init(brokerCount: Int = 1, topics: [Topic] = [], tcpNoDelay: Bool = true, logger: Logger) throws {
        guard brokerCount >= 1 else {
            throw KafkaSinkError(.devBroker, "the dev broker needs at least one broker, not \(brokerCount)")
        }
        if tcpNoDelay {
            // Before the cluster exists, so every accepted connection is covered.
            tributary_accept_nodelay_set_enabled(1)
        }
        self.cluster = try MockCluster(brokerCount: brokerCount, logger: logger)
        self.brokerCount = brokerCount
        self.bootstrapServers = cluster.bootstraps
        var logger = logger
        logger[metadataKey: KafkaLoggingKeys.bootstrapServers] = "\(bootstrapServers)"
        self.logger = logger
        for topic in topics {
            try createTopic(topic)
        }
        logger.debug("Kafka dev broker started")
    }

    /// Wraps `rd_kafka_mock_topic_create` (replication factor min(3, brokers)).
    public func createTopic(_ topic: Topic) throws {
        guard topic.partitions >= 1 else {
            throw KafkaSinkError(.devBroker, "a topic needs at least one partition", topic: topic.name)
        }
        try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: Int32(min(3, brokerCount)))
    }

    /// Fault injection (`rd_kafka_mock_push_request_errors_array`): the next `errorCodes.count` requests with
    /// Kafka protocol API key `apiKey` (0 Produce, 1 Fetch, 22 InitProducerId, 24 AddPartitionsToTxn,
    /// 26 EndTxn, …) fail with these `rd_kafka_resp_err_t` codes, in order (e.g. 90 `PRODUCER_FENCED`).
    public func injectRequestErrors(apiKey: Int16, errorCodes: [Int32]) {
        cluster.pushRequestErrors(apiKey: apiKey, errorCodes: errorCodes)
    }

    /// Serves until the task is cancelled, recording every topic into `path` when given (see `record(to:)`),
    /// then destroys the cluster.
    public func run(recordingTo path: String? = nil) async throws {
        if let path {
            do {
                try await record(to: path)
            } catch {
                await shutdown()
                throw error
            }
        } else {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
        }
        await shutdown()
    }

    /// Destroys the mock cluster (`rd_kafka_mock_cluster_destroy`); clients lose their connections.
    /// Idempotent; also done when the broker is deallocated.
    public func shutdown() async {
        let cluster = cluster
        _ = try? await BlockingQueue(label: "tributary.kafka.devbroker.shutdown").run { cluster.destroy() }
    }

    // MARK: - Record tap statistics

    /// Records written by `record(to:)` so far.
    public var recordedMessages: Int { recorded.load(ordering: .relaxed) }

    /// Records the tap never saw because the mock had already purged them (gaps in the recorded offsets).
    public var lostMessages: Int { lost.load(ordering: .relaxed) }

    func addRecorded(_ count: Int) { recorded.add(count, ordering: .relaxed) }
    func addLost(_ count: Int) { lost.add(count, ordering: .relaxed) }
    var tapLogger: Logger { logger }

    // MARK: - TCP_NODELAY interposer

    /// Whether the `accept()` interposer sets `TCP_NODELAY` in this process.
    public static var tcpNoDelayEnabled: Bool { tributary_accept_nodelay_enabled() != 0 }

    /// Accepted sockets that got `TCP_NODELAY` from the interposer since the process started.
    public static var tcpNoDelaySockets: Int { tributary_accept_nodelay_count() }

    /// The last socket the interposer set `TCP_NODELAY` on (-1 if none), for verification with `getsockopt`.
    public static var lastTCPNoDelaySocket: Int32 { tributary_accept_nodelay_last_fd() }
}

/// Owns the host `rd_kafka_t` and its `rd_kafka_mock_cluster_t`.
///
/// `rd_kafka_mock_cluster_destroy` takes about a second in librdkafka 2.0.2 (its I/O loop notices the
/// termination only at the next 1 s poll timeout), so when the broker is simply released the cluster is
/// destroyed on librdkafka's destroy queue, right before the host handle (`RDKafkaClient.onDestroy`).
final class MockCluster: Sendable {
    private let host: RDKafkaClient
    private let cluster: MockClusterPointer
    let bootstraps: String

    init(brokerCount: Int, logger: Logger) throws {
        // A producer handle with no brokers, only used as the mock cluster's host and logger. log_level 3: its
        // only warning would be "No `bootstrap.servers` configured", which is the point here.
        self.host = try RDKafkaClient(
            kind: .producer, properties: [("log.connection.close", "false"), ("log_level", "3")], logger: logger)
        guard let pointer = rd_kafka_mock_cluster_new(host.handle, Int32(brokerCount)) else {
            throw KafkaSinkError(.devBroker, "rd_kafka_mock_cluster_new(\(brokerCount)) failed")
        }
        let cluster = MockClusterPointer(pointer)
        self.cluster = cluster
        self.bootstraps = String(cString: rd_kafka_mock_cluster_bootstraps(pointer))
        host.onDestroy { _ in cluster.destroy() }
    }

    /// Destroys the cluster now (blocks about a second). Idempotent.
    func destroy() {
        cluster.destroy()
    }

    func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32) throws {
        let err = try cluster.withPointer { rd_kafka_mock_topic_create($0, name, partitions, replicationFactor) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RDKafkaError.make(
                .devBroker, code: err, operation: "rd_kafka_mock_topic_create", client: host, topic: name)
        }
    }

    func pushRequestErrors(apiKey: Int16, errorCodes: [Int32]) {
        guard !errorCodes.isEmpty else { return }
        let codes = errorCodes.map { rd_kafka_resp_err_t(rawValue: $0) }
        _ = try? cluster.withPointer { pointer in
            codes.withUnsafeBufferPointer { buffer in
                rd_kafka_mock_push_request_errors_array(pointer, apiKey, buffer.count, buffer.baseAddress)
            }
        }
    }
}

/// The `rd_kafka_mock_cluster_t *`, usable until destroyed.
final class MockClusterPointer: @unchecked Sendable {
    // @unchecked Sendable: the mock API is thread-safe (it posts operations to the cluster's thread); the
    // pointer is used and destroyed only under `destroyed`'s lock.
    private let pointer: OpaquePointer
    private let destroyed = Mutex(false)

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    /// Runs `body` with the live pointer; throws once the cluster is destroyed.
    func withPointer<R>(_ body: (OpaquePointer) -> R) throws -> R {
        try destroyed.withLock { done in
            if done { throw KafkaSinkError(.devBroker, "the dev broker was shut down") }
            return body(pointer)
        }
    }

    /// `rd_kafka_mock_cluster_destroy`, once.
    func destroy() {
        destroyed.withLock { done in
            guard !done else { return }
            done = true
            rd_kafka_mock_cluster_destroy(pointer)
        }
    }
}
