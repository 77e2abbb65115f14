/// Parses PostgreSQL `COPY … TO STDOUT` text format rows (one row per CopyData message): fields separated
/// by tab, `\N` for NULL, backslash escapes (`\\`, `\b`, `\f`, `\n`, `\r`, `\t`, `\v`, octal `\NNN`,
/// hex `\xHH`). The unescaped field bytes are the type's text output, the same text pgoutput sends.
enum CopyTextParser {
    struct MalformedRow: Error, CustomStringConvertible {
        var reason: String
        var description: String { "malformed COPY row: \(reason)" }
    }

    /// Splits one row into fields; nil entries are NULLs. A trailing newline is ignored.
    static func parse(_ row: UnsafeRawBufferPointer, expectedFields: Int) throws -> [[UInt8]?] {
        var fields: [[UInt8]?] = []
        fields.reserveCapacity(expectedFields)
        var current: [UInt8] = []
        var isNull = false
        var i = 0
        let n = row.count
        var end = n
        if end > 0, row[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        while i < end {
            let byte = row[i]
            if byte == UInt8(ascii: "\t") {
                fields.append(isNull ? nil : current)
                current = []
                isNull = false
                i += 1
                continue
            }
            if byte == UInt8(ascii: "\\") {
                guard i + 1 < end else { throw MalformedRow(reason: "dangling backslash") }
                let next = row[i + 1]
                i += 2
                switch next {
                case UInt8(ascii: "N"):
                    isNull = true
                case UInt8(ascii: "b"): current.append(8)
                case UInt8(ascii: "f"): current.append(12)
                case UInt8(ascii: "n"): current.append(10)
                case UInt8(ascii: "r"): current.append(13)
                case UInt8(ascii: "t"): current.append(9)
                case UInt8(ascii: "v"): current.append(11)
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = Int(next - UInt8(ascii: "0"))
                    var digits = 1
                    while digits < 3, i < end, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(row[i]) {
                        value = value * 8 + Int(row[i] - UInt8(ascii: "0"))
                        i += 1
                        digits += 1
                    }
                    current.append(UInt8(truncatingIfNeeded: value))
                case UInt8(ascii: "x"):
                    var value = 0
                    var digits = 0
                    while digits < 2, i < end, let h = hexValue(row[i]) {
                        value = value * 16 + h
                        i += 1
                        digits += 1
                    }
                    if digits == 0 { current.append(UInt8(ascii: "x")) } else { current.append(UInt8(value)) }
                default:
                    current.append(next)
                }
                continue
            }
            current.append(byte)
            i += 1
        }
        fields.append(isNull ? nil : current)
        guard fields.count == expectedFields else {
            throw MalformedRow(reason: "expected \(expectedFields) fields, got \(fields.count)")
        }
        return fields
    }

    private static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
