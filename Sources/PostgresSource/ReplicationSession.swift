import Logging
import NIOCore
import PGOutput
import TributaryCore

/// One replication run: owns the catalog and replication connections on a private serial executor, so
/// every blocking libpq call stays off the cooperative pool.
actor ReplicationSession {
    private nonisolated let executor = DispatchQueueExecutor(label: "tributary.postgres.replication")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let configuration: PostgresSourceConfiguration
    let logger: Logger
    let control: SourceControl

    var catalog: PGConnection?
    var replication: PGConnection?
    var decoder = PGOutputDecoder()
    private let allocator = ByteBufferAllocator()

    /// Schemas as captured (nullability, key, excluded columns applied), per relation OID.
    var schemas: [UInt32: CapturedSchema] = [:]
    var lookedUpTypes: Set<UInt32> = []

    // Stream state.
    var transaction: OpenTransaction?
    var lastCommitLSN: LSN?
    /// Everything with a commit LSN below this was committed by an earlier run: skip it.
    var resumeLSN: UInt64 = 0
    /// The highest offset LSN handed to the engine.
    var lastEmittedLSN: UInt64 = 0
    /// The server's reported WAL send position (keepalives and XLogData `walEnd`).
    var serverWALEnd: UInt64 = 0
    var lastFlushSent: UInt64 = 0
    var lastStatusSent = ContinuousClock.now
    var lastIdleCommit = ContinuousClock.now
    var lastHeartbeatQuery = ContinuousClock.now
    var replyRequested = false
    var idleBackoffMilliseconds = 1
    /// Protocol v2 streaming: the transaction whose stream block is open, and the spill files.
    var currentStreamXID: UInt32?
    var spills: [UInt32: SpillFile] = [:]

    struct OpenTransaction {
        var xid: UInt32
        var commitLSN: LSN
        var commitTimeMicros: Int64
        var nextIndex: Int64 = 0
        var skip: Bool
    }

    /// A relation's schema as events carry it, plus how to map decoded values onto it.
    struct CapturedSchema {
        var schema: TableSchema
        /// For each captured column, its index in the relation's columns.
        var sourceIndices: [Int]
        var captured: Bool
        var relationOID: UInt32
    }

    init(configuration: PostgresSourceConfiguration, logger: Logger, control: SourceControl) {
        self.configuration = configuration
        self.logger = logger
        self.control = control
    }

    // MARK: - Run

    func run(after offset: Offset?, into output: RecordChannel) async throws {
        defer {
            replication = nil
            catalog = nil
        }
        let catalog = try PGConnection(configuration.connection, replication: false)
        self.catalog = catalog
        try checkServer(catalog)
        try preparePublication(catalog)
        let slot = try inspectSlot(catalog)
        let plan = try decideStart(offset: offset, slot: slot)
        // The stored offset is committed: heartbeats may move past it once the stream is idle.
        if let lsn = offset?.lsn { control.acknowledge(lsn) }
        lastEmittedLSN = offset?.lsn ?? 0

        let replication = try PGConnection(configuration.connection, replication: true)
        self.replication = replication
        let system = try replication.query("IDENTIFY_SYSTEM")
        logger.info(
            "connected for replication",
            metadata: [
                "pg.systemid": "\(system.value(0, "systemid") ?? "?")",
                "pg.timeline": "\(system.value(0, "timeline") ?? "?")",
                LoggingKeys.lsn: "\(system.value(0, "xlogpos") ?? "?")",
                "pg.start": "\(plan)",
            ])
        let slotName = quoteIdentifier(configuration.slotName)
        var start = offset
        switch plan {
        case .freshSnapshot:
            if slot != nil {
                logger.notice("dropping replication slot to take a new snapshot", metadata: [LoggingKeys.slot: "\(configuration.slotName)"])
                try catalog.query("SELECT pg_drop_replication_slot($1)", [configuration.slotName])
            }
            let created = try replication.query("CREATE_REPLICATION_SLOT \(slotName) LOGICAL pgoutput (SNAPSHOT 'export')")
            guard let point = created.value(0, "consistent_point").flatMap({ LSN(string: $0) }),
                let snapshotName = created.value(0, "snapshot_name")
            else {
                throw PostgresSourceError(.replicationFailed, "CREATE_REPLICATION_SLOT returned no consistent point or snapshot")
            }
            logger.notice("created replication slot with an exported snapshot", metadata: [LoggingKeys.slot: "\(configuration.slotName)", LoggingKeys.lsn: "\(point)"])
            guard let reached = try await runSnapshot(snapshotName: snapshotName, consistentPoint: point, progress: nil, into: output) else {
                return try await stopDuringSnapshot(output)
            }
            start = reached
        case .resumeSnapshot:
            // The exported snapshot died with the run that created it. Continue with a new snapshot taken now:
            // the stream starts at the original consistent point and replays every change since, so each row
            // ends in its final state (rows of the remaining chunks may see a change twice).
            guard let progress = offset?.snapshot, let pointValue = progress.lsn else {
                throw PostgresSourceError(.configuration, "the stored snapshot progress has no LSN: run `tributary offsets reset`")
            }
            let point = LSN(pointValue)
            let exporter = try PGConnection(configuration.connection, replication: false)
            try exporter.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            guard let snapshotName = try exporter.query("SELECT pg_export_snapshot()").rows.first?.first ?? nil else {
                throw PostgresSourceError(.queryFailed, "pg_export_snapshot() returned nothing")
            }
            logger.notice("resuming the interrupted snapshot", metadata: [LoggingKeys.lsn: "\(point)", "snapshot.tables.done": "\(progress.completedTables.count)"])
            guard let reached = try await runSnapshot(snapshotName: snapshotName, consistentPoint: point, progress: progress, into: output) else {
                return try await stopDuringSnapshot(output)
            }
            start = reached
            try exporter.query("COMMIT")
        case .stream:
            if slot == nil {
                let created = try replication.query("CREATE_REPLICATION_SLOT \(slotName) LOGICAL pgoutput (SNAPSHOT 'nothing')")
                logger.notice(
                    "created replication slot",
                    metadata: [LoggingKeys.slot: "\(configuration.slotName)", LoggingKeys.lsn: "\(created.value(0, "consistent_point") ?? "?")"])
            }
        }

        if configuration.snapshot.mode == .initialOnly {
            output.finish()
            try await waitForAcknowledgement(of: lastEmittedLSN)
            logger.notice("snapshot.mode initial_only: snapshot published, not streaming")
            return
        }

        resumeLSN = start?.lsn ?? 0
        lastEmittedLSN = max(lastEmittedLSN, resumeLSN)
        lastFlushSent = 0
        let startLSN = LSN(resumeLSN)
        var options = [
            "proto_version": streamingEnabled ? "'2'" : "'1'",
            "publication_names": quoteLiteral(quoteIdentifier(configuration.publicationName)),
            "messages": "'true'",
        ]
        for (key, value) in configuration.streamParameters {
            options[key] = quoteLiteral(value)
        }
        removeStaleSpillFiles()
        let optionText = options.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        try replication.startCopyBoth("START_REPLICATION SLOT \(slotName) LOGICAL \(startLSN) (\(optionText))")
        logger.notice("streaming changes", metadata: [LoggingKeys.slot: "\(configuration.slotName)", LoggingKeys.lsn: "\(startLSN)"])
        try await stream(replication, into: output)
        if configuration.dropSlotOnStop {
            self.replication = nil
            _ = try? catalog.query("SELECT pg_drop_replication_slot($1)", [configuration.slotName])
        }
    }

    /// A graceful stop between snapshot chunks: the committed progress lets the next run resume.
    private func stopDuringSnapshot(_ output: RecordChannel) async throws {
        output.finish()
        try await waitForAcknowledgement(of: lastEmittedLSN)
        logger.notice("stopped during the snapshot; the next run resumes after the last committed chunk")
    }

    /// Waits (bounded by the shutdown timeout) until the engine committed everything up to `lsn`.
    func waitForAcknowledgement(of lsn: UInt64) async throws {
        let deadline = ContinuousClock.now + .milliseconds(max(5_000, configuration.shutdownTimeoutMilliseconds))
        while control.acknowledged < lsn, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: - Streaming loop

    private func stream(_ replication: PGConnection, into output: RecordChannel) async throws {
        var batch: [SourceRecord] = []
        let maxBatch = max(1, configuration.maxBatchSize)
        batch.reserveCapacity(maxBatch)
        var stopDeadline: ContinuousClock.Instant?
        lastStatusSent = .now
        lastIdleCommit = .now

        while true {
            try Task.checkCancellation()
            if control.stopRequested, stopDeadline == nil {
                stopDeadline = .now + .milliseconds(configuration.shutdownTimeoutMilliseconds)
                logger.notice("stop requested: finishing the transaction in flight")
            }
            if let stopDeadline {
                if transaction == nil || ContinuousClock.now >= stopDeadline {
                    if transaction != nil {
                        logger.warning("stop timeout with a transaction in flight: it will be re-read on restart")
                    }
                    if !batch.isEmpty, transaction == nil {
                        try await output.send(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                    output.finish()
                    try await finalAcknowledgement(replication, deadline: stopDeadline)
                    return
                }
            }

            try replication.consumeInput()
            var drained = false
            while batch.count < maxBatch {
                switch try replication.readCopyData(allocator: allocator) {
                case .data(var buffer):
                    try await handle(&buffer, into: &batch, output: output)
                case .wouldBlock:
                    drained = true
                case .done:
                    throw PostgresSourceError(.replicationFailed, "the server ended the replication stream")
                }
                if drained { break }
            }
            if !batch.isEmpty && (batch.count >= maxBatch || drained) {
                try await output.send(batch)
                batch.removeAll(keepingCapacity: true)
            }
            try sendStatusIfDue(replication)
            if drained {
                try await idleWork(into: output)
                // Never park the executor thread: check the socket without blocking and sleep
                // asynchronously, backing off from 1 ms to 20 ms while the stream is quiet.
                if replication.waitReadable(milliseconds: 0) {
                    idleBackoffMilliseconds = 1
                } else {
                    try await Task.sleep(for: .milliseconds(idleBackoffMilliseconds))
                    idleBackoffMilliseconds = min(20, idleBackoffMilliseconds * 2)
                }
            } else {
                idleBackoffMilliseconds = 1
            }
        }
    }

    /// When no source transaction is open and the server's WAL moved past everything we emitted, commit an
    /// offset-only unit (a heartbeat) so the slot's confirmed LSN advances: WAL never piles up behind an idle
    /// slot. Runs `heartbeat.action.query` at the heartbeat interval.
    private func idleWork(into output: RecordChannel) async throws {
        let now = ContinuousClock.now
        let heartbeat = configuration.heartbeatIntervalMilliseconds
        if heartbeat > 0, let query = configuration.heartbeatActionQuery,
            now - lastHeartbeatQuery >= .milliseconds(heartbeat)
        {
            lastHeartbeatQuery = now
            do {
                try catalog?.query(query)
            } catch {
                logger.info("heartbeat.action.query failed", metadata: [LoggingKeys.error: "\(error)"])
            }
        }
        let interval = heartbeat > 0 ? heartbeat : configuration.statusIntervalMilliseconds
        guard transaction == nil, now - lastIdleCommit >= .milliseconds(interval) else { return }
        lastIdleCommit = now
        // Only when everything emitted is committed: the heartbeat then confirms nothing unsent.
        guard serverWALEnd > lastEmittedLSN, control.acknowledged >= lastEmittedLSN else { return }
        let offset = Offset(source: "postgresql", lsn: serverWALEnd, lsnCommit: lastCommitLSN?.rawValue)
        lastEmittedLSN = serverWALEnd
        // Never suspends for long: everything emitted before was already acknowledged.
        try await output.send([.heartbeat(offset)])
    }

    private func sendStatusIfDue(_ replication: PGConnection) throws {
        let acknowledged = control.acknowledged
        let now = ContinuousClock.now
        let due = now - lastStatusSent >= .milliseconds(configuration.statusIntervalMilliseconds)
        let advanced = acknowledged > lastFlushSent && now - lastStatusSent >= .milliseconds(100)
        guard replyRequested || due || advanced else { return }
        try sendStatus(replication, flush: acknowledged)
    }

    /// During long work that does not return to the read loop (replaying a streamed transaction under
    /// backpressure), sends a status update every few seconds so the server's wal_sender_timeout never fires.
    func keepConnectionAlive() throws {
        guard let replication, ContinuousClock.now - lastStatusSent >= .seconds(5) else { return }
        try sendStatus(replication, flush: control.acknowledged)
    }

    private func sendStatus(_ replication: PGConnection, flush: UInt64) throws {
        let update = StandbyStatusUpdate(
            write: LSN(max(flush, serverWALEnd)), flush: LSN(flush), apply: LSN(flush),
            clientTime: PGEpoch.postgresMicros(fromUnixMicros: PGClock.nowUnixMicros()), replyRequested: false)
        try replication.sendCopyData(update.encoded())
        lastFlushSent = flush
        lastStatusSent = .now
        replyRequested = false
    }

    /// After the channel ended: wait until the engine committed everything emitted, confirm it to the slot.
    private func finalAcknowledgement(_ replication: PGConnection, deadline: ContinuousClock.Instant) async throws {
        let limit = max(deadline, .now + .seconds(5))
        while control.acknowledged < lastEmittedLSN, ContinuousClock.now < limit {
            try? replication.consumeInput()
            // Keep draining keepalives so the server does not time us out.
            while case .data(var buffer) = (try? replication.readCopyData(allocator: allocator)) ?? .wouldBlock {
                if let message = try? ReplicationMessage.decode(from: &buffer), case .keepalive(let k) = message {
                    serverWALEnd = max(serverWALEnd, k.walEnd.rawValue)
                }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let acknowledged = control.acknowledged
        try sendStatus(replication, flush: acknowledged)
        replication.endCopy()
        logger.notice(
            "stopped: confirmed position sent",
            metadata: [LoggingKeys.slot: "\(configuration.slotName)", LoggingKeys.lsn: "\(LSN(acknowledged))"])
    }

    // MARK: - Messages

    private func handle(_ buffer: inout ByteBuffer, into batch: inout [SourceRecord], output: RecordChannel) async throws {
        switch try ReplicationMessage.decode(from: &buffer) {
        case .keepalive(let keepalive):
            serverWALEnd = max(serverWALEnd, keepalive.walEnd.rawValue)
            if keepalive.replyRequested { replyRequested = true }
        case .xLogData(let data):
            serverWALEnd = max(serverWALEnd, data.walEnd.rawValue)
            if try spillIfStreamed(payload: data.payload, lsn: data.dataStart) { return }
            let message = try decoder.decode(data.payload, at: data.dataStart)
            switch message {
            case .streamStart, .streamStop, .streamCommit, .streamAbort:
                try await handleStream(message, lsn: data.dataStart, into: &batch, output: output)
            default:
                try process(message, lsn: data.dataStart, into: &batch)
            }
        }
    }

    /// Turns one decoded pgoutput message of a (non-streamed, or replayed) transaction into records.
    func process(_ message: PGOutputMessage, lsn: LSN, into batch: inout [SourceRecord]) throws {
        switch message {
        case .begin(let begin):
            let skip = begin.finalLSN.rawValue < resumeLSN
            let commitMicros = PGEpoch.unixMicros(fromPostgresMicros: begin.commitTime)
            transaction = OpenTransaction(
                xid: begin.xid, commitLSN: begin.finalLSN, commitTimeMicros: commitMicros, skip: skip)
            if !skip {
                batch.append(.begin(TransactionBoundary(
                    id: "\(begin.xid):\(lsn.rawValue)", timestampMicros: commitMicros,
                    offset: Offset(source: "postgresql", lsn: lastEmittedLSN), xid: begin.xid, lsn: lsn)))
            }
        case .commit(let commit):
            guard let open = transaction else {
                throw PostgresSourceError(.protocolViolation, "COMMIT at \(lsn) without BEGIN")
            }
            transaction = nil
            lastCommitLSN = commit.commitLSN
            if !open.skip {
                let offset = Offset(
                    source: "postgresql", lsn: commit.endLSN.rawValue, lsnCommit: commit.commitLSN.rawValue,
                    txId: open.xid, tsUsec: open.commitTimeMicros)
                batch.append(.commit(TransactionBoundary(
                    id: "\(open.xid):\(lsn.rawValue)", timestampMicros: open.commitTimeMicros, offset: offset,
                    xid: open.xid, lsn: lsn)))
                lastEmittedLSN = max(lastEmittedLSN, commit.endLSN.rawValue)
            }
        case .relation(let relation):
            try refreshSchema(relationOID: relation.oid)
        case .type(let type):
            try lookUpType(oid: type.oid, force: true)
        case .insert(let insert):
            guard let (position, time, captured) = try nextEvent(relation: insert.relationOID, lsn: lsn) else { return }
            let after = try values(insert.newTuple, captured)
            batch.append(.change(ChangeEvent(
                op: .create, table: captured.schema, before: nil, after: after, position: position,
                sourceTimestampMicros: time)))
        case .update(let update):
            guard let (position, time, captured) = try nextEvent(relation: update.relationOID, lsn: lsn) else { return }
            let old = update.oldTuple ?? update.oldKey
            let before = try old.map { try values($0, captured) }
            var after = try values(update.newTuple, captured)
            // REPLICA IDENTITY FULL logs the old tuple detoasted: fill unchanged TOAST columns from it
            // instead of a placeholder.
            if let before, update.oldTuple != nil {
                for i in after.indices where after[i] == .unavailable && before[i] != .unavailable {
                    after[i] = before[i]
                }
            }
            batch.append(.change(ChangeEvent(
                op: .update, table: captured.schema, before: before, after: after, position: position,
                sourceTimestampMicros: time)))
        case .delete(let delete):
            guard let (position, time, captured) = try nextEvent(relation: delete.relationOID, lsn: lsn) else { return }
            let old = delete.oldTuple ?? delete.oldKey
            let before = try old.map { try values($0, captured) }
            batch.append(.change(ChangeEvent(
                op: .delete, table: captured.schema, before: before, after: nil, position: position,
                sourceTimestampMicros: time)))
        case .truncate(let truncate):
            for oid in truncate.relationOIDs {
                guard let (position, time, captured) = try nextEvent(relation: oid, lsn: lsn) else { continue }
                batch.append(.change(ChangeEvent(
                    op: .truncate, table: captured.schema, before: nil, after: nil, position: position,
                    sourceTimestampMicros: time)))
            }
        case .message(let message):
            try handleLogicalMessage(message, lsn: lsn, into: &batch)
        case .origin:
            break
        case .streamStart, .streamStop, .streamCommit, .streamAbort:
            throw PostgresSourceError(.protocolViolation, "unexpected streamed-transaction message at \(lsn)")
        }
    }

    func handleLogicalMessage(
        _ message: PGOutputMessage.LogicalMessage, lsn: LSN, into batch: inout [SourceRecord]
    ) throws {
        let event = ChangeEvent.LogicalMessage(
            prefix: message.prefix, content: Array(message.content.readableBytesView), transactional: message.isTransactional)
        let placeholder = TableSchema(id: TableID(schema: "", name: ""), columns: [])
        if message.isTransactional, var open = transaction {
            let index = open.nextIndex
            open.nextIndex += 1
            transaction = open
            guard !open.skip else { return }
            let position = PostgresPosition(
                commitLSN: open.commitLSN, lsn: lsn, eventIndex: index, xid: open.xid, lastCommitLSN: lastCommitLSN)
            batch.append(.change(ChangeEvent(
                op: .message, table: placeholder, before: nil, after: nil, position: .postgres(position),
                sourceTimestampMicros: open.commitTimeMicros, message: event)))
        } else {
            // A non-transactional message is its own unit of work at its LSN.
            guard lsn.rawValue >= resumeLSN else { return }
            let now = PGClock.nowUnixMicros()
            let position = PostgresPosition(commitLSN: lsn, lsn: lsn, eventIndex: 0, xid: nil, lastCommitLSN: lastCommitLSN)
            let offset = Offset(source: "postgresql", lsn: lsn.rawValue + 1, lsnCommit: lsn.rawValue, tsUsec: now)
            let boundary = TransactionBoundary(id: ":\(lsn.rawValue)", timestampMicros: now, offset: offset)
            batch.append(.begin(boundary))
            batch.append(.change(ChangeEvent(
                op: .message, table: placeholder, before: nil, after: nil, position: .postgres(position),
                sourceTimestampMicros: now, message: event)))
            batch.append(.commit(boundary))
            lastEmittedLSN = max(lastEmittedLSN, lsn.rawValue + 1)
        }
    }

    /// Assigns the next event index of the open transaction; nil when the event is skipped (already
    /// committed, or its table is not captured).
    private func nextEvent(relation oid: UInt32, lsn: LSN) throws -> (SourcePosition, Int64, CapturedSchema)? {
        guard var open = transaction else {
            throw PostgresSourceError(.protocolViolation, "row change at \(lsn) outside a transaction")
        }
        let index = open.nextIndex
        open.nextIndex += 1
        transaction = open
        if open.skip { return nil }
        guard let captured = schemas[oid] else {
            throw PostgresSourceError(.protocolViolation, "row change at \(lsn) for relation \(oid) before its RELATION message")
        }
        guard captured.captured else { return nil }
        let position = PostgresPosition(
            commitLSN: open.commitLSN, lsn: lsn, eventIndex: index, xid: open.xid, lastCommitLSN: lastCommitLSN)
        return (.postgres(position), open.commitTimeMicros, captured)
    }

    private func values(_ tuple: TupleData, _ captured: CapturedSchema) throws -> [Value] {
        let all = try decoder.values(of: tuple, relation: captured.relationOID)
        if captured.sourceIndices.count == all.count { return all }
        return captured.sourceIndices.map { $0 < all.count ? all[$0] : .null }
    }
}

