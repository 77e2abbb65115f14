import NIOCore
import TributaryCore

/// The error thrown by every decoder of this module: replication framing (`ReplicationMessage`), pgoutput
/// messages (`PGOutputMessage`, `PGOutputDecoder`) and column values (`PGValueDecoder`).
///
/// It carries enough context to reproduce the failure from a log line: the message type byte, the LSN of
/// the XLogData that carried the message (when known), the byte offset inside the message and the hex of
/// the offending message bytes (capped at ``maximumHexBytes`` bytes). Corrupt input is never retriable.
public struct PGOutputDecodingError: Error, Sendable, CustomStringConvertible, RetriableError {
    /// What went wrong; extensible without breaking `switch`es (compare with `==`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case truncated
            case trailingBytes
            case unknownMessageType
            case unexpectedByte
            case invalidField
            case unknownRelation
            case invalidValue
            case unsupportedFormat
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The message ended before a field could be read completely.
        public static let truncated = Code(.truncated)
        /// Bytes were left over after the message's last field (the message must be consumed exactly).
        public static let trailingBytes = Code(.trailingBytes)
        /// The message type byte is not one this decoder knows.
        public static let unknownMessageType = Code(.unknownMessageType)
        /// A marker byte inside a message ('N'/'K'/'O' in Update, 'n'/'u'/'t'/'b' in TupleData, …) is invalid.
        public static let unexpectedByte = Code(.unexpectedByte)
        /// A field holds an impossible value (negative length, column count mismatch, …).
        public static let invalidField = Code(.invalidField)
        /// A change refers to a relation OID no Relation message announced.
        public static let unknownRelation = Code(.unknownRelation)
        /// A column value could not be parsed as its type's text (or binary) form.
        public static let invalidValue = Code(.invalidValue)
        /// A value arrived in a format this decoder does not convert (binary form of an exotic type).
        public static let unsupportedFormat = Code(.unsupportedFormat)

        public var description: String { base.rawValue }
    }

    /// At most this many message bytes are kept in ``bytesHex``.
    public static let maximumHexBytes = 256

    /// What went wrong.
    public var code: Code
    /// Human-readable detail (which field, what was expected).
    public var detail: String
    /// The message type byte (`'B'`, `'I'`, `'w'`, …), when the failure happened inside a message.
    public var messageType: UInt8?
    /// The LSN of the XLogData that carried the message (`dataStart`), when known.
    public var lsn: LSN?
    /// Offset of the failing read from the start of the message (type byte included), when known.
    public var byteOffset: Int?
    /// Lower-case hex of the offending bytes: the whole message (capped), or the value for value errors.
    public var bytesHex: String
    /// For value errors: the column's name.
    public var column: String?
    /// For value errors: the column's PostgreSQL type name.
    public var typeName: String?
    /// The error this one wraps, if any.
    public var underlying: (any Error)?
    /// Where the error was detected (`#fileID`).
    public var file: String
    /// Line of ``file``.
    public var line: Int

    public init(
        code: Code,
        detail: String,
        messageType: UInt8? = nil,
        lsn: LSN? = nil,
        byteOffset: Int? = nil,
        bytesHex: String = "",
        column: String? = nil,
        typeName: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.detail = detail
        self.messageType = messageType
        self.lsn = lsn
        self.byteOffset = byteOffset
        self.bytesHex = bytesHex
        self.column = column
        self.typeName = typeName
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Corrupt or unexpected bytes do not get better by retrying.
    public var isRetriable: Bool { false }

    public var description: String {
        var parts = ["PGOutputDecodingError.\(code): \(detail)"]
        if let messageType {
            let printable =
                (0x20..<0x7F).contains(messageType)
                ? "'\(Character(Unicode.Scalar(messageType)))'" : "0x" + String(messageType, radix: 16)
            parts.append("message \(printable)")
        }
        if let lsn { parts.append("lsn \(lsn)") }
        if let byteOffset { parts.append("offset \(byteOffset)") }
        if let column { parts.append("column \(column)") }
        if let typeName { parts.append("type \(typeName)") }
        if !bytesHex.isEmpty { parts.append("bytes \(bytesHex)") }
        if let underlying { parts.append("underlying \(underlying)") }
        parts.append("at \(file):\(line)")
        return parts.joined(separator: ", ")
    }

    /// Lower-case hex of at most ``maximumHexBytes`` readable bytes of `buffer`, with `…` when cut.
    static func hex(of buffer: ByteBuffer) -> String {
        let count = min(buffer.readableBytes, maximumHexBytes)
        var text = hex(buffer.readableBytesView.prefix(count))
        if buffer.readableBytes > count { text += "…" }
        return text
    }

    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The cheap error thrown by field readers; the message boundary wraps it into a `PGOutputDecodingError`
/// with the message bytes, type and LSN (postgres-nio's two-layer decoding errors).
struct PartialDecodingError: Error, Sendable {
    var code: PGOutputDecodingError.Code
    var detail: String
    var file: String
    var line: Int

    init(_ code: PGOutputDecodingError.Code, _ detail: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.detail = detail
        self.file = file
        self.line = line
    }

    static func truncated(
        _ field: StaticString,
        need: Int,
        have: Int,
        file: String = #fileID,
        line: Int = #line
    ) -> PartialDecodingError {
        PartialDecodingError(
            .truncated,
            "\(field): need \(need) byte(s), \(have) left",
            file: file,
            line: line
        )
    }

    static func unexpectedByte(
        _ field: StaticString,
        _ byte: UInt8,
        expected: String,
        file: String = #fileID,
        line: Int = #line
    ) -> PartialDecodingError {
        PartialDecodingError(
            .unexpectedByte,
            "\(field): got 0x\(String(byte, radix: 16)), expected \(expected)",
            file: file,
            line: line
        )
    }
}

extension PGOutputDecodingError {
    /// Wraps a field reader's error at the message boundary.
    init(_ partial: PartialDecodingError, messageType: UInt8?, lsn: LSN?, message: ByteBuffer, failedAt reader: Int) {
        self.init(
            code: partial.code,
            detail: partial.detail,
            messageType: messageType,
            lsn: lsn,
            byteOffset: reader - message.readerIndex,
            bytesHex: PGOutputDecodingError.hex(of: message),
            file: partial.file,
            line: partial.line
        )
    }
}

extension PGOutputDecodingError {
    /// The message boundary of the two-layer decoding (postgres-nio style): runs `body`, the field readers of
    /// one message, and turns their cheap `PartialDecodingError` into a `PGOutputDecodingError` carrying the
    /// message type, the whole message's bytes and the failing offset.
    static func atMessageBoundary<T>(
        messageType: UInt8?,
        from buffer: inout ByteBuffer,
        _ body: (inout ByteBuffer) throws(PartialDecodingError) -> T
    ) throws(PGOutputDecodingError) -> T {
        let message = buffer
        do {
            return try body(&buffer)
        } catch {
            throw PGOutputDecodingError(
                error, messageType: messageType, lsn: nil, message: message, failedAt: buffer.readerIndex)
        }
    }
}
