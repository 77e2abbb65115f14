import NIOCore
import TributaryCore

/// One pgoutput message: the payload of one XLogData (PostgreSQL 15 docs, section 55.9 "Logical Replication
/// Message Formats"), protocol versions 1 and 2.
///
/// In protocol version 2 with `streaming 'on'`, the messages between Stream Start and Stream Stop
/// (Relation, Type, Insert, Update, Delete, Truncate, Message) carry an extra `Int32` xid after their type
/// byte. Whether it is there depends on that stream state, which the caller passes as `inStream`
/// (``PGOutputDecoder`` tracks it).
public enum PGOutputMessage: Sendable, Hashable {
    /// Identifies a pgoutput message (its first byte). Separate from the payload enum, as in postgres-nio.
    public enum ID: UInt8, Sendable, Hashable, CaseIterable {
        case begin = 0x42  // ascii: B
        case message = 0x4D  // ascii: M
        case commit = 0x43  // ascii: C
        case origin = 0x4F  // ascii: O
        case relation = 0x52  // ascii: R
        case type = 0x59  // ascii: Y
        case insert = 0x49  // ascii: I
        case update = 0x55  // ascii: U
        case delete = 0x44  // ascii: D
        case truncate = 0x54  // ascii: T
        case streamStart = 0x53  // ascii: S
        case streamStop = 0x45  // ascii: E
        case streamCommit = 0x63  // ascii: c
        case streamAbort = 0x41  // ascii: A
    }

    case begin(Begin)
    case commit(Commit)
    case origin(Origin)
    case relation(Relation)
    case type(TypeMessage)
    case insert(Insert)
    case update(Update)
    case delete(Delete)
    case truncate(Truncate)
    case message(LogicalMessage)
    case streamStart(StreamStart)
    /// `Stream Stop`: `Byte1('E')` and nothing else; ends a block of a streamed transaction.
    case streamStop
    case streamCommit(StreamCommit)
    case streamAbort(StreamAbort)

    /// The message's ID.
    public var id: ID {
        switch self {
        case .begin: .begin
        case .commit: .commit
        case .origin: .origin
        case .relation: .relation
        case .type: .type
        case .insert: .insert
        case .update: .update
        case .delete: .delete
        case .truncate: .truncate
        case .message: .message
        case .streamStart: .streamStart
        case .streamStop: .streamStop
        case .streamCommit: .streamCommit
        case .streamAbort: .streamAbort
        }
    }

    /// Decodes one whole pgoutput message (type byte included) and consumes it exactly.
    ///
    /// - Parameters:
    ///   - inStream: whether the message arrived between Stream Start and Stream Stop (the xid field is
    ///     present then).
    ///   - lsn: the XLogData `dataStart`, only used to give errors their position.
    /// - Throws: `PGOutputDecodingError` (`.unknownMessageType`, `.truncated`, `.trailingBytes`, …).
    public static func decode(
        from buffer: inout ByteBuffer,
        inStream: Bool = false,
        lsn: LSN? = nil
    ) throws -> PGOutputMessage {
        let message = buffer
        var type: UInt8?
        do throws(PartialDecodingError) {
            let byte = try buffer.readPGByte("PGOutputMessage.type")
            type = byte
            let decoded = try read(id: byte, from: &buffer, inStream: inStream)
            guard buffer.readableBytes == 0 else {
                throw PartialDecodingError(
                    .trailingBytes,
                    "\(buffer.readableBytes) byte(s) left after the message's last field"
                )
            }
            return decoded
        } catch {
            throw PGOutputDecodingError(
                error,
                messageType: type,
                lsn: lsn,
                message: message,
                failedAt: buffer.readerIndex
            )
        }
    }

    static func read(
        id byte: UInt8,
        from buffer: inout ByteBuffer,
        inStream: Bool
    ) throws(PartialDecodingError) -> PGOutputMessage {
        guard let id = ID(rawValue: byte) else {
            throw PartialDecodingError(
                .unknownMessageType,
                "unknown pgoutput message type 0x\(String(byte, radix: 16))"
                    + Self.unsupportedHint(byte)
            )
        }
        switch id {
        case .begin: return .begin(try Begin.read(from: &buffer))
        case .commit: return .commit(try Commit.read(from: &buffer))
        case .origin: return .origin(try Origin.read(from: &buffer))
        case .relation: return .relation(try Relation.read(from: &buffer, streamed: inStream))
        case .type: return .type(try TypeMessage.read(from: &buffer, streamed: inStream))
        case .insert: return .insert(try Insert.read(from: &buffer, streamed: inStream))
        case .update: return .update(try Update.read(from: &buffer, streamed: inStream))
        case .delete: return .delete(try Delete.read(from: &buffer, streamed: inStream))
        case .truncate: return .truncate(try Truncate.read(from: &buffer, streamed: inStream))
        case .message: return .message(try LogicalMessage.read(from: &buffer, streamed: inStream))
        case .streamStart: return .streamStart(try StreamStart.read(from: &buffer))
        case .streamStop: return .streamStop
        case .streamCommit: return .streamCommit(try StreamCommit.read(from: &buffer))
        case .streamAbort: return .streamAbort(try StreamAbort.read(from: &buffer))
        }
    }

    /// Names the protocol feature behind known-but-unsupported message types.
    private static func unsupportedHint(_ byte: UInt8) -> String {
        switch byte {
        case 0x62, 0x50, 0x4B, 0x72, 0x70:  // b P K r p
            " (two-phase commit message; Tributary does not request two_phase)"
        default:
            ""
        }
    }

    /// Shared wrapper of the per-message public `decode(from:)` functions: reads the body after the type
    /// byte and turns a field reader's error into a `PGOutputDecodingError`.
    static func decodeBody<T>(
        _ id: ID,
        from buffer: inout ByteBuffer,
        _ body: (inout ByteBuffer) throws(PartialDecodingError) -> T
    ) throws(PGOutputDecodingError) -> T {
        try PGOutputDecodingError.atMessageBoundary(messageType: id.rawValue, from: &buffer, body)
    }
}

/// The xid field of messages inside a stream block (protocol version 2).
extension ByteBuffer {
    mutating func readPGStreamXID(_ streamed: Bool, _ field: StaticString) throws(PartialDecodingError) -> UInt32? {
        streamed ? try readPGInteger(as: UInt32.self, field) : nil
    }
}
