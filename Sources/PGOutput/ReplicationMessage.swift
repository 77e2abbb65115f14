import NIOCore
import TributaryCore

/// A CopyData payload the server sends during `START_REPLICATION … LOGICAL` (PostgreSQL docs, "Streaming
/// Replication Protocol", START_REPLICATION): WAL data or a keepalive.
public enum ReplicationMessage: Sendable, Hashable {
    /// Identifies a CopyData payload of the replication sub-protocol (its first byte).
    public enum ID: UInt8, Sendable, Hashable {
        /// XLogData, server → client.
        case xLogData = 0x77  // ascii: w
        /// Primary keepalive message, server → client.
        case primaryKeepalive = 0x6B  // ascii: k
        /// Standby status update, client → server.
        case standbyStatusUpdate = 0x72  // ascii: r
    }

    case xLogData(XLogData)
    case keepalive(PrimaryKeepalive)

    /// Decodes one whole CopyData payload (type byte included) and consumes it exactly. For XLogData the
    /// pgoutput message stays a zero-copy slice of `buffer`.
    public static func decode(from buffer: inout ByteBuffer) throws -> ReplicationMessage {
        let message = buffer
        var failedType: UInt8?
        do throws(PartialDecodingError) {
            let type = try buffer.readPGByte("ReplicationMessage.type")
            failedType = type
            switch ID(rawValue: type) {
            case .xLogData:
                return .xLogData(try XLogData.read(from: &buffer))
            case .primaryKeepalive:
                let keepalive = try PrimaryKeepalive.read(from: &buffer)
                guard buffer.readableBytes == 0 else {
                    throw PartialDecodingError(
                        .trailingBytes,
                        "PrimaryKeepalive: \(buffer.readableBytes) byte(s) after the last field"
                    )
                }
                return .keepalive(keepalive)
            case .standbyStatusUpdate, nil:
                throw PartialDecodingError(
                    .unknownMessageType,
                    "unknown replication message type 0x\(String(type, radix: 16)) (expected 'w' or 'k')"
                )
            }
        } catch {
            throw PGOutputDecodingError(
                error,
                messageType: failedType,
                lsn: nil,
                message: message,
                failedAt: buffer.readerIndex
            )
        }
    }
}

/// `XLogData (B)`: `Byte1('w')`, `Int64` start of the WAL data, `Int64` current end of WAL on the server,
/// `Int64` server clock at transmission (µs since 2000-01-01), then `Byten` WAL data — for logical
/// replication, exactly one output-plugin message (one pgoutput message).
public struct XLogData: Sendable, Hashable, CustomDebugStringConvertible {
    /// The starting point of the WAL data in this message. 0 for pgoutput messages that have no LSN of
    /// their own (Relation, Type).
    public var dataStart: LSN
    /// The current end of WAL on the server.
    public var walEnd: LSN
    /// The server's system clock at the time of transmission, µs since 2000-01-01 (``PGEpoch``).
    public var serverTime: Int64
    /// The pgoutput message (a slice of the CopyData buffer, not a copy).
    public var payload: ByteBuffer

    public init(dataStart: LSN, walEnd: LSN, serverTime: Int64, payload: ByteBuffer) {
        self.dataStart = dataStart
        self.walEnd = walEnd
        self.serverTime = serverTime
        self.payload = payload
    }

    /// Decodes the fields after the `'w'` byte; the payload is the rest of `buffer`.
    public static func decode(from buffer: inout ByteBuffer) throws -> XLogData {
        try PGOutputDecodingError.atMessageBoundary(messageType: ReplicationMessage.ID.xLogData.rawValue, from: &buffer) { buffer throws(PartialDecodingError) in
            try read(from: &buffer)
        }
    }

    static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> XLogData {
        let dataStart = try buffer.readPGInteger(as: UInt64.self, "XLogData.dataStart")
        let walEnd = try buffer.readPGInteger(as: UInt64.self, "XLogData.walEnd")
        let serverTime = try buffer.readPGInteger(as: Int64.self, "XLogData.serverTime")
        let payload = try buffer.readPGSlice(length: buffer.readableBytes, "XLogData.payload")
        return XLogData(dataStart: LSN(dataStart), walEnd: LSN(walEnd), serverTime: serverTime, payload: payload)
    }

    /// ``serverTime`` in µs since the Unix epoch.
    public var serverTimeUnixMicros: Int64 { PGEpoch.unixMicros(fromPostgresMicros: serverTime) }

    public var debugDescription: String {
        "XLogData(dataStart: \(dataStart), walEnd: \(walEnd), serverTime: \(serverTime), "
            + "payload: \(payload.readableBytes) bytes)"
    }
}

