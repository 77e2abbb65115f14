import Logging
import Synchronization
import Testing
import TributaryCore

@testable import Engine

/// A source that replays a script of transactions, resuming after the offset it is given (as a real
/// source would: the stored offset's `lsn` is the end of the last committed transaction).
final class ScriptedSource: ChangeSource {
    struct Transaction: Sendable {
        var end: UInt64
        var events: Int
    }
    let transactions: [Transaction]
    /// Fail (retriably) once when the source reaches this transaction end, on the first run only.
    let failAt: UInt64?
    private let state = Mutex<(runs: [UInt64?], acks: [UInt64], failed: Bool)>(([], [], false))

    init(transactions: [Transaction], failAt: UInt64? = nil) {
        self.transactions = transactions
        self.failAt = failAt
    }

    var runs: [UInt64?] { state.withLock { $0.runs } }
    var acks: [UInt64] { state.withLock { $0.acks } }

    struct Lost: RetriableError { var isRetriable: Bool { true } }

    func run(after offset: Offset?, into output: RecordChannel) async throws {
        state.withLock { $0.runs.append(offset?.lsn) }
        let start = offset?.lsn ?? 0
        let table = TableSchema(id: TableID(schema: "s", name: "t"), columns: [Column(name: "id", type: ColumnType(.int64, typeName: "int8"), isKey: true)])
        for tx in transactions where tx.end > start {
            if tx.end == failAt, state.withLock({ s -> Bool in defer { s.failed = true }; return !s.failed }) {
                throw Lost()
            }
            var batch: [SourceRecord] = []
            let commitLSN = LSN(tx.end - 1)
            let boundary = TransactionBoundary(id: "\(tx.end)", timestampMicros: 0, offset: Offset(source: "test", lsn: tx.end))
            batch.append(.begin(boundary))
            for i in 0..<tx.events {
                let position = PostgresPosition(commitLSN: commitLSN, lsn: commitLSN, eventIndex: Int64(i), xid: 1)
                batch.append(.change(ChangeEvent(op: .create, table: table, before: nil, after: [.int(Int64(i))], position: .postgres(position), sourceTimestampMicros: 0)))
            }
            batch.append(.commit(boundary))
            // Split transactions across batches to exercise units that span batches.
            let mid = batch.count / 2
            try await output.send(Array(batch[..<mid]))
            try await output.send(Array(batch[mid...]))
        }
    }

    func acknowledge(_ offset: Offset) {
        state.withLock { $0.acks.append(offset.lsn ?? 0) }
    }

    func requestStop() {}
}

/// A sink that keeps committed units in memory and can fail a commit on demand.
final class InMemorySink: ChangeSink {
    struct Unit: Sendable {
        var id: String
        var records: [SourceRecord]
        var offset: Offset
    }
    private let state = Mutex<(open: [SourceRecord]?, openID: String, committed: [Unit], aborted: Int, failCommits: Int)>((nil, "", [], 0, 0))

    init(failCommits: Int = 0) {
        state.withLock { $0.failCommits = failCommits }
    }

    var committed: [Unit] { state.withLock { $0.committed } }
    var aborted: Int { state.withLock { $0.aborted } }

    struct BrokerDown: RetriableError { var isRetriable: Bool { true } }

    func loadOffset() async throws -> Offset? { state.withLock { $0.committed.last?.offset } }
    func beginUnit(id: String) async throws {
        try state.withLock { s in
            guard s.open == nil else { throw InvariantViolation(message: "unit already open") }
            s.open = []
            s.openID = id
        }
    }
    func write(_ records: [SourceRecord]) async throws {
        try state.withLock { s in
            guard s.open != nil else { throw InvariantViolation(message: "write without unit") }
            s.open?.append(contentsOf: records)
        }
    }
    func commitUnit(offset: Offset) async throws {
        try state.withLock { s in
            guard let records = s.open else { throw InvariantViolation(message: "commit without unit") }
            if s.failCommits > 0 {
                s.failCommits -= 1
                throw BrokerDown()
            }
            s.committed.append(Unit(id: s.openID, records: records, offset: offset))
            s.open = nil
        }
    }
    func abortUnit() async {
        state.withLock { s in
            if s.open != nil { s.aborted += 1 }
            s.open = nil
        }
    }
}

struct InvariantViolation: Error { var message: String }

@Suite struct EngineTests {
    let logger = Logger(label: "test")

