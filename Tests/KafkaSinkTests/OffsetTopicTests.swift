import KafkaSink
import Testing

@Suite(.timeLimit(.minutes(1))) struct OffsetTopicTests {
    @Test func readLatestReturnsLastCommittedValueForKey() async throws {
        let backbone = try TestBackbone.make()
        let agent = uniqueName("agent")
        let topic = OffsetTopic.name(forAgent: agent)
        #expect(topic == "\(agent).offsets")
        let offsets = OffsetTopic(configuration: backbone.configuration, logger: testLogger("offsets"))
        // The mock has no CreateTopics: this must log and go on, not fail.
        try await offsets.ensureTopic(name: topic, timeout: .seconds(1))

        let producer = try TransactionalProducer(
            configuration: backbone.configuration, transactionalID: agent, logger: testLogger("producer"))
        try await producer.initTransactions(timeout: .seconds(10))
        let dataTopic = uniqueName("data")
        for unit in 1...3 {
            try producer.beginTransaction()
            try await producer.produce(topic: dataTopic, key: "row".bytes, value: "unit \(unit)".bytes)
            // Another agent's record in between must not be picked.
            try await producer.produce(topic: topic, key: "other-agent".bytes, value: "other \(unit)".bytes)
            try await producer.produce(topic: topic, key: agent.bytes, value: #"{"lsn":\#(unit * 100)}"#.bytes)
            try await producer.commitTransaction(timeout: .seconds(10))
        }
        try producer.beginTransaction()
        try await producer.produce(topic: topic, key: "other-agent".bytes, value: "other last".bytes)
        try await producer.commitTransaction(timeout: .seconds(10))

        let latest = try await offsets.readLatest(topic: topic, key: agent, timeout: .seconds(10))
        #expect(latest.map { String(decoding: $0, as: UTF8.self) } == #"{"lsn":300}"#)
        let other = try await offsets.readLatest(topic: topic, key: "other-agent", timeout: .seconds(10))
        #expect(other == "other last".bytes)
        let unknown = try await offsets.readLatest(topic: topic, key: "nobody", timeout: .seconds(10))
        #expect(unknown == nil)
    }

    @Test func readLatestOfMissingTopicIsNilAndQuick() async throws {
        let backbone = try TestBackbone.make()
        let offsets = OffsetTopic(configuration: backbone.configuration, logger: testLogger("offsets"))
        let start = ContinuousClock.now
        let value = try await offsets.readLatest(
            topic: OffsetTopic.name(forAgent: uniqueName("absent")), key: "absent", timeout: .seconds(10))
        #expect(value == nil)
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test func readLatestOfEmptyTopicIsNilAndQuick() async throws {
        let backbone = try TestBackbone.make(topics: [DevBroker.Topic("empty.offsets", partitions: 1)])
        let topic = backbone.isMock ? "empty.offsets" : uniqueName("empty") + ".offsets"
        let offsets = OffsetTopic(configuration: backbone.configuration, logger: testLogger("offsets"))
        try await offsets.ensureTopic(name: topic, timeout: .seconds(1))
        let start = ContinuousClock.now
        let value = try await offsets.readLatest(topic: topic, key: "agent", timeout: .seconds(10))
        #expect(value == nil)
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test func tombstoneResetsTheOffset() async throws {
        let backbone = try TestBackbone.make()
        let agent = uniqueName("agent")
        let topic = OffsetTopic.name(forAgent: agent)
        let producer = try TransactionalProducer(
            configuration: backbone.configuration, transactionalID: agent, logger: testLogger("producer"))
        try await producer.initTransactions(timeout: .seconds(10))
        try producer.beginTransaction()
        try await producer.produce(topic: topic, key: agent.bytes, value: "{}".bytes, partition: 0)
        try await producer.produce(topic: topic, key: agent.bytes, value: nil, partition: 0)
        try await producer.commitTransaction(timeout: .seconds(10))
        let offsets = OffsetTopic(configuration: backbone.configuration, logger: testLogger("offsets"))
        #expect(try await offsets.readLatest(topic: topic, key: agent, timeout: .seconds(10)) == nil)
    }
}