/// `Primary keepalive message (B)`: `Byte1('k')`, `Int64` current end of WAL on the server, `Int64` server
/// clock (µs since 2000-01-01), `Byte1` 1 if the client should reply as soon as possible.
public struct PrimaryKeepalive: Sendable, Hashable {
    /// The current end of WAL on the server.
    public var walEnd: LSN
    /// The server's system clock at the time of transmission, µs since 2000-01-01.
    public var serverTime: Int64
    /// The server asks for a `StandbyStatusUpdate` now, to avoid a timeout disconnect.
    public var replyRequested: Bool

    public init(walEnd: LSN, serverTime: Int64, replyRequested: Bool) {
        self.walEnd = walEnd
        self.serverTime = serverTime
        self.replyRequested = replyRequested
    }

    /// Decodes the 17 bytes after the `'k'` byte.
    public static func decode(from buffer: inout ByteBuffer) throws -> PrimaryKeepalive {
        try PGOutputDecodingError.atMessageBoundary(messageType: ReplicationMessage.ID.primaryKeepalive.rawValue, from: &buffer) { buffer throws(PartialDecodingError) in
            try read(from: &buffer)
        }
    }

    static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> PrimaryKeepalive {
        let walEnd = try buffer.readPGInteger(as: UInt64.self, "PrimaryKeepalive.walEnd")
        let serverTime = try buffer.readPGInteger(as: Int64.self, "PrimaryKeepalive.serverTime")
        let reply = try buffer.readPGByte("PrimaryKeepalive.replyRequested")
        return PrimaryKeepalive(walEnd: LSN(walEnd), serverTime: serverTime, replyRequested: reply != 0)
    }

    /// ``serverTime`` in µs since the Unix epoch.
    public var serverTimeUnixMicros: Int64 { PGEpoch.unixMicros(fromPostgresMicros: serverTime) }
}

/// `Standby status update (F)`: `Byte1('r')`, `Int64` last WAL byte + 1 received and written, `Int64` … flushed,
/// `Int64` … applied, `Int64` client clock (µs since 2000-01-01), `Byte1` 1 to ask the server for an
/// immediate reply. 34 bytes. The `flush` position is what the slot's `confirmed_flush_lsn` advances to.
public struct StandbyStatusUpdate: Sendable, Hashable {
    /// Encoded size in bytes, type byte included.
    public static let encodedSize = 34

    /// The last WAL byte + 1 received and written to disk.
    public var write: LSN
    /// The last WAL byte + 1 durably processed: the slot's `confirmed_flush_lsn` advances to it.
    public var flush: LSN
    /// The last WAL byte + 1 applied.
    public var apply: LSN
    /// The client's clock, µs since 2000-01-01 (``PGEpoch/postgresMicros(fromUnixMicros:)``).
    public var clientTime: Int64
    /// Asks the server to reply at once (with a keepalive).
    public var replyRequested: Bool

    public init(write: LSN, flush: LSN, apply: LSN, clientTime: Int64, replyRequested: Bool = false) {
        self.write = write
        self.flush = flush
        self.apply = apply
        self.clientTime = clientTime
        self.replyRequested = replyRequested
    }

    /// Appends the 34-byte message (type byte included) to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(ReplicationMessage.ID.standbyStatusUpdate.rawValue)
        buffer.writeInteger(write.rawValue, endianness: .big)
        buffer.writeInteger(flush.rawValue, endianness: .big)
        buffer.writeInteger(apply.rawValue, endianness: .big)
        buffer.writeInteger(clientTime, endianness: .big)
        buffer.writeInteger(UInt8(replyRequested ? 1 : 0))
    }

    /// The 34-byte message (type byte included), ready for `PQputCopyData`.
    public func encoded() -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Self.encodedSize)
        encode(into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Decodes the 33 bytes after the `'r'` byte (for tests and tooling; the server never sends it).
    public static func decode(from buffer: inout ByteBuffer) throws -> StandbyStatusUpdate {
        let message = buffer
        do throws(PartialDecodingError) {
            let write = try buffer.readPGInteger(as: UInt64.self, "StandbyStatusUpdate.write")
            let flush = try buffer.readPGInteger(as: UInt64.self, "StandbyStatusUpdate.flush")
            let apply = try buffer.readPGInteger(as: UInt64.self, "StandbyStatusUpdate.apply")
            let clientTime = try buffer.readPGInteger(as: Int64.self, "StandbyStatusUpdate.clientTime")
            let reply = try buffer.readPGByte("StandbyStatusUpdate.replyRequested")
            return StandbyStatusUpdate(
                write: LSN(write),
                flush: LSN(flush),
                apply: LSN(apply),
                clientTime: clientTime,
                replyRequested: reply != 0
            )
        } catch {
            throw PGOutputDecodingError(
                error,
                messageType: ReplicationMessage.ID.standbyStatusUpdate.rawValue,
                lsn: nil,
                message: message,
                failedAt: buffer.readerIndex
            )
        }
    }
}
