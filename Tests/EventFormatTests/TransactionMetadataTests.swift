import Foundation
import Testing
import TributaryCore

@testable import EventFormat

/// `provide.transaction.metadata` (EVENT-FORMAT.md c.5).
@Suite struct TransactionMetadataTests {
    private let boundary = TransactionBoundary(
        id: "555:24023100",
        timestampMicros: Fixture.commitMicros,
        offset: Offset(source: "postgresql")
    )
    private let orders = TableSchema(
        id: TableID(schema: "sales", name: "orders"),
        columns: [Fixture.column("note", .string, "text")]
    )

    private func metadataOptions(schemas: Bool = false) -> FormatOptions {
        var options = Fixture.options(schemas: schemas)
        options.provideTransactionMetadata = true
        return options
    }

    private func insert(_ table: TableSchema, _ after: [Value], lsn: UInt64, index: Int64) -> ChangeEvent {
        Fixture.event(
            .create,
            table: table,
            after: after,
            position: Fixture.position(commit: 24_023_300, lsn: lsn, index: index)
        )
    }

    @Test func emitsBeginBlocksAndEnd() throws {
        var formatter = DebeziumJSONFormatter(options: metadataOptions())
        var records: [FormattedRecord] = []
        formatter.beginTransaction(boundary, xid: 555, lsn: LSN(24_023_100), into: &records)
        try formatter.format(
            insert(Fixture.customers, [.int(1), .null, .null], lsn: 24_023_128, index: 0),
            into: &records
        )
        try formatter.format(insert(orders, [.string("x")], lsn: 24_023_160, index: 1), into: &records)
        try formatter.format(
            insert(Fixture.customers, [.int(2), .null, .null], lsn: 24_023_190, index: 2),
            into: &records
        )
        formatter.endTransaction(boundary, xid: 555, lsn: LSN(24_023_300), into: &records)
        try Golden.expect(records, matches: "postgresql/transaction_metadata")

        // The counters reset: the next transaction starts again at 1.
        var next: [FormattedRecord] = []
        formatter.beginTransaction(boundary, xid: 556, lsn: LSN(24_100_000), into: &next)
        try formatter.format(insert(orders, [.string("y")], lsn: 24_100_010, index: 0), into: &next)
        let value = try #require(try json(next[1].value) as? [String: Any])
        let block = try #require(value["transaction"] as? [String: Any])
        #expect(block["id"] as? String == "556:24100010")
        #expect(block["total_order"] as? Int == 1)
        #expect(block["data_collection_order"] as? Int == 1)
    }

    @Test func beginAndEndWithSchemas() throws {
        var formatter = DebeziumJSONFormatter(options: metadataOptions(schemas: true))
        var records: [FormattedRecord] = []
        let begin = TransactionBoundary(
            id: "x",
            timestampMicros: 1_486_500_577_125_000,
            offset: Offset(source: "postgresql")
        )
        let end = TransactionBoundary(
            id: "x",
            timestampMicros: 1_486_500_577_691_999,
            offset: Offset(source: "postgresql")
        )
        formatter.beginTransaction(begin, xid: 571, lsn: LSN(53_195_829), into: &records)
        formatter.endTransaction(end, xid: 571, lsn: LSN(53_195_832), into: &records)
        try Golden.expect(records, matches: "postgresql/transaction_schemas")
    }