    func allEventKeys(_ sink: InMemorySink) -> [String] {
        sink.committed.flatMap { unit in
            unit.records.compactMap { record -> String? in
                guard case .change(let event) = record, case .postgres(let p) = event.position else { return nil }
                return "\(p.commitLSN.rawValue):\(p.eventIndex)"
            }
        }
    }

    /// Every unit ends at a transaction boundary, its offset is that of its last transaction.
    func assertWholeTransactions(_ sink: InMemorySink) {
        for unit in sink.committed {
            var depth = 0
            var lastEnd: UInt64?
            for record in unit.records {
                switch record {
                case .begin: depth += 1
                case .commit(let b): depth -= 1; lastEnd = b.offset.lsn
                default: break
                }
            }
            #expect(depth == 0, "unit \(unit.id) ends inside a transaction")
            #expect(lastEnd == unit.offset.lsn)
            #expect(unit.offset.unit == unit.id)
        }
    }

    @Test func commitsWholeTransactionsAndAcknowledgesAfterCommit() async throws {
        let txs = (1...50).map { ScriptedSource.Transaction(end: UInt64($0 * 100), events: $0 % 7 + 1) }
        let source = ScriptedSource(transactions: txs)
        let sink = InMemorySink()
        let engine = Engine(source: source, sink: sink, configuration: EngineConfiguration(maxEvents: 10, queueCapacity: 2), logger: logger)
        try await engine.run()
        assertWholeTransactions(sink)
        let keys = allEventKeys(sink)
        #expect(keys.count == txs.reduce(0) { $0 + $1.events })
        #expect(Set(keys).count == keys.count)
        #expect(sink.committed.last?.offset.lsn == 5000)
        // Acknowledged offsets are exactly the committed ones, in order.
        #expect(source.acks == sink.committed.map { $0.offset.lsn ?? 0 })
        #expect(sink.committed.count > 1)
    }

    @Test func sourceFailureRestartsAfterTheCommittedOffsetWithoutLossOrDuplicate() async throws {
        let txs = (1...30).map { ScriptedSource.Transaction(end: UInt64($0 * 100), events: 3) }
        let source = ScriptedSource(transactions: txs, failAt: 1700)
        let sink = InMemorySink()
        let engine = Engine(source: source, sink: sink, configuration: EngineConfiguration(maxEvents: 5, initialRetryDelayMilliseconds: 1), logger: logger)
        try await engine.run()
        let keys = allEventKeys(sink)
        #expect(keys.count == 90)
        #expect(Set(keys).count == 90)
        #expect(source.runs.count == 2)
        #expect(source.runs[0] == nil)
        #expect(source.runs[1] == sink.committed.first { $0.offset.lsn! >= 1600 }.map { _ in source.runs[1] } ?? nil)
        assertWholeTransactions(sink)
    }

    @Test func failedCommitAbortsTheUnitAndReplaysIt() async throws {
        let txs = (1...20).map { ScriptedSource.Transaction(end: UInt64($0 * 10), events: 2) }
        let source = ScriptedSource(transactions: txs)
        let sink = InMemorySink(failCommits: 2)
        let engine = Engine(source: source, sink: sink, configuration: EngineConfiguration(maxEvents: 4, initialRetryDelayMilliseconds: 1), logger: logger)
        try await engine.run()
        #expect(sink.aborted == 2)
        let keys = allEventKeys(sink)
        #expect(keys.count == 40)
        #expect(Set(keys).count == 40)
        assertWholeTransactions(sink)
    }

    @Test func permanentErrorStopsTheEngine() async throws {
        struct Corrupt: Error {}
        final class Broken: ChangeSource {
            func run(after offset: Offset?, into output: RecordChannel) async throws { throw Corrupt() }
            func acknowledge(_ offset: Offset) {}
            func requestStop() {}
        }
        let engine = Engine(source: Broken(), sink: InMemorySink(), configuration: EngineConfiguration(), logger: logger)
        await #expect(throws: Corrupt.self) { try await engine.run() }
    }

    @Test func backoffIsCappedAndGrows() {
        let engine = Engine(source: ScriptedSource(transactions: []), sink: InMemorySink(), configuration: EngineConfiguration(initialRetryDelayMilliseconds: 100, maxRetryDelayMilliseconds: 1000), logger: logger)
        for attempt in 1...20 {
            let delay = engine.backoff(attempt: attempt)
            #expect(delay >= 1 && delay <= 1000)
        }
        #expect(engine.backoff(attempt: 10) >= 500)
    }

