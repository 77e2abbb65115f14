import Foundation
import Testing
import TributaryCore

@testable import EventFormat

/// Whole records against hand-written goldens in `fixtures/events/postgresql` (EVENT-FORMAT.md c.2–c.6).
@Suite struct EnvelopeTests {
    private let row1A: [Value] = [.int(1), .string("a@x.org"), .decimal("1234.56")]
    private let row1B: [Value] = [.int(1), .string("b@x.org"), .decimal("1234.56")]

    @Test func updateWithFullIdentityMatchesTheSpecExample() throws {
        let records = try Fixture.records(Fixture.event(.update, before: row1A, after: row1B))
        try Golden.expect(records, matches: "postgresql/update_full_schemaless")
        // Structural check against EVENT-FORMAT.md c.3's example.
        let value = try #require(try json(records[0].value) as? [String: Any])
        #expect((value["after"] as? [String: Any])?["balance"] as? String == "AeJA")
        #expect((value["source"] as? [String: Any])?["sequence"] as? String == "[\"24023119\",\"24023128\"]")
        #expect(value["op"] as? String == "u")
    }

    @Test(arguments: [(false, true), (true, false)])
    func keyAndValueFramingAreIndependent(keySchemas: Bool, valueSchemas: Bool) throws {
        var options = Fixture.options(schemas: valueSchemas)
        options.keySchemasEnable = keySchemas
        let records = try Fixture.records(Fixture.event(.create, after: row1A), options: options)
        let key = try #require(try json(records[0].key) as? [String: Any])
        let value = try #require(try json(records[0].value) as? [String: Any])
        #expect((key["schema"] != nil) == keySchemas)
        #expect((key["payload"] as? [String: Any] ?? key)["id"] as? Int == 1)
        #expect((value["schema"] != nil) == valueSchemas)
        #expect((value["payload"] as? [String: Any] ?? value)["op"] as? String == "c")
    }

    @Test func insertWithSchemasMatchesJsonConverterLayout() throws {
        let event = Fixture.event(.create, after: [.int(1004), .string("annek@noanswer.org"), .null])
        let records = try Fixture.records(event, options: Fixture.options(schemas: true))
        try Golden.expect(records, matches: "postgresql/insert_schemas")
        let envelope = try #require(try json(records[0].value) as? [String: Any])
        #expect(Set(envelope.keys) == ["schema", "payload"])
    }

    @Test func schemaFramingIsCachedPerTableVersion() throws {
        var formatter = DebeziumJSONFormatter(options: Fixture.options(schemas: true))
        var records: [FormattedRecord] = []
        try formatter.format(Fixture.event(.create, after: row1A), into: &records)
        try formatter.format(Fixture.event(.create, after: row1B), into: &records)
        // A new table version (a column added) must produce the new schema, not the cached one.
        var changed = Fixture.customers
        changed.columns.append(Fixture.column("note", .string, "text"))
        changed.version = 1
        try formatter.format(Fixture.event(.create, table: changed, after: row1B + [.string("n")]), into: &records)
        let first = try #require(try json(records[0].value) as? [String: Any])
        let third = try #require(try json(records[2].value) as? [String: Any])
        let firstAfter = ((first["schema"] as? [String: Any])?["fields"] as? [[String: Any]])?[1]["fields"] as? [Any]
        let thirdAfter = ((third["schema"] as? [String: Any])?["fields"] as? [[String: Any]])?[1]["fields"] as? [Any]
        #expect(firstAfter?.count == 3)
        #expect(thirdAfter?.count == 4)
        #expect(((third["payload"] as? [String: Any])?["after"] as? [String: Any])?["note"] as? String == "n")
    }

    @Test func deleteIsFollowedByTombstone() throws {
        let event = Fixture.event(
            .delete,
            before: [.int(7), .null, .null],
            position: Fixture.position(lsn: 24_023_200, index: 3)
        )
        let records = try Fixture.records(event)
        try Golden.expect(records, matches: "postgresql/delete_default_identity")
        #expect(records[1].isTombstone)
    }

