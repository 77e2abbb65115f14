import NIOCore
import PGOutput
import Testing
import TributaryCore

/// Cheap fuzzing over the captured fixtures: every strict prefix of every message must throw a typed error
/// (and never crash), a message with a byte appended must be rejected, and value parsers must survive
/// mangled values.
@Suite struct RobustnessTests {
    /// Each line with the stream state it was decoded in (the xid field depends on it).
    private func linesWithState(_ name: String) throws -> [(line: ByteBuffer, inStream: Bool)] {
        var decoder = PGOutputDecoder()
        return try Fixture.lines(name).map { line in
            let inStream = decoder.isInStream
            _ = try decoder.decode(line, at: .zero)
            return (line, inStream)
        }
    }

    @Test(arguments: Fixture.pgoutputCases)
    func everyTruncatedPrefixThrows(_ name: String) throws {
        var checked = 0
        // The streaming fixtures hold hundreds of structurally identical inserts: check each distinct
        // (type, length, stream state) once.
        var seen = Set<[Int]>()
        for (line, inStream) in try linesWithState(name) {
            let type = Int(line.getInteger(at: line.readerIndex, as: UInt8.self) ?? 0)
            guard seen.insert([type, line.readableBytes, inStream ? 1 : 0]).inserted else { continue }
            for length in 0..<line.readableBytes {
                // Plain do/catch: an #expect per prefix would dominate the run time (~150k prefixes).
                var prefix = line.getSlice(at: line.readerIndex, length: length)!
                do {
                    let message = try PGOutputMessage.decode(from: &prefix, inStream: inStream)
                    Issue.record("\(name): prefix \(length) of \(line.readableBytes) decoded as \(message)")
                } catch let error as PGOutputDecodingError {
                    if error.code != .truncated {
                        Issue.record("\(name): prefix \(length) threw \(error.code), expected truncated")
                    }
                } catch {
                    Issue.record("\(name): untyped error \(error)")
                }
                checked += 1
            }
            var whole = line
            _ = try PGOutputMessage.decode(from: &whole, inStream: inStream)
            #expect(whole.readableBytes == 0)

            var longer = line
            longer.writeInteger(UInt8(0x00))
            let error = #expect(throws: PGOutputDecodingError.self) {
                try PGOutputMessage.decode(from: &longer, inStream: inStream)
            }
            #expect(error?.code == .trailingBytes)
        }
        #expect(checked > 0)
    }

    @Test func everyTruncatedReplicationFrameThrows() throws {
        for line in try Fixture.lines("replication-frames") {
            for length in 0..<line.readableBytes {
                var prefix = line.getSlice(at: line.readerIndex, length: length)!
                if line.getInteger(at: line.readerIndex) == UInt8(ascii: "w") && length >= 25 {
                    // The header is complete: the frame decodes, its (cut) pgoutput payload must not.
                    guard case .xLogData(let data) = try ReplicationMessage.decode(from: &prefix) else {
                        Issue.record("expected XLogData")
                        continue
                    }
                    var payload = data.payload
                    #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &payload) }
                } else {
                    #expect(throws: PGOutputDecodingError.self) { try ReplicationMessage.decode(from: &prefix) }
                }
            }
        }
    }

    @Test func unknownMessageTypeCarriesByteLSNAndHex() throws {
        var decoder = PGOutputDecoder()
        let error = #expect(throws: PGOutputDecodingError.self) {
            try decoder.decode(ByteBuffer(bytes: [0x5A, 0x01, 0x02]), at: LSN(string: "0/16B3748")!)
        }
        #expect(error?.code == .unknownMessageType)
        #expect(error?.messageType == 0x5A)
        #expect(error?.lsn == LSN(string: "0/16B3748"))
        #expect(error?.bytesHex == "5a0102")
        #expect(error?.description.contains("'Z'") == true)
        #expect(error?.description.contains("0/16B3748") == true)

        // Two-phase messages are named as such.
        let twoPhase = #expect(throws: PGOutputDecodingError.self) {
            try decoder.decode(ByteBuffer(bytes: [0x62]), at: .zero)
        }
        #expect(twoPhase?.detail.contains("two-phase") == true)
    }

    @Test func errorHexIsCapped() throws {
        var buffer = ByteBuffer(bytes: [0x49, 0x00, 0x00, 0x40, 0x00, 0x4E, 0x00, 0x01, 0x74, 0x00, 0x00, 0x10, 0x00])
        buffer.writeBytes(Array(repeating: UInt8(0x41), count: 1000))  // 4096 announced, 1000 present
        let error = #expect(throws: PGOutputDecodingError.self) { try PGOutputMessage.decode(from: &buffer) }
        #expect(error?.code == .truncated)
        #expect(error?.bytesHex.count == PGOutputDecodingError.maximumHexBytes * 2 + "…".count)
        #expect(error?.byteOffset == 13)
    }

    /// Every prefix and single-byte mutation of every text value of the all-types fixture either converts or
    /// throws `PGOutputDecodingError`; nothing traps.
    @Test func valueParsersSurviveMangledValues() throws {
        let (decoder, messages) = try Fixture.decode("all-types", registry: AllTypesTests.catalogRegistry)
        let insert = try #require(messages.compactMap(\.insert).first)
        let relation = try #require(decoder.relation(forOID: insert.relationOID))
        let valueDecoder = PGValueDecoder(registry: AllTypesTests.catalogRegistry)
        let replacements: [UInt8] = [0x00, 0x20, 0x22, 0x2B, 0x2D, 0x2E, 0x30, 0x39, 0x3A, 0x5C, 0x7B, 0x7D, 0xFF]
        var attempts = 0
        for (column, value) in zip(relation.columns, insert.newTuple.columns) {
            guard case .text(let text) = value else { continue }
            let bytes = Array(text.readableBytesView)
            var variants = (0...bytes.count).map { Array(bytes.prefix($0)) }
            for index in bytes.indices {
                for replacement in replacements {
                    var mutated = bytes
                    mutated[index] = replacement
                    variants.append(mutated)
                }
            }
            for variant in variants {
                attempts += 1
                do {
                    _ = try valueDecoder.decode(
                        .text(ByteBuffer(bytes: variant)),
                        typeOID: column.typeOID,
                        typmod: column.typmod,
                        column: column.name
                    )
                } catch let error as PGOutputDecodingError {
                    #expect(error.column == column.name)
                } catch {
                    Issue.record("unexpected error type \(error)")
                }
            }
        }
        #expect(attempts > 5000)
    }
}
