import KafkaSink
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Kafka backbone a test talks to: a real broker when `KAFKA_BOOTSTRAP_SERVERS` is set, otherwise an
/// in-process librdkafka mock cluster (`DevBroker`) owned by the test.
struct TestBackbone {
    let bootstrapServers: String
    /// nil against a real broker.
    let devBroker: DevBroker?

    var isMock: Bool { devBroker != nil }

    var configuration: KafkaConfiguration { KafkaConfiguration(bootstrapServers: bootstrapServers) }

    static func make(topics: [DevBroker.Topic] = []) throws -> TestBackbone {
        if let servers = getenv("KAFKA_BOOTSTRAP_SERVERS").map({ String(cString: $0) }), !servers.isEmpty {
            return TestBackbone(bootstrapServers: servers, devBroker: nil)
        }
        let broker = try DevBroker(brokerCount: 1, topics: topics, logger: testLogger("devbroker"))
        return TestBackbone(bootstrapServers: broker.bootstrapServers, devBroker: broker)
    }
}

/// Logs at `TRIBUTARY_TEST_LOG_LEVEL` (default: warning, so librdkafka's info chatter stays out of test output).
func testLogger(_ label: String) -> Logger {
    var logger = Logger(label: "kafka-test.\(label)")
    let level = getenv("TRIBUTARY_TEST_LOG_LEVEL").map { String(cString: $0) } ?? "warning"
    logger.logLevel = Logger.Level(rawValue: level) ?? .warning
    return logger
}

/// A fresh name, so tests sharing a real broker never see each other's records.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UInt64.random(in: 0..<UInt64.max) & 0xFFFF_FFFF_FFFF)"
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// Reads a whole text file with POSIX calls.
func readTextFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw TestFailure("cannot open \(path)") }
    defer { close(fd) }
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        data.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: data, as: UTF8.self)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
