import Logging
import Synchronization
import TributaryCore

/// The PostgreSQL logical-replication source: pgoutput over libpq, publication and slot management,
/// standby status feedback (flush only what the sink committed), heartbeats, graceful stop.
public final class PostgresSource: ChangeSource {
    let configuration: PostgresSourceConfiguration
    let logger: Logger
    /// Shared with the replication session: what the sink has committed, and whether to stop.
    let control = SourceControl()

    public init(configuration: PostgresSourceConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run(after offset: Offset?, into output: RecordChannel) async throws {
        control.reset()
        let session = ReplicationSession(configuration: configuration, logger: logger, control: control)
        try await session.run(after: offset, into: output)
    }

    public func acknowledge(_ offset: Offset) {
        guard let lsn = offset.lsn else { return }
        control.acknowledge(lsn)
    }

    public func requestStop() {
        control.requestStop()
    }
}

/// Thread-safe state shared between the engine (acknowledgements, stop) and the replication session.
final class SourceControl: Sendable {
    private struct State {
        var acknowledged: UInt64 = 0
        var stopRequested = false
    }
    private let state = Mutex(State())

    func reset() {
        state.withLock { $0.acknowledged = 0 }
    }

    func acknowledge(_ lsn: UInt64) {
        state.withLock { $0.acknowledged = max($0.acknowledged, lsn) }
    }

    var acknowledged: UInt64 { state.withLock { $0.acknowledged } }

    func requestStop() {
        state.withLock { $0.stopRequested = true }
    }

    var stopRequested: Bool { state.withLock { $0.stopRequested } }
}

/// Dotted logging metadata keys of this module.
enum LoggingKeys {
    static let slot = "pg.slot"
    static let publication = "pg.publication"
    static let lsn = "pg.lsn"
    static let table = "pg.table"
    static let error = "error"
}
