import Glibc
import Logging
import PGOutput
import TributaryCore

/// The snapshot → stream bootstrap (DESIGN.md "Snapshots"): every captured table is read inside one snapshot,
/// in parallel page-range chunks, and emitted as `op: r` events in table/chunk order; each chunk is one commit
/// unit whose offset records the progress, so a restarted agent resumes after the last committed chunk.
extension ReplicationSession {
    /// Reads the snapshot `snapshotName` (taken at `consistentPoint`) and sends it into `output`.
    /// `progress` is the committed progress of an interrupted snapshot (its chunks are skipped).
    /// Returns the offset reached (`lsn` = the consistent point, no snapshot progress), or nil when a graceful
    /// stop was requested between chunks.
    func runSnapshot(
        snapshotName: String, consistentPoint: LSN, progress: SnapshotProgress?, into output: RecordChannel
    ) async throws -> Offset? {
        let settings = configuration.snapshot
        let threads = max(1, settings.maxThreads)
        var opened: [SnapshotWorker] = []
        for number in 0..<threads {
            opened.append(try SnapshotWorker(settings: configuration.connection, snapshotName: snapshotName, number: number))
        }
        let workers = opened
        let tables = try await plan(workers[0], progress: progress)
        var state = progress ?? SnapshotProgress()
        state.lsn = consistentPoint.rawValue
        state.snapshotName = snapshotName
        var planned: [SnapshotChunk] = []
        for (t, table) in tables.enumerated() {
            let key = table.id.description
            let perChunk = state.chunkPages[key] ?? Self.pagesPerChunk(table, chunkRows: settings.chunkSize)
            state.chunkPages[key] = perChunk
            let count = table.selectOverride != nil ? 1 : max(1, (table.pages + perChunk - 1) / perChunk)
            let done = Set(state.completedChunks[key] ?? [])
            for index in 0..<count where !done.contains(index) {
                let first = index * perChunk
                let last = index == count - 1
                planned.append(SnapshotChunk(
                    table: t, index: index, firstPage: first, endPage: last ? nil : first + perChunk, isLastOfTable: last))
            }
        }
        let chunks = planned
        let totalRows = tables.reduce(0) { $0 + $1.estimatedRows }
        logger.notice(
            "snapshot started",
            metadata: [
                "snapshot.tables": "\(tables.count)", "snapshot.chunks": "\(chunks.count)",
                "snapshot.rows.estimate": "\(totalRows)", "snapshot.threads": "\(threads)",
                LoggingKeys.lsn: "\(consistentPoint)", "snapshot.resumed": "\(progress != nil)",
            ])
        let decoder = PGValueDecoder(registry: self.decoder.typeRegistry)
        let timestamp = PGClock.nowUnixMicros()
        var reporter = SnapshotProgressReporter(
            tables: tables, interval: .milliseconds(settings.progressIntervalMilliseconds), logger: logger)
        var emittedAny = progress != nil
        var tableRows: [Int: Int] = [:]
        var stopped = false

        try await withThrowingTaskGroup(of: (Int, Int, [ChangeEvent]).self) { group in
            var next = 0
            var idle = Array(workers.indices)
            var ready: [Int: [ChangeEvent]] = [:]
            var readyNonEmpty = 0
            var emitIndex = 0

            func dispatch() {
                while next < chunks.count, !idle.isEmpty, readyNonEmpty <= threads {
                    let w = idle.removeLast()
                    let chunk = chunks[next]
                    let table = tables[chunk.table]
                    let worker = workers[w]
                    let position = next
                    group.addTask {
                        let events = try await worker.read(
                            chunk, table: table, decoder: decoder, consistentPoint: consistentPoint,
                            timestampMicros: timestamp)
                        return (position, w, events)
                    }
                    next += 1
                }
            }

            // Memory bound: at most `threads` chunks being read plus `threads + 1` read but not yet emitted
            // (empty chunks are free; one chunk beyond the emitted one must be read to place the `last…`
            // markers), each about `snapshot.chunk.size` rows.

            /// Whether chunk `c` can be emitted: the chunks after it are read up to the next non-empty one (to
            /// place the `last…` markers). Returns (more rows in this table, more rows at all).
            func lookahead(_ c: Int) -> (table: Bool, any: Bool)? {
                var j = c + 1
                while j < chunks.count {
                    guard let events = ready[j] else { return nil }
                    if !events.isEmpty { return (chunks[j].table == chunks[c].table, true) }
                    j += 1
                }
                return (false, false)
            }

            dispatch()
            while emitIndex < chunks.count {
                try Task.checkCancellation()
                if control.stopRequested {
                    stopped = true
                    group.cancelAll()
                    return
                }
                if let (position, worker, events) = try await group.next() {
                    ready[position] = events
                    if !events.isEmpty { readyNonEmpty += 1 }
                    idle.append(worker)
                } else if ready[emitIndex] == nil || lookahead(emitIndex) == nil, next >= chunks.count || idle.isEmpty {
                    // Nothing running and nothing can be emitted: a planning bug, never spin.
                    throw PostgresSourceError(.protocolViolation, "snapshot scheduler stalled at chunk \(emitIndex) of \(chunks.count)")
                }
                while emitIndex < chunks.count, let events = ready[emitIndex], let more = lookahead(emitIndex) {
                    ready[emitIndex] = nil
                    if !events.isEmpty { readyNonEmpty -= 1 }
                    let chunk = chunks[emitIndex]
                    let table = tables[chunk.table]
                    let key = table.id.description
                    var progressAfter = state
                    if chunk.isLastOfTable {
                        progressAfter.completedTables.append(key)
                        progressAfter.completedChunks[key] = nil
                    } else {
                        progressAfter.completedChunks[key, default: []].append(chunk.index)
                    }
                    let final = emitIndex == chunks.count - 1
                    var offset = Offset(source: "postgresql", lsn: consistentPoint.rawValue, snapshot: final ? nil : progressAfter)
                    offset.tsUsec = timestamp
                    let boundary = TransactionBoundary(
                        id: "snapshot:\(key):\(chunk.index)", timestampMicros: timestamp, offset: offset,
                        isSnapshotChunk: true)
                    var records: [SourceRecord] = [.begin(boundary)]
                    records.reserveCapacity(events.count + 2)
                    let rowsBefore = tableRows[chunk.table, default: 0]
                    for (k, var event) in events.enumerated() {
                        let isLast = k == events.count - 1
                        if !emittedAny && k == 0 {
                            event.snapshot = .first
                        } else if isLast && !more.any {
                            event.snapshot = .last
                        } else if k == 0 && rowsBefore == 0 {
                            event.snapshot = .firstInDataCollection
                        } else if isLast && !more.table {
                            event.snapshot = .lastInDataCollection
                        }
                        emittedAny = true
                        records.append(.change(event))
                        if records.count >= configuration.maxBatchSize {
                            try await output.send(records)
                            records.removeAll(keepingCapacity: true)
                        }
                    }
                    records.append(.commit(boundary))
                    try await output.send(records)
                    tableRows[chunk.table] = rowsBefore + events.count
                    state = progressAfter
                    lastEmittedLSN = consistentPoint.rawValue
                    reporter.record(table: chunk.table, rows: events.count, tableDone: chunk.isLastOfTable)
                    emitIndex += 1
                }
                dispatch()
            }
        }
        for worker in workers { await worker.finish() }
        if stopped { return nil }
        if chunks.isEmpty {
            try await output.send([.heartbeat(Offset(source: "postgresql", lsn: consistentPoint.rawValue))])
        }
        reporter.finish()
        lastEmittedLSN = consistentPoint.rawValue
        return Offset(source: "postgresql", lsn: consistentPoint.rawValue)
    }

