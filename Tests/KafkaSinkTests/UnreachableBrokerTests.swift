import KafkaSink
import Testing

/// Nothing listens on port 1: calls give up at their timeout with a retriable error instead of hanging.
@Suite(.timeLimit(.minutes(1))) struct UnreachableBrokerTests {
    let configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")

    @Test func initTransactionsTimesOutRetriably() async throws {
        let producer = try TransactionalProducer(
            configuration: configuration, transactionalID: uniqueName("agent"), logger: testLogger("producer"))
        let start = ContinuousClock.now
        let error = try await #require(throws: KafkaSinkError.self) {
            try await producer.initTransactions(timeout: .milliseconds(1500))
        }
        #expect(error.code == .timedOut)
        #expect(error.isRetriable)
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test func readLatestTimesOutRetriably() async throws {
        let offsets = OffsetTopic(configuration: configuration, logger: testLogger("offsets"))
        let start = ContinuousClock.now
        let error = try await #require(throws: KafkaSinkError.self) {
            _ = try await offsets.readLatest(topic: "agent.offsets", key: "agent", timeout: .milliseconds(1500))
        }
        #expect(error.isRetriable)
        #expect(ContinuousClock.now - start < .seconds(4))
    }

    @Test func readLatestStopsWhenCancelled() async throws {
        let offsets = OffsetTopic(configuration: configuration, logger: testLogger("offsets"))
        let start = ContinuousClock.now
        let task = Task { try await offsets.readLatest(topic: "agent.offsets", key: "agent", timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(ContinuousClock.now - start < .seconds(3))
    }
}