    @Test func pkChangeCountsTwoEventsAndTombstonesNone() throws {
        var formatter = DebeziumJSONFormatter(options: metadataOptions())
        var records: [FormattedRecord] = []
        formatter.beginTransaction(boundary, xid: 555, lsn: LSN(1), into: &records)
        try formatter.format(
            Fixture.event(.update, before: [.int(1), .null, .null], after: [.int(2), .null, .null]),
            into: &records
        )
        try formatter.format(Fixture.event(.delete, before: [.int(2), .null, .null]), into: &records)
        formatter.endTransaction(boundary, xid: 555, lsn: LSN(2), into: &records)
        // BEGIN, delete, tombstone, create, delete, tombstone, END.
        #expect(records.count == 7)
        let orders = try records[1...5].compactMap { record -> Int? in
            guard record.value != nil else { return nil }
            let value = try #require(try json(record.value) as? [String: Any])
            return (value["transaction"] as? [String: Any])?["total_order"] as? Int
        }
        #expect(orders == [1, 2, 3])
        let end = try #require(try json(records[6].value) as? [String: Any])
        #expect(end["event_count"] as? Int == 3)
    }

    @Test func messagesCountUnderLogicalDecodingMessage() throws {
        var formatter = DebeziumJSONFormatter(options: metadataOptions())
        var records: [FormattedRecord] = []
        formatter.beginTransaction(boundary, xid: 555, lsn: LSN(1), into: &records)
        var message = Fixture.event(.message, table: TableSchema(id: TableID(schema: "", name: ""), columns: []))
        message.message = ChangeEvent.LogicalMessage(prefix: "p", content: [1], transactional: true)
        try formatter.format(message, into: &records)
        message.message = ChangeEvent.LogicalMessage(prefix: "p", content: [1], transactional: false)
        try formatter.format(message, into: &records)
        formatter.endTransaction(boundary, xid: 555, lsn: LSN(2), into: &records)
        let transactional = try #require(try json(records[1].value) as? [String: Any])
        #expect((transactional["transaction"] as? [String: Any])?["total_order"] as? Int == 1)
        let nonTransactional = try #require(try json(records[2].value) as? [String: Any])
        #expect(nonTransactional["transaction"] is NSNull)
        let end = try #require(try json(records[3].value) as? [String: Any])
        let collections = try #require(end["data_collections"] as? [[String: Any]])
        #expect(collections.count == 1)
        #expect(collections.first?["data_collection"] as? String == "LOGICAL_DECODING_MESSAGE")
    }

    @Test func disabledMetadataWritesNullBlocksAndNoRecords() throws {
        var formatter = DebeziumJSONFormatter(options: Fixture.options())
        var records: [FormattedRecord] = []
        formatter.beginTransaction(boundary, xid: 555, lsn: LSN(1), into: &records)
        try formatter.format(Fixture.event(.create, after: [.int(1), .null, .null]), into: &records)
        formatter.endTransaction(boundary, xid: 555, lsn: LSN(2), into: &records)
        #expect(records.count == 1)
        let value = try #require(try json(records[0].value) as? [String: Any])
        #expect(value["transaction"] is NSNull)
    }

    @Test func fallsBackToTheBoundaryIdAndCustomTopic() throws {
        var options = metadataOptions()
        options.transactionTopic = "tx-topic"
        var formatter = DebeziumJSONFormatter(options: options)
        var records: [FormattedRecord] = []
        formatter.beginTransaction(boundary, xid: nil, lsn: nil, into: &records)
        try formatter.format(Fixture.event(.create, after: [.int(1), .null, .null]), into: &records)
        #expect(records[0].topic == "tx-topic")
        #expect(text(records[0].key) == "{\"id\":\"555:24023100\"}")
        let value = try #require(try json(records[1].value) as? [String: Any])
        #expect((value["transaction"] as? [String: Any])?["id"] as? String == "555:24023100")
    }

    @Test func snapshotRowsOutsideTransactionsHaveNullBlocks() throws {
        var formatter = DebeziumJSONFormatter(options: metadataOptions())
        var records: [FormattedRecord] = []
        try formatter.format(
            Fixture.event(
                .read,
                after: [.int(1), .null, .null],
                position: Fixture.position(xid: nil),
                snapshot: .true
            ),
            into: &records
        )
        let value = try #require(try json(records[0].value) as? [String: Any])
        #expect(value["transaction"] is NSNull)
    }
}
