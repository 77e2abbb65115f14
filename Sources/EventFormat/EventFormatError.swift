import TributaryCore

/// A change event could not be rendered: the source handed over a value that does not fit its column type, a
/// row image of the wrong width, or an event missing the image its operation needs. Always permanent
/// (corrupt data): retrying would fail the same way.
public struct EventFormatError: Error, RetriableError, CustomStringConvertible, Sendable {
    /// What went wrong. Extensible: new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case valueTypeMismatch
            case invalidDecimal
            case decimalScaleOverflow
            case rowWidthMismatch
            case missingRowImage
            case missingMessage
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A `Value` case that the column's `ColumnType.Kind` cannot carry (e.g. `.string` for an int32 column).
        public static let valueTypeMismatch = Code(.valueTypeMismatch)
        /// `Value.decimal` text that is not a decimal number.
        public static let invalidDecimal = Code(.invalidDecimal)
        /// A decimal with more fraction digits than its column's scale (Java `setScale` would throw too).
        public static let decimalScaleOverflow = Code(.decimalScaleOverflow)
        /// `before`/`after` do not have one value per column of `table`.
        public static let rowWidthMismatch = Code(.rowWidthMismatch)
        /// A create/read/update without `after`.
        public static let missingRowImage = Code(.missingRowImage)
        /// An op `m` event without `message`.
        public static let missingMessage = Code(.missingMessage)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The table the event belongs to.
    public var table: TableID
    /// The column whose value failed, if any.
    public var column: String?
    /// Source position of the event.
    public var position: SourcePosition
    /// Human-readable detail: the column type and the `Value` case, never the row value itself.
    public var detail: String
    /// Hex of the offending bytes (at most 32), e.g. the text of an invalid decimal.
    public var offendingBytesHex: String?
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    public init(
        code: Code,
        table: TableID,
        column: String?,
        position: SourcePosition,
        detail: String,
        offendingBytesHex: String? = nil,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.table = table
        self.column = column
        self.position = position
        self.detail = detail
        self.offendingBytesHex = offendingBytesHex
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var isRetriable: Bool { false }

    public var description: String {
        var text = "EventFormatError.\(code) table=\(table)"
        if let column { text += " column=\(column)" }
        switch position {
        case .postgres(let p):
            text += " commit_lsn=\(p.commitLSN) lsn=\(p.lsn) event=\(p.eventIndex)"
        }
        text += ": \(detail)"
        if let offendingBytesHex { text += " bytes=\(offendingBytesHex)" }
        if let underlying { text += " underlying=\(underlying)" }
        text += " (\(file):\(line))"
        return text
    }

    static func hex(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in text.utf8.prefix(32) {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Cheap failure thrown while writing one value; `DebeziumJSONFormatter` wraps it into `EventFormatError`
/// with the table, column and position.
struct ValueEncodingFailure: Error {
    var code: EventFormatError.Code
    var detail: String
    var offendingText: String?
}