    static func pagesPerChunk(_ table: SnapshotTable, chunkRows: Int) -> Int {
        guard table.pages > 0, table.estimatedRows > 0 else { return max(1, table.pages) }
        let rowsPerPage = max(1.0, Double(table.estimatedRows) / Double(table.pages))
        return max(1, Int(Double(max(1, chunkRows)) / rowsPerPage))
    }

    /// Plans the tables to read: captured tables the snapshot includes and that are not finished yet.
    func plan(_ worker: SnapshotWorker, progress: SnapshotProgress?) async throws -> [SnapshotTable] {
        guard let catalog else { return [] }
        let done = Set(progress?.completedTables ?? [])
        var tables: [SnapshotTable] = []
        for (ordinal, table) in try capturedTables(catalog).enumerated() {
            guard configuration.snapshot.includeTable(table.id), !done.contains(table.id.description) else { continue }
            let oid = String(table.oid)
            let size = try await worker.query("""
                SELECT pg_relation_size(c.oid) / current_setting('block_size')::int, GREATEST(c.reltuples, 0)::bigint
                FROM pg_class c WHERE c.oid = $1
                """, [oid])
            let attributes = try await worker.query("""
                SELECT attname, atttypid, atttypmod, attnotnull FROM pg_attribute
                WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum
                """, [oid])
            let key = try await worker.query(Self.primaryKeyQuery, [oid])
            var columns: [Column] = []
            var sourceColumns: [SnapshotTable.SourceColumn] = []
            var notNull: Set<String> = []
            for row in attributes.rows {
                guard let name = row[0], let typeOID = UInt32(row[1] ?? ""), let typmod = Int32(row[2] ?? "") else { continue }
                try lookUpType(oid: typeOID, force: false)
                if row[3] == "t" { notNull.insert(name) }
                columns.append(Column(name: name, type: decoder.typeRegistry.columnType(oid: typeOID, typmod: typmod)))
                sourceColumns.append(.init(name: name, typeOID: typeOID, typmod: typmod))
            }
            let raw = TableSchema(id: table.id, columns: columns)
            let (schema, indices) = applyCaptureRules(raw, notNull: notNull, primaryKey: key.rows.compactMap { $0[0] }, pgoutputKeys: false)
            var estimated = Int(size.rows.first?[1] ?? "0") ?? 0
            let pages = Int(size.rows.first?[0] ?? "0") ?? 0
            if estimated == 0 && pages > 0 { estimated = pages * 50 }
            tables.append(SnapshotTable(
                id: table.id, ordinal: ordinal, schema: schema, columns: indices.map { sourceColumns[$0] },
                pages: pages, estimatedRows: estimated, selectOverride: configuration.snapshot.selectOverrides[table.id]))
        }
        return tables
    }
}

