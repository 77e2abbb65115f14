import NIOCore
import PGOutput
import Testing
import TributaryCore

/// Insert / Update / Delete / Truncate with every replica-identity variant, decoded from bytes captured
/// from PostgreSQL 15.20; expected rows are the SELECT results stored beside each fixture.
@Suite struct ChangeMessageTests {
    private let accountColumns = ["id", "owner", "balance"]

    @Test func decodesUpdateWithoutOldTupleUnderReplicaIdentityDefault() throws {
        let (decoder, messages) = try Fixture.decode("update-default")
        #expect(Fixture.shape(messages) == "BRUC")
        #expect(messages[0].begin?.xid == 869)
        let update = try #require(messages[2].update)
        #expect(update.relationOID == 16633)
        #expect(update.oldKey == nil)
        #expect(update.oldTuple == nil)
        expectRow(
            try decoder.values(of: update.newTuple, relation: 16633),
            [.int(1), .string("alice"), .decimal("100.25")],
            columns: accountColumns
        )
        let schema = try decoder.tableSchema(forRelation: 16633)
        #expect(
            schema.columns.map(\.type) == [
                ColumnType(.int32, typeName: "int4"), ColumnType(.string, typeName: "text"),
                ColumnType(.decimal(precision: 10, scale: 2), typeName: "numeric"),
            ]
        )
        #expect(schema.keyColumnIndices == [0])
    }

    @Test func decodesUpdateWithOldKeyTuple() throws {
        let (decoder, messages) = try Fixture.decode("update-key-change")
        #expect(Fixture.shape(messages) == "BRUC")
        let update = try #require(messages[2].update)
        let oldKey = try #require(update.oldKey)
        #expect(update.oldTuple == nil)
        // 'K': only the key column is sent, the others are NULL ('n').
        expectRow(try decoder.values(of: oldKey, relation: 16653), [.int(1), .null, .null], columns: accountColumns)
        expectRow(
            try decoder.values(of: update.newTuple, relation: 16653),
            [.int(10), .string("alice2"), .decimal("100.00")],
            columns: accountColumns
        )
    }

    @Test func decodesUpdateWithOldTupleUnderReplicaIdentityFull() throws {
        let (decoder, messages) = try Fixture.decode("update-full")
        #expect(Fixture.shape(messages) == "BRUCBUC")
        let relation = try #require(messages[1].relation)
        #expect(relation.replicaIdentity == .full)
        // With FULL every column carries the key flag.
        #expect(relation.columns.allSatisfy { $0.isKey })

        let first = try #require(messages[2].update)
        #expect(first.oldKey == nil)
        expectRow(
            try decoder.values(of: try #require(first.oldTuple), relation: 16643),
            [.int(1), .string("alice"), .decimal("100.00")],
            columns: accountColumns
        )
        expectRow(
            try decoder.values(of: first.newTuple, relation: 16643),
            [.int(1), .string("alice"), .decimal("200.50")],
            columns: accountColumns
        )

        let second = try #require(messages[5].update)
        expectRow(
            try decoder.values(of: try #require(second.oldTuple), relation: 16643),
            [.int(2), .null, .decimal("7.00")],
            columns: accountColumns
        )
        expectRow(
            try decoder.values(of: second.newTuple, relation: 16643),
            [.int(2), .string("carol"), .decimal("7.00")],
            columns: accountColumns
        )
        #expect(messages[4].begin?.xid == 877)

        // Flags say "all key" and nothing is guaranteed NOT NULL; the source overrides the key with the PK.
        var overridden = decoder
        #expect(try decoder.tableSchema(forRelation: 16643).keyColumnIndices == [0, 1, 2])
        #expect(try decoder.tableSchema(forRelation: 16643).columns.allSatisfy { $0.isOptional })
        overridden.keyColumnOverrides = [TableID(schema: "public", name: "accounts"): ["id"]]
        let schema = try overridden.tableSchema(forRelation: 16643)
        #expect(schema.keyColumnIndices == [0])
        #expect(schema.version == 2)
    }

    @Test func decodesDeleteWithKeyUnderReplicaIdentityDefault() throws {
        let (decoder, messages) = try Fixture.decode("delete-default")
        #expect(Fixture.shape(messages) == "BRDC")
        let delete = try #require(messages[2].delete)
        #expect(delete.relationOID == 16476)
        #expect(delete.oldTuple == nil)
        expectRow(
            try decoder.values(of: try #require(delete.oldKey), relation: 16476),
            [.int(2), .null, .null],
            columns: accountColumns
        )
    }

    @Test func decodesDeleteWithOldTupleUnderReplicaIdentityFull() throws {
        let (decoder, messages) = try Fixture.decode("delete-full")
        let delete = try #require(messages[2].delete)
        #expect(delete.oldKey == nil)
        expectRow(
            try decoder.values(of: try #require(delete.oldTuple), relation: 16486),
            [.int(2), .string("bob"), .decimal("5.50")],
            columns: accountColumns
        )
    }

    @Test func decodesUnchangedToastAsUnavailable() throws {
        let (decoder, messages) = try Fixture.decode("toast-unchanged")
        #expect(Fixture.shape(messages) == "BRUCBUC")
        let first = try #require(messages[2].update)
        #expect(first.newTuple.columns[2] == .unchangedToast)
        expectRow(
            try decoder.values(of: first.newTuple, relation: 16567),
            [.int(1), .string("renamed"), .unavailable]
        )
        // The second update changed the body: sent in full (length 2200, md5 88ee56d4… in the SELECT).
        let second = try #require(messages[5].update)
        expectRow(
            try decoder.values(of: second.newTuple, relation: 16567),
            [.int(1), .string("renamed"), .string(String(repeating: "ab", count: 1100))]
        )
    }

    @Test func decodesTruncateOfTwoTablesWithOptions() throws {
        let (decoder, messages) = try Fixture.decode("truncate")
        #expect(Fixture.shape(messages) == "BRRTCBRICBRTC")
        let both = try #require(messages[3].truncate)
        #expect(both.options == [.cascade, .restartIdentity])
        #expect(both.options.rawValue == 3)
        #expect(both.relationOIDs == [16580, 16589])
        #expect(both.xid == nil)
        let plain = try #require(messages[11].truncate)
        #expect(plain.options == [])
        #expect(plain.relationOIDs == [16589])
        #expect(try decoder.tableSchema(forRelation: 16589).id == TableID(schema: "public", name: "children"))
        // After RESTART IDENTITY the serial starts again at 1.
        let insert = try #require(messages[7].insert)
        #expect(try decoder.values(of: insert.newTuple, relation: 16580) == [.int(1), .string("q")])
    }

    @Test func decodesTypeMessageForUserEnum() throws {
        let (decoder, messages) = try Fixture.decode("type-enum")
        #expect(Fixture.shape(messages) == "BYRIC")
        let type = try #require(messages[1].typeMessage)
        #expect(type == PGOutputMessage.TypeMessage(oid: 16616, namespace: "inventory", name: "status"))
        let relation = try #require(messages[2].relation)
        #expect(relation.namespace == "inventory")
        #expect(relation.columns[1].typeOID == 16616)

        // Without catalog knowledge the enum is an unknown type named by the Type message.
        var schema = try decoder.tableSchema(forRelation: 16623)
        #expect(schema.id == TableID(schema: "inventory", name: "items"))
        #expect(schema.columns[1].type == ColumnType(.unknown, typeName: "status"))
        let insert = try #require(messages[3].insert)
        #expect(try decoder.values(of: insert.newTuple, relation: 16623) == [.string("A-1"), .string("in stock")])

        // The source registers the labels from pg_enum: the schema changes, so its version bumps.
        var registered = decoder
        var registry = registered.typeRegistry
        registry.register(oid: 16616, name: "status", kind: .enumeration(labels: ["new", "in stock", "sold out"]))
        registered.typeRegistry = registry
        schema = try registered.tableSchema(forRelation: 16623)
        #expect(
            schema.columns[1].type
                == ColumnType(.enumeration(labels: ["new", "in stock", "sold out"]), typeName: "status")
        )
        #expect(schema.version == 2)
        #expect(try registered.values(of: insert.newTuple, relation: 16623) == [.string("A-1"), .string("in stock")])
    }

    @Test func bumpsSchemaVersionWhenRelationChangesMidStream() throws {
        var seen: [(version: Int, columns: [String], values: [Value])] = []
        let (decoder, messages) = try Fixture.decode("relation-change") { decoder, message in
            guard let insert = message.insert else { return }
            let schema = try decoder.tableSchema(forRelation: insert.relationOID)
            seen.append(
                (
                    schema.version, schema.columns.map(\.name),
                    try decoder.values(of: insert.newTuple, relation: insert.relationOID)
                )
            )
        }
        #expect(Fixture.shape(messages) == "BRICBRICBRIC")
        #expect(seen.map(\.version) == [1, 2, 3])
        #expect(seen.map(\.columns) == [["id", "a"], ["id", "a", "b"], ["id", "b"]])
        #expect(
            seen.map(\.values) == [[.int(1), .string("x")], [.int(2), .string("y"), .int(8)], [.int(3), .int(9)]]
        )
        #expect(try decoder.tableSchema(forRelation: 16516).columns[1].type == ColumnType(.int64, typeName: "int8"))

        // Re-sending an identical Relation keeps the version.
        var again = decoder
        let relationLine = try Fixture.lines("relation-change")[9]
        _ = try again.decode(relationLine, at: LSN(99))
        #expect(try again.tableSchema(forRelation: 16516).version == 3)
    }
}
