import Foundation
import Logging
import Synchronization
import Testing
import TributaryCore

@testable import Engine
@testable import PostgresSource

/// Real PostgreSQL (TRIBUTARY_TEST_PG_URL, started by deploy/local/test.sh). In CI a missing server fails.
enum TestDatabase {
    static var url: String? { ProcessInfo.processInfo.environment["TRIBUTARY_TEST_PG_URL"] }

    static func settings() throws -> PostgresConnectionSettings {
        guard let url, let components = URLComponents(string: url) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                throw TestSetupError(message: "TRIBUTARY_TEST_PG_URL is not set (CI=true: a missing server fails)")
            }
            throw TestSetupError(message: "TRIBUTARY_TEST_PG_URL is not set")
        }
        return PostgresConnectionSettings(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, user: components.user ?? "postgres",
            database: String(components.path.dropFirst()))
    }

    static var available: Bool { url != nil || ProcessInfo.processInfo.environment["CI"] == "true" }
}

struct TestSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Collects committed records like a sink would, acknowledging them through the real engine.
final class CollectingSink: ChangeSink {
    private let state = Mutex<(open: [SourceRecord], committed: [SourceRecord], offsets: [Offset])>(([], [], []))
    let initial: Offset?
    init(initial: Offset? = nil) { self.initial = initial }
    var events: [ChangeEvent] {
        state.withLock { s in s.committed.compactMap { if case .change(let e) = $0 { return e } else { return nil } } }
    }
    var offsets: [Offset] { state.withLock { $0.offsets } }
    func loadOffset() async throws -> Offset? { state.withLock { $0.offsets.last } ?? initial }
    func beginUnit(id: String) async throws { state.withLock { $0.open = [] } }
    func write(_ records: [SourceRecord]) async throws { state.withLock { $0.open += records } }
    func commitUnit(offset: Offset) async throws {
        state.withLock { s in
            s.committed += s.open
            s.open = []
            s.offsets.append(offset)
        }
    }
    func abortUnit() async { state.withLock { $0.open = [] } }
}

@Suite(.serialized, .enabled(if: TestDatabase.available, "needs TRIBUTARY_TEST_PG_URL"))
struct PostgresSourceIntegrationTests {
    let logger = Logger(label: "integration")

    func sql(_ statements: String...) throws {
        let connection = try PGConnection(try TestDatabase.settings(), replication: false)
        for statement in statements { try connection.query(statement) }
    }

    func configuration(_ name: String, mode: PostgresSourceConfiguration.SnapshotSettings.Mode) throws -> PostgresSourceConfiguration {
        PostgresSourceConfiguration(
            connection: try TestDatabase.settings(), slotName: name, publicationName: "\(name)_pub",
            publicationAutocreate: .filtered, captureTable: { $0.name == name },
            statusIntervalMilliseconds: 500, shutdownTimeoutMilliseconds: 5_000,
            snapshot: .init(mode: mode, maxThreads: 2, chunkSize: 3))
    }

    func cleanup(_ name: String) throws {
        try sql(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '\(name)' AND NOT active",
            "DROP PUBLICATION IF EXISTS \(name)_pub", "DROP TABLE IF EXISTS public.\(name)")
    }

