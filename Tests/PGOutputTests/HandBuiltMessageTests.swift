import NIOCore
import PGOutput
import Testing
import TributaryCore

/// Edge cases the server rarely produces, built by hand with one comment per field (go-mysql style).
@Suite struct HandBuiltMessageTests {
    /// A Relation for oid 0x4000 (16384) `pg_catalog.t` with columns `k int4` (key) and `v text`.
    private static let relation: [UInt8] = [
        0x52,  // 'R' relation
        0x00, 0x00, 0x40, 0x00,  // relation oid 16384
        0x00,  // namespace "" (pg_catalog)
        0x74, 0x00,  // name "t"
        0x64,  // replica identity 'd'
        0x00, 0x02,  // 2 columns
        0x01, 0x6B, 0x00, 0x00, 0x00, 0x00, 0x17, 0xFF, 0xFF, 0xFF, 0xFF,  // flags 1, "k", int4, typmod -1
        0x00, 0x76, 0x00, 0x00, 0x00, 0x00, 0x19, 0xFF, 0xFF, 0xFF, 0xFF,  // flags 0, "v", text, typmod -1
    ]

    private func decoderWithRelation() throws -> PGOutputDecoder {
        var decoder = PGOutputDecoder()
        _ = try decoder.decode(ByteBuffer(bytes: Self.relation), at: .zero)
        return decoder
    }

    @Test func decodesEmptyNamespaceAsPgCatalog() throws {
        let decoder = try decoderWithRelation()
        #expect(try decoder.tableSchema(forRelation: 16384).id == TableID(schema: "pg_catalog", name: "t"))
        #expect(decoder.relation(forOID: 16384)?.namespace == "")
    }

