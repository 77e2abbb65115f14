import NIOCore
import PGOutput
import Testing
import TributaryCore

/// CopyData frames of START_REPLICATION (`replication-frames.hex`: raw frames captured with libpq's
/// PQgetCopyData from PostgreSQL 15.20) and the standby status update Tributary sends.
@Suite struct ReplicationFramingTests {
    @Test func decodesCapturedKeepaliveAndXLogDataFrames() throws {
        let frames = try Fixture.lines("replication-frames").map { line -> ReplicationMessage in
            var buffer = line
            let message = try ReplicationMessage.decode(from: &buffer)
            #expect(buffer.readableBytes == 0)
            return message
        }
        let kinds = frames.map { frame -> Character in
            switch frame {
            case .xLogData: "w"
            case .keepalive: "k"
            }
        }
        #expect(String(kinds) == "kkkwwwwkkk")

        var keepalives = [PrimaryKeepalive]()
        var xLogData = [XLogData]()
        for frame in frames {
            switch frame {
            case .keepalive(let keepalive): keepalives.append(keepalive)
            case .xLogData(let data): xLogData.append(data)
            }
        }
        // Only the last keepalive (after wal_sender_timeout / 2 without a status update) asks for a reply.
        #expect(keepalives.map(\.replyRequested) == [false, false, false, false, false, true])
        #expect(keepalives[0].walEnd == LSN(0x043C_91C0))
        #expect(keepalives[0].serverTime == 0x0003_03C7_E227_81E5)
        #expect(keepalives[0].serverTimeUnixMicros == 0x0003_03C7_E227_81E5 + 946_684_800_000_000)
        #expect(zip(keepalives, keepalives.dropFirst()).allSatisfy { $0.serverTime <= $1.serverTime })

        // The XLogData payloads are the pgoutput messages of the one captured transaction (xid 817).
        var decoder = PGOutputDecoder()
        let messages = try xLogData.map { try decoder.decode($0.payload, at: $0.dataStart) }
        #expect(Fixture.shape(messages) == "BRIC")
        #expect(messages[0].begin?.xid == 817)
        // Relation messages have no WAL position of their own.
        #expect(xLogData[1].dataStart == LSN.zero)
        let commit = try #require(messages[3].commit)
        #expect(xLogData[3].dataStart == commit.endLSN)
        #expect(keepalives[3].walEnd == commit.endLSN)
        #expect(messages[0].begin?.finalLSN == commit.commitLSN)
        let insert = try #require(messages[2].insert)
        #expect(try decoder.values(of: insert.newTuple, relation: 16527) == [.int(1), .string("one")])
        #expect(String(reflecting: xLogData[2]).contains("payload: 22 bytes"))
    }

    @Test func encodesStandbyStatusUpdate() throws {
        let update = StandbyStatusUpdate(
            write: LSN(string: "1/10")!,
            flush: LSN(string: "1/8")!,
            apply: LSN.zero,
            clientTime: 0x0002_B8A8_5F07_0A5F,
            replyRequested: true
        )
        let expected: [UInt8] = [
            0x72,  // 'r' standby status update
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10,  // write 1/10
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08,  // flush 1/8
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // apply 0/0
            0x00, 0x02, 0xB8, 0xA8, 0x5F, 0x07, 0x0A, 0x5F,  // clientTime, µs since 2000-01-01
            0x01,  // replyRequested
        ]
        #expect(update.encoded() == expected)
        #expect(update.encoded().count == StandbyStatusUpdate.encodedSize)

        var buffer = ByteBuffer(bytes: [0xAA])
        update.encode(into: &buffer)
        #expect(buffer.readableBytes == 35)
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(try StandbyStatusUpdate.decode(from: &buffer) == update)
    }

    @Test func convertsBetweenPostgresAndUnixEpochs() {
        #expect(PGEpoch.unixMicros(fromPostgresMicros: 0) == 946_684_800_000_000)
        #expect(PGEpoch.postgresMicros(fromUnixMicros: 0) == -946_684_800_000_000)
        #expect(PGEpoch.postgresMicros(fromUnixMicros: PGEpoch.unixMicros(fromPostgresMicros: 123_456)) == 123_456)
        // Saturates instead of trapping.
        #expect(PGEpoch.unixMicros(fromPostgresMicros: .max) == .max)
        #expect(PGEpoch.postgresMicros(fromUnixMicros: .min) == .min)
    }

    @Test func decodesHandBuiltKeepalive() throws {
        var buffer = ByteBuffer(bytes: [
            0x6B,  // 'k' primary keepalive
            0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00,  // walEnd 2/100
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // serverTime -1 (1999-12-31 23:59:59.999999)
            0x01,  // replyRequested
        ])
        let message = try ReplicationMessage.decode(from: &buffer)
        #expect(
            message == .keepalive(PrimaryKeepalive(walEnd: LSN(string: "2/100")!, serverTime: -1, replyRequested: true))
        )
    }

    @Test func rejectsUnknownFrameTypeWithByteAndHex() {
        var buffer = ByteBuffer(bytes: [0x72, 0x01, 0x02])  // 'r' is client → server only
        let error = #expect(throws: PGOutputDecodingError.self) { try ReplicationMessage.decode(from: &buffer) }
        #expect(error?.code == .unknownMessageType)
        #expect(error?.messageType == 0x72)
        #expect(error?.bytesHex == "720102")
        #expect(error?.byteOffset == 1)
        #expect(error?.isRetriable == false)
    }

    @Test func rejectsTrailingBytesAfterKeepalive() throws {
        var line = try #require(try Fixture.lines("replication-frames").first)
        line.writeInteger(UInt8(0))
        let error = #expect(throws: PGOutputDecodingError.self) { try ReplicationMessage.decode(from: &line) }
        #expect(error?.code == .trailingBytes)
    }
}
