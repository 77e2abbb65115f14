import Logging
import NIOCore
import PGOutput
import TributaryCore
import Glibc

/// One table to snapshot, planned from the catalog inside the snapshot.
struct SnapshotTable: Sendable {
    struct SourceColumn: Sendable {
        var name: String
        var typeOID: UInt32
        var typmod: Int32
    }
    var id: TableID
    var ordinal: Int
    var schema: TableSchema
    var columns: [SourceColumn]
    var pages: Int
    var estimatedRows: Int
    var selectOverride: String?
}

/// A contiguous heap-page range of a table (`ctid >= (first,0) AND ctid < (end,0)`), or the whole override
/// SELECT. `end == nil` is open-ended: the table's last chunk.
struct SnapshotChunk: Sendable {
    var table: Int
    var index: Int
    var firstPage: Int
    var endPage: Int?
    var isLastOfTable: Bool
}

/// A snapshot worker: one connection that imported the snapshot, on its own serial executor.
actor SnapshotWorker {
    private nonisolated let executor: DispatchQueueExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private let connection: PGConnection

    init(settings: PostgresConnectionSettings, snapshotName: String, number: Int) throws {
        self.executor = DispatchQueueExecutor(label: "tributary.postgres.snapshot.\(number)")
        self.connection = try PGConnection(settings, replication: false)
        try connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try connection.query("SET TRANSACTION SNAPSHOT \(quoteLiteral(snapshotName))")
    }

    func query(_ sql: String, _ parameters: [String?] = []) throws -> PGConnection.QueryResult {
        try connection.query(sql, parameters)
    }

    /// Reads one chunk with `COPY (SELECT …) TO STDOUT` and converts every row into an `op: r` event.
    func read(
        _ chunk: SnapshotChunk, table: SnapshotTable, decoder: PGValueDecoder, consistentPoint: LSN,
        timestampMicros: Int64
    ) throws -> [ChangeEvent] {
        let columnList = table.columns.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        let qualified = "\(quoteIdentifier(table.id.schema)).\(quoteIdentifier(table.id.name))"
        let select: String
        if let override = table.selectOverride {
            select = override
        } else {
            var predicate = "ctid >= '(\(chunk.firstPage),0)'::tid"
            if let end = chunk.endPage { predicate += " AND ctid < '(\(end),0)'::tid" }
            select = "SELECT \(columnList) FROM \(qualified) WHERE \(predicate)"
        }
        var events: [ChangeEvent] = []
        let base = Int64(table.ordinal) << 48 | Int64(chunk.index) << 28
        try connection.copyOut("COPY (\(select)) TO STDOUT") { row in
            let fields = try CopyTextParser.parse(row, expectedFields: table.columns.count)
            var values: [Value] = []
            values.reserveCapacity(fields.count)
            for (i, field) in fields.enumerated() {
                guard let field else {
                    values.append(.null)
                    continue
                }
                let c = table.columns[i]
                values.append(try decoder.decode(.text(field), typeOID: c.typeOID, typmod: c.typmod, column: c.name))
            }
            let position = PostgresPosition(
                commitLSN: consistentPoint, lsn: consistentPoint, eventIndex: base + Int64(events.count), xid: nil)
            events.append(ChangeEvent(
                op: .read, table: table.schema, before: nil, after: values, position: .postgres(position),
                sourceTimestampMicros: timestampMicros, snapshot: .true))
        }
        return events
    }

    func finish() {
        _ = try? connection.query("COMMIT")
    }
}
