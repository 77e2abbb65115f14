import KafkaSink
import Testing

@Suite(.timeLimit(.minutes(1))) struct FencingTests {
    /// A second producer with the same transactional.id. A real broker bumps the epoch and fences the first
    /// (`PRODUCER_FENCED` / `INVALID_PRODUCER_EPOCH` → `_FENCED`). librdkafka 2.0.2's mock does not: its
    /// InitProducerId hands out a new producer id and keeps the old one valid, so both keep committing there.
    @Test func secondProducerWithSameTransactionalID() async throws {
        let backbone = try TestBackbone.make()
        let transactionalID = uniqueName("agent")
        let topic = uniqueName("fence")
        let first = try TransactionalProducer(
            configuration: backbone.configuration, transactionalID: transactionalID, logger: testLogger("first"))
        try await first.initTransactions(timeout: .seconds(10))
        try first.beginTransaction()
        try await first.produce(topic: topic, key: "k".bytes, value: "first".bytes)
        try await first.commitTransaction(timeout: .seconds(10))

        let second = try TransactionalProducer(
            configuration: backbone.configuration, transactionalID: transactionalID, logger: testLogger("second"))
        try await second.initTransactions(timeout: .seconds(10))
        try second.beginTransaction()
        try await second.produce(topic: topic, key: "k".bytes, value: "second".bytes)
        try await second.commitTransaction(timeout: .seconds(10))

        if backbone.isMock {
            try first.beginTransaction()
            try await first.produce(topic: topic, key: "k".bytes, value: "first again".bytes)
            try await first.commitTransaction(timeout: .seconds(10))
        } else {
            let error = await #expect(throws: KafkaSinkError.self) {
                try first.beginTransaction()
                try await first.produce(topic: topic, key: "k".bytes, value: "first again".bytes)
                try await first.commitTransaction(timeout: .seconds(10))
            }
            #expect(error?.code == .fenced)
            #expect(error?.isRetriable == false)
        }
    }

    /// The broker answering EndTxn with PRODUCER_FENCED (injected on the mock) surfaces as `.fenced`: fatal, not
    /// retriable, with a message saying another agent took over.
    @Test func producerFencedOnCommitIsFatalFenced() async throws {
        let broker = try DevBroker(logger: testLogger("devbroker"))
        let producer = try TransactionalProducer(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers),
            transactionalID: uniqueName("agent"), logger: testLogger("producer"))
        try await producer.initTransactions(timeout: .seconds(10))
        try producer.beginTransaction()
        try await producer.produce(topic: "fenced", key: "k".bytes, value: "v".bytes)
        broker.injectRequestErrors(apiKey: 26 /* EndTxn */, errorCodes: [90 /* PRODUCER_FENCED */])
        let error = try await #require(throws: KafkaSinkError.self) {
            try await producer.commitTransaction(timeout: .seconds(10))
        }
        #expect(error.code == .fenced)
        #expect(error.isFenced)
        #expect(error.isFatal)
        #expect(!error.isRetriable)
        #expect(error.message.contains("another agent with the same transactional.id took over"))
        #expect(error.rdKafkaName == "_FENCED")

        // Everything after is refused with the same classification.
        let next = try #require(throws: KafkaSinkError.self) { try producer.beginTransaction() }
        #expect(next.code == .fenced)
    }

    /// A retriable broker error on EndTxn (coordinator moved) is resumed inside `commitTransaction`.
    @Test func retriableCommitErrorIsResumed() async throws {
        let broker = try DevBroker(logger: testLogger("devbroker"))
        let producer = try TransactionalProducer(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers),
            transactionalID: uniqueName("agent"), logger: testLogger("producer"))
        try await producer.initTransactions(timeout: .seconds(10))
        try producer.beginTransaction()
        try await producer.produce(topic: "retry", key: "k".bytes, value: "v".bytes)
        broker.injectRequestErrors(apiKey: 26, errorCodes: [15 /* COORDINATOR_NOT_AVAILABLE */, 16 /* NOT_COORDINATOR */])
        try await producer.commitTransaction(timeout: .seconds(10))
    }

    /// A failed produce request inside a transaction makes the transaction abortable: the error says so, is
    /// retriable, and after `abortTransaction` the producer works again.
    @Test func abortableErrorRequiresAbortThenRecovers() async throws {
        let broker = try DevBroker(logger: testLogger("devbroker"))
        let producer = try TransactionalProducer(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers),
            transactionalID: uniqueName("agent"), logger: testLogger("producer"))
        try await producer.initTransactions(timeout: .seconds(10))
        try producer.beginTransaction()
        // TOPIC_AUTHORIZATION_FAILED on Produce: a permanent delivery failure of this transaction's message.
        broker.injectRequestErrors(apiKey: 0, errorCodes: [29])
        try await producer.produce(topic: "abortable", key: "k".bytes, value: "v".bytes)
        let error = try await #require(throws: KafkaSinkError.self) {
            try await producer.commitTransaction(timeout: .seconds(10))
        }
        #expect(error.code == .abortRequired)
        #expect(error.requiresAbort)
        #expect(error.isRetriable)
        #expect(producer.deliveryFailures == 1)
        try await producer.abortTransaction(timeout: .seconds(10))

        // librdkafka remembers the authorization failure for that topic until its next metadata refresh, so
        // the next unit goes elsewhere.
        try producer.beginTransaction()
        try await producer.produce(topic: "abortable-next", key: "k".bytes, value: "v2".bytes)
        try await producer.commitTransaction(timeout: .seconds(10))
    }
}