    @Test func tombstonesCanBeDisabled() throws {
        var options = Fixture.options()
        options.tombstonesOnDelete = false
        let records = try Fixture.records(Fixture.event(.delete, before: row1A), options: options)
        #expect(records.count == 1)
        #expect(!records[0].isTombstone)
    }

    @Test func deleteWithoutKeyHasNoTombstone() throws {
        let keyless = TableSchema(
            id: TableID(schema: "public", name: "log"),
            columns: [Fixture.column("line", .string, "text")]
        )
        let records = try Fixture.records(Fixture.event(.delete, table: keyless, before: [.string("x")]))
        #expect(records.count == 1)
        #expect(records[0].key == nil)
        #expect(records[0].topic == "pg1.public.log")
    }

    @Test func primaryKeyChangeBecomesDeleteTombstoneCreate() throws {
        let before: [Value] = [.int(1), .null, .null]  // old key tuple
        let after: [Value] = [.int(2), .string("b@x.org"), .decimal("1234.56")]
        let records = try Fixture.records(Fixture.event(.update, before: before, after: after))
        try Golden.expect(records, matches: "postgresql/update_key_change")
    }

    @Test func primaryKeyChangeHeadersCarryTheSchemaFramedKey() throws {
        let records = try Fixture.records(
            Fixture.event(.update, before: [.int(1), .null, .null], after: [.int(2), .null, .null]),
            options: Fixture.options(schemas: true)
        )
        #expect(records.count == 3)
        #expect(records[0].headers.first?.value == records[2].key)
        #expect(records[2].headers.first?.value == records[0].key)
        let header = try #require(try json(records[0].headers.first?.value) as? [String: Any])
        #expect((header["payload"] as? [String: Any])?["id"] as? Int == 2)
    }

    @Test func updateWithoutBeforeOrWithSameKeyIsASingleRecord() throws {
        let noBefore = try Fixture.records(Fixture.event(.update, before: nil, after: row1B))
        #expect(noBefore.count == 1)
        let value = try #require(try json(noBefore[0].value) as? [String: Any])
        #expect(value["before"] is NSNull)
        let sameKey = try Fixture.records(Fixture.event(.update, before: row1A, after: row1B))
        #expect(sameKey.count == 1)
    }

    @Test func snapshotReadCarriesSnapshotMarker() throws {
        let event = Fixture.event(
            .read,
            after: row1A,
            position: Fixture.position(commit: 22_000_000, lsn: 22_000_000, xid: nil, lastCommit: nil),
            snapshot: .first
        )
        try Golden.expect(try Fixture.records(event), matches: "postgresql/snapshot_read")
    }

    @Test func incrementalSnapshotLeavesTxIdAndLsnNull() throws {
        let event = Fixture.event(.read, after: row1A, snapshot: .incremental)
        let value = try #require(try json(try Fixture.records(event)[0].value) as? [String: Any])
        let source = try #require(value["source"] as? [String: Any])
        #expect(source["snapshot"] as? String == "incremental")
        #expect(source["txId"] is NSNull)
        #expect(source["lsn"] is NSNull)
        #expect(source["commit_lsn"] as? Int == 24_023_128)
    }

    @Test func truncateHasNullKeyAndNoImages() throws {
        try Golden.expect(try Fixture.records(Fixture.event(.truncate)), matches: "postgresql/truncate")
    }

    @Test func keyUsesKeyOrderAndKeylessTablesGetNullKeys() throws {
        let table = TableSchema(
            id: TableID(schema: "public", name: "pairs"),
            columns: [
                Fixture.column("a", .int32, "int4", optional: false, key: true),
                Fixture.column("b", .string, "text", optional: true, key: true),
                Fixture.column("v", .string, "text"),
            ],
            keyOrder: [1, 0]
        )
        let records = try Fixture.records(
            Fixture.event(.create, table: table, after: [.int(1), .string("x"), .string("y")]),
            options: Fixture.options(schemas: true)
        )
        let key = try #require(text(records[0].key))
        #expect(key.hasSuffix("\"payload\":{\"b\":\"x\",\"a\":1}}"))
        // Key fields are required even when the column is nullable.
        #expect(key.contains("{\"type\":\"string\",\"optional\":false,\"field\":\"b\"}"))
    }

