import KafkaSink
import Testing

@Suite struct KafkaConfigurationTests {
    @Test func acceptsValidProperties() throws {
        let configuration = KafkaConfiguration([
            "bootstrap.servers": "127.0.0.1:9092", "linger.ms": "20", "compression.type": "lz4",
            "security.protocol": "plaintext",
        ])
        try configuration.validate()
    }

    @Test func rejectsUnknownPropertyNamingIt() throws {
        let configuration = KafkaConfiguration(["bootstrap.servers": "x:1", "linger.msec": "5"])
        let error = try #require(throws: KafkaSinkError.self) { try configuration.validate() }
        #expect(error.code == .configuration)
        #expect(error.property == "linger.msec")
        #expect(error.message.contains("linger.msec"))
        #expect(error.message.contains("unknown"))
        #expect(!error.isRetriable)
    }

    @Test func rejectsInvalidValueWithLibrdkafkaMessage() throws {
        let configuration = KafkaConfiguration(["acks": "several"])
        let error = try #require(throws: KafkaSinkError.self) { try configuration.validate() }
        #expect(error.code == .configuration)
        #expect(error.property == "acks")
        // librdkafka's own explanation is carried over.
        #expect(error.message.contains("Invalid value"))
    }

    @Test func producerRejectsBadUserProperty() throws {
        let error = try #require(throws: KafkaSinkError.self) {
            _ = try TransactionalProducer(
                configuration: KafkaConfiguration(["queue.buffering.max.messages": "-3"]), transactionalID: "t",
                logger: testLogger("config"))
        }
        #expect(error.code == .configuration)
        #expect(error.property == "queue.buffering.max.messages")
    }

    @Test func producerRejectsEmptyTransactionalID() throws {
        let error = try #require(throws: KafkaSinkError.self) {
            _ = try TransactionalProducer(
                configuration: KafkaConfiguration(), transactionalID: "", logger: testLogger("config"))
        }
        #expect(error.property == "transactional.id")
    }

    @Test func mergingOverridesAndStripsNothing() {
        let base = KafkaConfiguration(bootstrapServers: "a:1", ["linger.ms": "5"])
        let merged = base.merging(["linger.ms": "50", "acks": "all"])
        #expect(merged.properties == ["bootstrap.servers": "a:1", "linger.ms": "50", "acks": "all"])
        #expect(merged.bootstrapServers == "a:1")
    }
}
