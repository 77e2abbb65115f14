import NIOCore
import PGOutput
import Testing
import TributaryCore

/// Protocol version 2 with `streaming 'on'` (logical_decoding_work_mem 64kB on the capture server): big
/// transactions arrive in Stream Start … Stream Stop blocks whose messages carry an xid, then Stream Commit
/// or Stream Abort.
@Suite struct StreamingTests {
    @Test func decodesStreamedTransaction() throws {
        var inStreamAfter = [Bool]()
        let (decoder, messages) = try Fixture.decode("streaming") { decoder, _ in
            inStreamAfter.append(decoder.isInStream)
        }
        let inserts = String(repeating: "I", count: 344)
        #expect(
            Fixture.shape(messages)
                == "BRICSR" + inserts + "ES" + inserts + "ES" + String(repeating: "I", count: 112) + "UDEc"
        )

        // The small transaction before it is not streamed: no xid on its messages.
        #expect(messages[0].begin?.xid == 829)
        #expect(messages[1].relation?.xid == nil)
        #expect(messages[2].insert?.xid == nil)
        #expect(
            try decoder.values(of: try #require(messages[2].insert).newTuple, relation: 16547) == [
                .int(0), .string("small"),
            ]
        )

        // Stream blocks of xid 830: the first says so, the Relation inside carries the xid too.
        let starts = messages.compactMap(\.streamStart)
        #expect(
            starts == [
                .init(xid: 830, isFirstSegment: true), .init(xid: 830, isFirstSegment: false),
                .init(xid: 830, isFirstSegment: false),
            ]
        )
        #expect(messages[5].relation?.xid == 830)
        #expect(messages[5].relation?.oid == 16547)

        let streamed = messages.compactMap(\.insert).dropFirst()
        #expect(streamed.allSatisfy { $0.xid == 830 })
        let ids = try streamed.map { try decoder.values(of: $0.newTuple, relation: 16547) }
        #expect(ids.map { $0[0] } == (1...800).map { Value.int($0) })
        #expect(ids.allSatisfy { $0[1] == .string(String(repeating: "x", count: 50)) })

        let update = try #require(messages.compactMap(\.update).first)
        #expect(update.xid == 830)
        #expect(try decoder.values(of: update.newTuple, relation: 16547) == [.int(1), .string("updated")])
        let delete = try #require(messages.compactMap(\.delete).first)
        #expect(delete.xid == 830)
        #expect(try decoder.values(of: try #require(delete.oldKey), relation: 16547) == [.int(2), .null])

        let commit = try #require(messages.last?.streamCommit)
        #expect(commit.xid == 830)
        #expect(commit.endLSN > commit.commitLSN)
        #expect(commit.commitTimeUnixMicros > 1_700_000_000_000_000)

        // The decoder tracked the blocks: in stream from S to just before E.
        #expect(inStreamAfter[3] == false)
        #expect(inStreamAfter[4] == true)
        #expect(inStreamAfter[4 + 2 + 344] == false)
        #expect(decoder.isInStream == false)
        #expect(decoder.streamXID == nil)
    }

    /// Replays the streamed fixture like an apply worker: changes per (top-level xid, subtransaction xid),
    /// Stream Abort discards a subtransaction (or the whole transaction when both xids are equal), Stream
    /// Commit applies. The result must equal the table the SELECT saw: ids 1…500 by xid 835 and 5000 by 837.
    @Test func decodesStreamAbortOfSubtransactionAndOfTopLevelTransaction() throws {
        var pending: [(top: UInt32, xid: UInt32, id: Value)] = []
        var applied: [(xid: UInt32, id: Value)] = []
        var aborts: [PGOutputMessage.StreamAbort] = []
        let (_, messages) = try Fixture.decode("streaming-abort") { decoder, message in
            switch message {
            case .insert(let insert):
                let top = try #require(decoder.streamXID)
                let xid = try #require(insert.xid)
                pending.append((top, xid, try decoder.values(of: insert.newTuple, relation: insert.relationOID)[0]))
            case .streamAbort(let abort):
                aborts.append(abort)
                pending.removeAll { $0.top == abort.xid && (abort.abortsTopLevel || $0.xid == abort.subtransactionXID) }
            case .streamCommit(let commit):
                applied += pending.filter { $0.top == commit.xid }.map { ($0.xid, $0.id) }
                pending.removeAll { $0.top == commit.xid }
            default:
                break
            }
        }
        let block = String(repeating: "I", count: 344)
        #expect(Fixture.shape(messages) == "SR" + block + "ES" + block + "EASRIEcSR" + block + "EA")
        #expect(aborts == [.init(xid: 835, subtransactionXID: 836), .init(xid: 838, subtransactionXID: 838)])
        #expect(aborts[0].abortsTopLevel == false)
        #expect(aborts[1].abortsTopLevel)
        #expect(messages.compactMap(\.streamCommit).map(\.xid) == [835])
        #expect(applied.filter { $0.xid == 835 }.map(\.id) == (1...500).map { Value.int($0) })
        #expect(applied.filter { $0.xid == 837 }.map(\.id) == [.int(5000)])
        #expect(applied.count == 501)
        // The rolled-back transaction's changes were streamed but never applied.
        #expect(pending.isEmpty)
    }

    @Test func rejectsStreamStopOutsideAndStreamStartInsideABlock() throws {
        var decoder = PGOutputDecoder()
        // 'E' with no open block.
        let error = #expect(throws: PGOutputDecodingError.self) {
            try decoder.decode(ByteBuffer(bytes: [0x45]), at: LSN(7))
        }
        #expect(error?.code == .invalidField)
        #expect(error?.messageType == 0x45)
        #expect(error?.lsn == LSN(7))
        // 'S' xid 9 first segment, then 'S' again.
        let start = ByteBuffer(bytes: [0x53, 0x00, 0x00, 0x00, 0x09, 0x01])
        _ = try decoder.decode(start, at: LSN(8))
        #expect(decoder.isInStream)
        #expect(decoder.streamXID == 9)
        #expect(throws: PGOutputDecodingError.self) { _ = try decoder.decode(start, at: LSN(9)) }
        decoder.resetStreamState()
        #expect(!decoder.isInStream)
    }
}