    @Test(.timeLimit(.minutes(1)))
    func stopRequestedWhileRetryingReturnsPromptly() async throws {
        final class Unreachable: ChangeSource {
            struct Refused: RetriableError { var isRetriable: Bool { true } }
            func run(after offset: Offset?, into output: RecordChannel) async throws { throw Refused() }
            func acknowledge(_ offset: Offset) {}
            func requestStop() {}
        }
        let engine = Engine(
            source: Unreachable(), sink: InMemorySink(),
            configuration: EngineConfiguration(initialRetryDelayMilliseconds: 5_000, maxRetryDelayMilliseconds: 5_000),
            logger: logger)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            try await Task.sleep(for: .milliseconds(100))
            engine.requestStop()
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func retryResumesAfterTheSinksCommittedOffsetNotAStaleCopy() async throws {
        /// A sink whose committed offset another agent moved on while this one was retrying.
        final class MovingSink: ChangeSink {
            let offset = Mutex<Offset?>(Offset(source: "test", lsn: 100))
            func loadOffset() async throws -> Offset? { offset.withLock { $0 } }
            func beginUnit(id: String) async throws {}
            func write(_ records: [SourceRecord]) async throws {}
            func commitUnit(offset: Offset) async throws { self.offset.withLock { $0 = offset } }
            func abortUnit() async {}
        }
        final class FailOnce: ChangeSource {
            struct Busy: RetriableError { var isRetriable: Bool { true } }
            let runs = Mutex<[UInt64?]>([])
            let sink: MovingSink
            init(sink: MovingSink) { self.sink = sink }
            func run(after offset: Offset?, into output: RecordChannel) async throws {
                let first = runs.withLock { r -> Bool in
                    r.append(offset?.lsn)
                    return r.count == 1
                }
                if first {
                    // Meanwhile another agent of the same name commits further.
                    sink.offset.withLock { $0 = Offset(source: "test", lsn: 500) }
                    throw Busy()
                }
            }
            func acknowledge(_ offset: Offset) {}
            func requestStop() {}
        }
        let sink = MovingSink()
        let source = FailOnce(sink: sink)
        let engine = Engine(
            source: source, sink: sink, configuration: EngineConfiguration(initialRetryDelayMilliseconds: 1),
            logger: logger)
        try await engine.run()
        #expect(source.runs.withLock { $0 } == [100, 500])
    }

    struct Behind: OffsetConflictError { var isOffsetConflict: Bool { true } }

    /// Fails with an offset conflict while the offset it is given is below `servable`.
    final class NeedsFreshOffset: ChangeSource {
        let servable: UInt64
        let runs = Mutex<[UInt64?]>([])
        init(servable: UInt64) { self.servable = servable }
        func run(after offset: Offset?, into output: RecordChannel) async throws {
            runs.withLock { $0.append(offset?.lsn) }
            if (offset?.lsn ?? 0) < servable { throw Behind() }
        }
        func acknowledge(_ offset: Offset) {}
        func requestStop() {}
    }

    final class FixedSink: ChangeSink {
        let offsets: Mutex<[Offset?]>
        init(_ offsets: [Offset?]) { self.offsets = Mutex(offsets) }
        func loadOffset() async throws -> Offset? {
            offsets.withLock { o in o.count > 1 ? o.removeFirst() : o[0] }
        }
        func beginUnit(id: String) async throws {}
        func write(_ records: [SourceRecord]) async throws {}
        func commitUnit(offset: Offset) async throws {}
        func abortUnit() async {}
    }

    @Test func offsetConflictReReadsTheCommittedOffsetOnce() async throws {
        // Another agent committed 200 right after this one read 100: the re-read resolves it.
        let source = NeedsFreshOffset(servable: 200)
        let sink = FixedSink([Offset(source: "test", lsn: 100), Offset(source: "test", lsn: 200)])
        try await Engine(source: source, sink: sink, configuration: EngineConfiguration(), logger: logger).run()
        #expect(source.runs.withLock { $0 } == [100, 200])
    }

    @Test func offsetConflictWithAnUnchangedOffsetIsPermanent() async throws {
        let source = NeedsFreshOffset(servable: 200)
        let sink = FixedSink([Offset(source: "test", lsn: 100)])
        await #expect(throws: Behind.self) {
            try await Engine(source: source, sink: sink, configuration: EngineConfiguration(), logger: self.logger).run()
        }
        #expect(source.runs.withLock { $0 } == [100])
    }
}