    /// Runs the engine until `done` holds (or 30 s), then stops it gracefully.
    func run(_ source: PostgresSource, _ sink: CollectingSink, until done: @escaping @Sendable () -> Bool, during: (@Sendable () throws -> Void)? = nil) async throws {
        let engine = Engine(source: source, sink: sink, configuration: EngineConfiguration(maxRetries: 0), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            group.addTask {
                // Whatever happens here, the engine is asked to stop (waitForAll waits for every child).
                defer { engine.requestStop() }
                let deadline = ContinuousClock.now + .seconds(30)
                var ran = false
                while !done() && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    if !ran, let during, !sink.events.isEmpty {
                        ran = true
                        logger.info("test: running the concurrent writes", metadata: ["events": "\(sink.events.count)"])
                        // Blocking libpq calls stay off the cooperative pool.
                        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                            DispatchQueue.global().async { c.resume(with: Result { try during() }) }
                        }
                        logger.info("test: concurrent writes done")
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func snapshotHandsOverToStreamingWithoutGapOrOverlap() async throws {
        let name = "it_handover_\(Int.random(in: 1000...9999))"
        try cleanup(name)
        defer { try? cleanup(name) }
        try sql("CREATE TABLE public.\(name) (id int PRIMARY KEY, v text)",
                "INSERT INTO public.\(name) SELECT g, 'v' || g FROM generate_series(1, 2000) g")
        let source = PostgresSource(configuration: try configuration(name, mode: .initial), logger: logger)
        let sink = CollectingSink()
        let settings = try TestDatabase.settings()
        try await run(source, sink, until: { sink.events.filter { $0.op != .read }.count >= 2 }) {
            let c = try PGConnection(settings, replication: false)
            try c.query("UPDATE public.\(name) SET v = 'changed' WHERE id = 1")
            try c.query("INSERT INTO public.\(name) VALUES (100001, 'new')")
        }
        let reads = sink.events.filter { $0.op == .read }
        #expect(reads.count == 2000)
        #expect(Set(reads.compactMap { $0.after?.first }).count == 2000)
        #expect(reads.first?.snapshot == .first)
        #expect(reads.last?.snapshot == .last)
        let streamed = sink.events.filter { $0.op != .read }
        #expect(streamed.map(\.op) == [.update, .create])
        // The last committed offset has no snapshot progress: streaming took over.
        #expect(sink.offsets.last?.snapshot == nil)
        // The table spans several heap pages: chunks were committed as separate units carrying progress.
        #expect(sink.offsets.filter { $0.snapshot != nil }.count >= 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func missingSlotWithAnOffsetIsRefusedUnlessWhenNeeded() async throws {
        let name = "it_noslot_\(Int.random(in: 1000...9999))"
        try cleanup(name)
        defer { try? cleanup(name) }
        try sql("CREATE TABLE public.\(name) (id int PRIMARY KEY)", "INSERT INTO public.\(name) VALUES (1), (2)")
        let stored = Offset(source: "postgresql", lsn: 0x1000)
        let refusing = Engine(
            source: PostgresSource(configuration: try configuration(name, mode: .initial), logger: logger),
            sink: CollectingSink(initial: stored), configuration: EngineConfiguration(maxRetries: 0), logger: logger)
        do {
            try await refusing.run()
            Issue.record("expected a slotMissing error")
        } catch let error as PostgresSourceError {
            #expect(error.code == .slotMissing)
            #expect(!error.isRetriable)
            #expect(error.message.contains("when_needed"))
        }
        // when_needed re-snapshots instead.
        let source = PostgresSource(configuration: try configuration(name, mode: .whenNeeded), logger: logger)
        let sink = CollectingSink(initial: stored)
        try await run(source, sink, until: { sink.events.count >= 2 })
        #expect(sink.events.filter { $0.op == .read }.count == 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func offsetBehindTheSlotIsRefusedNamingTheFix() async throws {
        let name = "it_behind_\(Int.random(in: 1000...9999))"
        try cleanup(name)
        defer { try? cleanup(name) }
        try sql(
            "CREATE TABLE public.\(name) (id int PRIMARY KEY)",
            "SELECT pg_create_logical_replication_slot('\(name)', 'pgoutput')",
            "INSERT INTO public.\(name) VALUES (1)",
            "SELECT pg_replication_slot_advance('\(name)', pg_current_wal_lsn())")
        // An offset far behind the slot's confirmed_flush_lsn.
        let refusing = Engine(
            source: PostgresSource(configuration: try configuration(name, mode: .noData), logger: logger),
            sink: CollectingSink(initial: Offset(source: "postgresql", lsn: 1)),
            configuration: EngineConfiguration(maxRetries: 0), logger: logger)
        await #expect {
            try await refusing.run()
        } throws: { error in
            guard let error = error as? PostgresSourceError else { return false }
            return error.code == .positionUnavailable && error.message.contains("offsets set --lsn")
        }
    }
}