    @Test func sanitisesTopicAndSchemaNames() throws {
        var options = Fixture.options(schemas: true)
        options.topicPrefix = "1-db"
        let table = TableSchema(
            id: TableID(schema: "Public", name: "my table"),
            columns: [Fixture.column("id", .int32, "int4", optional: false, key: true)]
        )
        let records = try Fixture.records(Fixture.event(.create, table: table, after: [.int(1)]), options: options)
        #expect(records[0].topic == "1-db.Public.my_table")
        let key = try #require(try json(records[0].key) as? [String: Any])
        #expect((key["schema"] as? [String: Any])?["name"] as? String == "_1_db.Public.my_table.Key")
        let value = try #require(try json(records[0].value) as? [String: Any])
        #expect((value["schema"] as? [String: Any])?["name"] as? String == "_1_db.Public.my_table.Envelope")
        // Field names are not adjusted (field.name.adjustment.mode=none).
        options.schemaNameAdjustment = .none
        let plain = try Fixture.records(Fixture.event(.create, table: table, after: [.int(1)]), options: options)
        let plainKey = try #require(try json(plain[0].key) as? [String: Any])
        #expect((plainKey["schema"] as? [String: Any])?["name"] as? String == "1-db.Public.my_table.Key")
    }

    @Test func escapesArbitraryColumnNamesAndValues() throws {
        let table = TableSchema(
            id: TableID(schema: "public", name: "odd"),
            columns: [
                Fixture.column("id", .int64, "int8", optional: false, key: true),
                Fixture.column("we\"ird\nname", .string, "text"),
            ]
        )
        let nasty = "quote\" back\\ nul\u{0} bell\u{07} ünï 😀"
        let records = try Fixture.records(
            Fixture.event(.create, table: table, after: [.int(-1), .string(nasty)]),
            options: Fixture.options(schemas: true)
        )
        let value = try #require(try json(records[0].value) as? [String: Any])
        let after = try #require((value["payload"] as? [String: Any])?["after"] as? [String: Any])
        #expect(after["we\"ird\nname"] as? String == nasty)
    }

    @Test func logicalMessageGoesToTheMessageTopic() throws {
        var event = Fixture.event(.message, table: TableSchema(id: TableID(schema: "", name: ""), columns: []))
        event.message = ChangeEvent.LogicalMessage(prefix: "audit", content: Array("hello".utf8), transactional: true)
        let records = try Fixture.records(event, options: Fixture.options(schemas: true))
        try Golden.expect(records, matches: "postgresql/message_schemas")

        var hex = Fixture.options()
        hex.binaryHandling = .hex
        let hexRecords = try Fixture.records(event, options: hex)
        #expect(text(hexRecords[0].key) == "{\"prefix\":\"audit\"}")
        #expect(
            text(hexRecords[0].value)?.hasSuffix(",\"message\":{\"prefix\":\"audit\",\"content\":\"68656c6c6f\"}}")
                == true
        )

        event.message = nil
        #expect(throws: EventFormatError.self) { try Fixture.records(event) }
    }

    @Test func processingTimeComesFromTheClock() throws {
        var options = Fixture.options()
        options.clock = { -1_500 }  // before the epoch: ms are floored like Instant.toEpochMilli
        let value = try #require(
            try json(try Fixture.records(Fixture.event(.create, after: row1A), options: options)[0].value)
                as? [String: Any]
        )
        #expect(value["ts_ms"] as? Int == -2)
        #expect(value["ts_us"] as? Int == -1_500)
        #expect(value["ts_ns"] as? Int == -1_500_000)
    }

    @Test func heartbeatRecord() throws {
        let formatter = DebeziumJSONFormatter(options: Fixture.options(schemas: true))
        try Golden.expect(
            [formatter.heartbeat(timestampMillis: 1_700_000_000_999)],
            matches: "postgresql/heartbeat_schemas"
        )
        let plain = DebeziumJSONFormatter(options: Fixture.options()).heartbeat(timestampMillis: 5)
        #expect(plain.topic == "__debezium-heartbeat.pg1")
        #expect(text(plain.key) == "{\"serverName\":\"pg1\"}")
        #expect(text(plain.value) == "{\"ts_ms\":5}")
    }
}
