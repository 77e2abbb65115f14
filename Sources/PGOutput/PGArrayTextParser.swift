import TributaryCore

/// Parses PostgreSQL's array text output (`array_out`): `{1,2,NULL}`, `{"a b","q\"x",plain}`,
/// `{{1,2},{3,4}}`, `{}`, and a leading dimension decoration `[0:1]={7,8}` (emitted when a lower bound is not
/// 1; dropped here). Elements are quoted when they contain the delimiter, braces, quotes, backslashes or
/// whitespace, or are empty or `NULL`; inside quotes `\` escapes the next byte. An unquoted `NULL`
/// (any case) is SQL NULL. Each element's text is converted with the element type's plan; nested braces
/// become nested `.array`s.
struct PGArrayTextParser {
    let raw: UnsafeRawBufferPointer
    let element: PGValuePlan
    let delimiter: UInt8
    var index = 0
    /// Scratch buffer for one element's unescaped bytes.
    var scratch: [UInt8] = []

    init(raw: UnsafeRawBufferPointer, element: PGValuePlan, delimiter: UInt8) {
        self.raw = raw
        self.element = element
        self.delimiter = delimiter
    }

    mutating func parse() throws(ValueParseError) -> Value {
        if peek() == UInt8(ascii: "[") {
            // Dimension decoration: "[lo:hi][lo:hi]=".
            while index < raw.count && raw[index] != UInt8(ascii: "=") { index += 1 }
            guard index < raw.count else { throw ValueParseError("array dimension decoration without '='") }
            index += 1
        }
        let value = try parseLevel(depth: 0)
        skipWhitespace()
        guard index == raw.count else { throw ValueParseError("unexpected bytes after the array's closing brace") }
        return value
    }

    private mutating func parseLevel(depth: Int) throws(ValueParseError) -> Value {
        // PostgreSQL allows at most 6 dimensions (MAXDIM).
        guard depth < 6 else { throw ValueParseError("array nested deeper than 6 dimensions") }
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { throw ValueParseError("expected '{' in array") }
        index += 1
        var elements = [Value]()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            guard let byte = peek() else { throw ValueParseError("array ends inside an element") }
            if byte == UInt8(ascii: "{") {
                elements.append(try parseLevel(depth: depth + 1))
            } else if byte == UInt8(ascii: "\"") {
                elements.append(try parseQuoted())
            } else {
                elements.append(try parseUnquoted())
            }
            skipWhitespace()
            guard let separator = peek() else { throw ValueParseError("array ends without '}'") }
            index += 1
            if separator == UInt8(ascii: "}") { return .array(elements) }
            guard separator == delimiter else { throw ValueParseError("expected a delimiter or '}' in array") }
        }
    }

    private mutating func parseQuoted() throws(ValueParseError) -> Value {
        index += 1  // opening quote
        scratch.removeAll(keepingCapacity: true)
        while true {
            guard index < raw.count else { throw ValueParseError("unterminated quoted array element") }
            let byte = raw[index]
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                guard index < raw.count else { throw ValueParseError("array ends after a backslash") }
                scratch.append(raw[index])
                index += 1
            } else {
                scratch.append(byte)
            }
        }
        return try convertScratch()
    }

    private mutating func parseUnquoted() throws(ValueParseError) -> Value {
        scratch.removeAll(keepingCapacity: true)
        var escaped = false
        while index < raw.count {
            let byte = raw[index]
            if byte == delimiter || byte == UInt8(ascii: "}") { break }
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "\"") {
                throw ValueParseError("unexpected '\(Character(Unicode.Scalar(byte)))' in an unquoted array element")
            }
            index += 1
            if byte == UInt8(ascii: "\\") {
                guard index < raw.count else { throw ValueParseError("array ends after a backslash") }
                scratch.append(raw[index])
                index += 1
                escaped = true
            } else {
                scratch.append(byte)
            }
        }
        while let last = scratch.last, Self.isSpace(last) { scratch.removeLast() }
        guard !scratch.isEmpty else { throw ValueParseError("empty unquoted array element") }
        if !escaped && scratch.count == 4 && String(decoding: scratch, as: UTF8.self).uppercased() == "NULL" {
            return .null
        }
        return try convertScratch()
    }

    private func convertScratch() throws(ValueParseError) -> Value {
        let plan = element
        return try scratch.withUnsafeBytes { bytes in
            Result { () throws(ValueParseError) in try PGValueDecoder.parseText(bytes, plan: plan) }
        }.get()
    }

    private func peek() -> UInt8? {
        index < raw.count ? raw[index] : nil
    }

    private mutating func skipWhitespace() {
        while index < raw.count && Self.isSpace(raw[index]) { index += 1 }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }
}