/// Logs snapshot progress per table at a steady interval (rows done / estimate, rows/s, ETA), and keeps a
/// live line on stderr when it is a terminal.
struct SnapshotProgressReporter {
    let tables: [SnapshotTable]
    let interval: Duration
    let logger: Logger
    let start = ContinuousClock.now
    var lastReport = ContinuousClock.now
    var rows: [Int: Int] = [:]
    var tableStart: [Int: ContinuousClock.Instant] = [:]
    let live = isatty(STDERR_FILENO) == 1

    init(tables: [SnapshotTable], interval: Duration, logger: Logger) {
        self.tables = tables
        self.interval = interval
        self.logger = logger
    }

    mutating func record(table: Int, rows count: Int, tableDone: Bool) {
        let now = ContinuousClock.now
        if tableStart[table] == nil { tableStart[table] = now }
        rows[table, default: 0] += count
        let done = rows[table, default: 0]
        let t = tables[table]
        let elapsed = Double((now - (tableStart[table] ?? start)).components.seconds)
            + Double((now - (tableStart[table] ?? start)).components.attoseconds) / 1e18
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = max(0, t.estimatedRows - done)
        let eta = rate > 0 ? Int(Double(remaining) / rate) : -1
        if live {
            let line = "\r\u{1B}[Ksnapshot \(t.id): \(done)/~\(t.estimatedRows) rows, \(Int(rate)) rows/s, ETA \(eta >= 0 ? "\(eta)s" : "?")"
            FileDescriptorWriter.standardError(line)
        }
        if tableDone || now - lastReport >= interval {
            lastReport = now
            logger.info(
                tableDone ? "snapshot of table finished" : "snapshot progress",
                metadata: [
                    LoggingKeys.table: "\(t.id)", "snapshot.rows": "\(done)", "snapshot.rows.estimate": "\(t.estimatedRows)",
                    "snapshot.rows_per_second": "\(Int(rate))", "snapshot.eta.seconds": "\(tableDone ? 0 : eta)",
                ])
        }
    }

    func finish() {
        if live { FileDescriptorWriter.standardError("\n") }
        let total = rows.values.reduce(0, +)
        let elapsed = ContinuousClock.now - start
        logger.notice("snapshot finished", metadata: ["snapshot.rows": "\(total)", "snapshot.duration": "\(elapsed)"])
    }
}