    @Test func decodesEveryTupleColumnKind() throws {
        var buffer = ByteBuffer(bytes: [
            0x49,  // 'I' insert
            0x00, 0x00, 0x40, 0x00,  // relation oid 16384
            0x4E,  // 'N' new tuple
            0x00, 0x04,  // 4 columns
            0x6E,  // 'n' null
            0x75,  // 'u' unchanged TOAST
            0x74, 0x00, 0x00, 0x00, 0x02, 0x34, 0x32,  // 't' length 2 "42"
            0x62, 0x00, 0x00, 0x00, 0x00,  // 'b' length 0
        ])
        let message = try PGOutputMessage.decode(from: &buffer)
        let insert = try #require(message.insert)
        #expect(
            insert.newTuple.columns == [.null, .unchangedToast, .text(ByteBuffer(string: "42")), .binary(ByteBuffer())]
        )
        #expect(insert.newTuple.debugDescription == "TupleData[n, u, t(2), b(0)]")
    }

    @Test func decodesStreamedInsertWithXID() throws {
        var buffer = ByteBuffer(bytes: [
            0x49,  // 'I' insert
            0x00, 0x00, 0x03, 0x3E,  // xid 830 (inside a stream block only)
            0x00, 0x00, 0x40, 0x00,  // relation oid 16384
            0x4E,  // 'N'
            0x00, 0x02,  // 2 columns
            0x74, 0x00, 0x00, 0x00, 0x01, 0x37,  // 't' "7"
            0x6E,  // 'n'
        ])
        let insert = try #require(try PGOutputMessage.decode(from: &buffer, inStream: true).insert)
        #expect(insert.xid == 830)
        #expect(insert.relationOID == 16384)
        let decoder = try decoderWithRelation()
        #expect(try decoder.values(of: insert.newTuple, relation: 16384) == [.int(7), .null])
    }

    @Test func decodesUpdateWithOldKeyAndRejectsBadMarkers() throws {
        var update = ByteBuffer(bytes: [
            0x55,  // 'U' update
            0x00, 0x00, 0x40, 0x00,  // relation oid 16384
            0x4B,  // 'K' old key
            0x00, 0x02, 0x74, 0x00, 0x00, 0x00, 0x01, 0x31, 0x6E,  // 2 columns: "1", null
            0x4E,  // 'N' new tuple
            0x00, 0x02, 0x74, 0x00, 0x00, 0x00, 0x01, 0x32, 0x75,  // 2 columns: "2", unchanged
        ])
        let decoded = try #require(try PGOutputMessage.decode(from: &update).update)
        #expect(decoded.oldKey?.columns == [.text(ByteBuffer(string: "1")), .null])
        #expect(decoded.newTuple.columns == [.text(ByteBuffer(string: "2")), .unchangedToast])

        var badMarker = ByteBuffer(bytes: [
            0x55,  // 'U' update
            0x00, 0x00, 0x40, 0x00,  // relation oid 16384
            0x58,  // 'X': not K, O or N
        ])
        let error = #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &badMarker) }
        #expect(error?.code == .unexpectedByte)
        #expect(error?.messageType == 0x55)
        #expect(error?.byteOffset == 6)

        var oldThenOld = ByteBuffer(bytes: [
            0x55,  // 'U' update
            0x00, 0x00, 0x40, 0x00,  // relation oid 16384
            0x4F, 0x00, 0x00,  // 'O' old tuple with 0 columns
            0x4F,  // 'O' again instead of 'N'
        ])
        #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &oldThenOld) }

        var deleteNew = ByteBuffer(bytes: [
            0x44,  // 'D' delete
            0x00, 0x00, 0x40, 0x00,  // relation oid 16384
            0x4E, 0x00, 0x00,  // 'N' is not allowed in a delete
        ])
        #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &deleteNew) }
    }

    @Test func rejectsNegativeLengthsAndCounts() {
        var negativeLength = ByteBuffer(bytes: [
            0x49,  // 'I' insert
            0x00, 0x00, 0x40, 0x00,  // relation oid 16384
            0x4E,  // 'N'
            0x00, 0x01,  // 1 column
            0x74, 0xFF, 0xFF, 0xFF, 0xFE,  // 't' length -2
        ])
        let error = #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &negativeLength) }
        #expect(error?.code == .invalidField)

        var negativeColumns = ByteBuffer(bytes: [
            0x49, 0x00, 0x00, 0x40, 0x00, 0x4E,  // 'I', oid 16384, 'N'
            0xFF, 0xFF,  // -1 columns
        ])
        #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &negativeColumns) }

        var unknownKind = ByteBuffer(bytes: [
            0x49, 0x00, 0x00, 0x40, 0x00, 0x4E,  // 'I', oid 16384, 'N'
            0x00, 0x01,  // 1 column
            0x78,  // 'x': not n, u, t or b
        ])
        let kindError = #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &unknownKind) }
        #expect(kindError?.code == .unexpectedByte)
    }

    @Test func rejectsHugeTruncateCountWithoutAllocating() {
        var buffer = ByteBuffer(bytes: [
            0x54,  // 'T' truncate
            0x7F, 0xFF, 0xFF, 0xFF,  // 2147483647 relations announced
            0x00,  // options
            0x00, 0x00, 0x40, 0x00,  // one oid present
        ])
        let error = #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &buffer) }
        #expect(error?.code == .truncated)
    }

    @Test func rejectsUnknownReplicaIdentity() {
        var bytes = Self.relation
        bytes[8] = 0x78  // replica identity 'x'
        var buffer = ByteBuffer(bytes: bytes)
        let error = #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &buffer) }
        #expect(error?.code == .unexpectedByte)
        #expect(error?.byteOffset == 9)
    }

    @Test func decodesMessageAndStreamControlMessages() throws {
        var message = ByteBuffer(bytes: [
            0x4D,  // 'M' message
            0x00,  // flags: not transactional
            0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  // lsn 0/1000000
            0x70, 0x00,  // prefix "p"
            0x00, 0x00, 0x00, 0x00,  // content length 0
        ])
        let logical = try #require(try PGOutputMessage.decode(from: &message).logicalMessage)
        #expect(logical.lsn == LSN(0x0100_0000))
        #expect(logical.content.readableBytes == 0)

        var commit = ByteBuffer(bytes: [
            0x63,  // 'c' stream commit
            0x00, 0x00, 0x00, 0x2A,  // xid 42
            0x00,  // flags
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,  // commit lsn 0/10
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,  // end lsn 0/20
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // commit time 2000-01-01
        ])
        #expect(
            try PGOutputMessage.decode(from: &commit)
                == .streamCommit(.init(xid: 42, commitLSN: LSN(0x10), endLSN: LSN(0x20), commitTime: 0))
        )

        var abort = ByteBuffer(bytes: [
            0x41,  // 'A' stream abort
            0x00, 0x00, 0x00, 0x2A,  // xid 42
            0x00, 0x00, 0x00, 0x2B,  // subtransaction xid 43
        ])
        #expect(try PGOutputMessage.decode(from: &abort) == .streamAbort(.init(xid: 42, subtransactionXID: 43)))

        var stop = ByteBuffer(bytes: [0x45])  // 'E' stream stop, no fields
        #expect(try PGOutputMessage.decode(from: &stop) == .streamStop)
    }

    @Test func valuesRejectColumnCountMismatchAndUnknownRelation() throws {
        let decoder = try decoderWithRelation()
        let short = TupleData(columns: [.null])
        let mismatch = #expect(throws: PGOutputDecodingError.self) { try decoder.values(of: short, relation: 16384) }
        #expect(mismatch?.code == .invalidField)
        let unknown = #expect(throws: PGOutputDecodingError.self) { try decoder.values(of: short, relation: 1) }
        #expect(unknown?.code == .unknownRelation)
        #expect(throws: PGOutputDecodingError.self) { try decoder.tableSchema(forRelation: 1) }
    }

    @Test func invalidValueNamesColumnAndType() throws {
        let decoder = try decoderWithRelation()
        let tuple = TupleData(columns: [.text(ByteBuffer(string: "12a")), .null])
        let error = #expect(throws: PGOutputDecodingError.self) { try decoder.values(of: tuple, relation: 16384) }
        #expect(error?.code == .invalidValue)
        #expect(error?.column == "k")
        #expect(error?.typeName == "int4")
        #expect(error?.bytesHex == "313261")
        #expect(error?.description.contains("column k") == true)
    }
}
