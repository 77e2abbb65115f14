import NIOCore
import PGOutput
import Testing
import TributaryCore

/// Begin / Commit / Origin / Message, decoded from bytes captured from PostgreSQL 15.20
/// (`fixtures/pgoutput/pg15/{begin-commit,origin,logical-message}.*`). Expected values come from the
/// `.expected` files (the SELECTs run on the capture server).
@Suite struct TransactionMessageTests {
    @Test func decodesBeginRelationInsertCommit() throws {
        let (decoder, messages) = try Fixture.decode("begin-commit")
        #expect(Fixture.shape(messages) == "BRICBIIC")

        // Transaction 1: xid 771, committed at pg_xact_commit_timestamp 1795266748664698 µs (Unix).
        let begin1 = try #require(messages[0].begin)
        let commit1 = try #require(messages[3].commit)
        #expect(begin1.xid == 771)
        #expect(begin1.commitTimeUnixMicros == 1_795_266_748_664_698)
        #expect(begin1.commitTime == 1_795_266_748_664_698 - 946_684_800_000_000)
        #expect(commit1.commitTimeUnixMicros == 1_795_266_748_664_698)
        #expect(begin1.finalLSN == commit1.commitLSN)
        #expect(commit1.endLSN > commit1.commitLSN)
        #expect(commit1.flags == 0)

        // Transaction 2: xid 772, two inserts.
        let begin2 = try #require(messages[4].begin)
        let commit2 = try #require(messages[7].commit)
        #expect(begin2.xid == 772)
        #expect(begin2.commitTimeUnixMicros == 1_795_266_748_665_161)
        #expect(begin2.finalLSN == commit2.commitLSN)
        #expect(commit2.commitLSN > commit1.endLSN)

        let relation = try #require(messages[1].relation)
        #expect(relation.oid == 16456)
        #expect(relation.namespace == "public")
        #expect(relation.name == "simple")
        #expect(relation.replicaIdentity == .default)
        #expect(relation.xid == nil)
        #expect(
            relation.columns == [
                .init(flags: 1, name: "id", typeOID: 23, typmod: -1),
                .init(flags: 0, name: "name", typeOID: 25, typmod: -1),
            ]
        )

        let schema = try decoder.tableSchema(forRelation: 16456)
        #expect(schema.id == TableID(schema: "public", name: "simple"))
        #expect(schema.version == 1)
        #expect(
            schema.columns == [
                Column(name: "id", type: ColumnType(.int32, typeName: "int4"), isOptional: false, isKey: true),
                Column(name: "name", type: ColumnType(.string, typeName: "text"), isOptional: true, isKey: false),
            ]
        )

        let rows = try [messages[2], messages[5], messages[6]].map { message in
            let insert = try #require(message.insert)
            #expect(insert.relationOID == 16456)
            #expect(insert.xid == nil)
            return try decoder.values(of: insert.newTuple, relation: insert.relationOID)
        }
        #expect(rows == [[.int(1), .string("one")], [.int(2), .string("two")], [.int(3), .null]])
    }

    @Test func decodesOriginAfterBegin() throws {
        let (decoder, messages) = try Fixture.decode("origin")
        #expect(Fixture.shape(messages) == "BORIC")
        let begin = try #require(messages[0].begin)
        #expect(begin.xid == 802)
        // pg_replication_origin_xact_setup('0/ABCDEF01', '2024-05-06 07:08:09.123456+00'): the remote commit
        // time becomes the transaction's commit time.
        #expect(begin.commitTimeUnixMicros == 1_714_979_289_123_456)
        let origin = try #require(messages[1].origin)
        #expect(origin.name == "upstream_1")
        #expect(origin.lsn == LSN(string: "0/ABCDEF01"))
        let insert = try #require(messages[3].insert)
        #expect(
            try decoder.values(of: insert.newTuple, relation: insert.relationOID) == [.int(1), .string("replayed")]
        )
        #expect(insert.relationOID == 16506)
    }

    @Test func decodesTransactionalAndNonTransactionalLogicalMessages() throws {
        let (decoder, messages) = try Fixture.decode("logical-message")
        #expect(Fixture.shape(messages) == "MBRIMC")

        // pg_logical_emit_message(false, 'audit', 'hello, world'): sent at once, outside any transaction.
        let audit = try #require(messages[0].logicalMessage)
        #expect(!audit.isTransactional)
        #expect(audit.flags == 0)
        #expect(audit.prefix == "audit")
        #expect(audit.content.text == "hello, world")
        #expect(audit.xid == nil)

        // pg_logical_emit_message(true, 'tributary.tx', '\x00ff10'::bytea) inside transaction 796.
        let begin = try #require(messages[1].begin)
        #expect(begin.xid == 796)
        let tx = try #require(messages[4].logicalMessage)
        #expect(tx.isTransactional)
        #expect(tx.prefix == "tributary.tx")
        #expect(Array(tx.content.readableBytesView) == [0x00, 0xFF, 0x10])
        let commit = try #require(messages[5].commit)
        #expect(tx.lsn < commit.endLSN)
        #expect(tx.lsn > audit.lsn)
        let insert = try #require(messages[3].insert)
        #expect(try decoder.values(of: insert.newTuple, relation: 16496) == [.int(1), .string("one")])
    }

    @Test func messagesDoNotPrintRowValues() throws {
        let (_, messages) = try Fixture.decode("begin-commit")
        let insert = try #require(messages[2].insert)
        let printed = String(reflecting: insert)
        #expect(printed.contains("TupleData[t(1), t(3)]"))
        #expect(!printed.contains("one"))
        let message = PGOutputMessage.LogicalMessage(
            flags: 1,
            lsn: LSN(1),
            prefix: "p",
            content: ByteBuffer(string: "secret")
        )
        #expect(!String(reflecting: message).contains("secret"))
    }
}
