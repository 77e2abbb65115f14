import NIOCore

/// `TupleData` (PostgreSQL docs, "Logical Replication Message Formats"): `Int16` number of columns, then per
/// column a `Byte1` kind — `'n'` NULL, `'u'` unchanged TOAST value (not sent), `'t'` text or `'b'` binary
/// followed by `Int32` length and `Byten` value. Values stay zero-copy slices of the message buffer;
/// ``PGValueDecoder`` converts them.
public struct TupleData: Sendable, Hashable, CustomDebugStringConvertible {
    /// Identifies the kind of one column value inside `TupleData`.
    public enum Kind: UInt8, Sendable, Hashable {
        case null = 0x6E  // ascii: n
        case unchangedToast = 0x75  // ascii: u
        case text = 0x74  // ascii: t
        case binary = 0x62  // ascii: b
    }

    /// One column value as sent.
    public enum Column: Sendable, Hashable {
        case null
        /// The value is stored out of line (TOAST) and was not changed: the server did not send it.
        case unchangedToast
        /// The type's text output (`typoutput`), in the connection's client encoding.
        case text(ByteBuffer)
        /// The type's binary send format (`typsend`), with the `binary` option.
        case binary(ByteBuffer)
    }

    /// Columns in relation order: one per column of the last Relation message for this relation.
    public var columns: [Column]

    public init(columns: [Column]) {
        self.columns = columns
    }

    /// Decodes a `TupleData` and consumes exactly its bytes.
    public static func decode(from buffer: inout ByteBuffer) throws -> TupleData {
        try PGOutputDecodingError.atMessageBoundary(messageType: nil, from: &buffer) { buffer throws(PartialDecodingError) in
            try read(from: &buffer)
        }
    }

    static func read(from buffer: inout ByteBuffer) throws(PartialDecodingError) -> TupleData {
        let count = try buffer.readPGInteger(as: Int16.self, "TupleData.columnCount")
        guard count >= 0 else {
            throw PartialDecodingError(.invalidField, "TupleData.columnCount: negative (\(count))")
        }
        var columns = [Column]()
        columns.reserveCapacity(Int(count))
        for _ in 0..<count {
            let kind = try buffer.readPGByte("TupleData.column.kind")
            switch Kind(rawValue: kind) {
            case .null:
                columns.append(.null)
            case .unchangedToast:
                columns.append(.unchangedToast)
            case .text:
                let length = try buffer.readPGInteger(as: Int32.self, "TupleData.column.length")
                columns.append(.text(try buffer.readPGSlice(length: Int(length), "TupleData.column.value")))
            case .binary:
                let length = try buffer.readPGInteger(as: Int32.self, "TupleData.column.length")
                columns.append(.binary(try buffer.readPGSlice(length: Int(length), "TupleData.column.value")))
            case nil:
                throw .unexpectedByte("TupleData.column.kind", kind, expected: "'n', 'u', 't' or 'b'")
            }
        }
        return TupleData(columns: columns)
    }

    /// Column kinds and value sizes only: row values never appear in logs.
    public var debugDescription: String {
        let parts = columns.map { column -> String in
            switch column {
            case .null: "n"
            case .unchangedToast: "u"
            case .text(let value): "t(\(value.readableBytes))"
            case .binary(let value): "b(\(value.readableBytes))"
            }
        }
        return "TupleData[\(parts.joined(separator: ", "))]"
    }
}
