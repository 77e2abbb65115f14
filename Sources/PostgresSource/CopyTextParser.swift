import NIOCore

/// Parses PostgreSQL `COPY … TO STDOUT` text format rows (one row per CopyData message): fields separated
/// by tab, `\N` for NULL, backslash escapes (`\\`, `\b`, `\f`, `\n`, `\r`, `\t`, `\v`, octal `\NNN`,
/// hex `\xHH`). The unescaped field bytes are the type's text output, the same text pgoutput sends.
enum CopyTextParser {
    struct MalformedRow: Error, CustomStringConvertible {
        var reason: String
        var description: String { "malformed COPY row: \(reason)" }
    }

    /// Splits one row into fields: zero-copy slices of one buffer holding the unescaped row (runs without
    /// escapes are copied at once); nil entries are NULLs. A trailing newline is ignored.
    static func parse(_ row: UnsafeRawBufferPointer, expectedFields: Int) throws -> [ByteBuffer?] {
        var out = ByteBuffer()
        out.reserveCapacity(row.count)
        var ranges: [Range<Int>?] = []
        ranges.reserveCapacity(expectedFields)
        var fieldStart = 0
        var isNull = false
        var end = row.count
        if end > 0, row[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        var i = 0
        while i < end {
            let runStart = i
            while i < end, row[i] != UInt8(ascii: "\t"), row[i] != UInt8(ascii: "\\") { i += 1 }
            if i > runStart { out.writeBytes(UnsafeRawBufferPointer(rebasing: row[runStart..<i])) }
            guard i < end else { break }
            if row[i] == UInt8(ascii: "\t") {
                ranges.append(isNull ? nil : fieldStart..<out.writerIndex)
                fieldStart = out.writerIndex
                isNull = false
                i += 1
                continue
            }
            // Backslash escape.
            guard i + 1 < end else { throw MalformedRow(reason: "dangling backslash") }
            let next = row[i + 1]
            i += 2
            switch next {
            case UInt8(ascii: "N"): isNull = true
            case UInt8(ascii: "b"): out.writeInteger(UInt8(8))
            case UInt8(ascii: "f"): out.writeInteger(UInt8(12))
            case UInt8(ascii: "n"): out.writeInteger(UInt8(10))
            case UInt8(ascii: "r"): out.writeInteger(UInt8(13))
            case UInt8(ascii: "t"): out.writeInteger(UInt8(9))
            case UInt8(ascii: "v"): out.writeInteger(UInt8(11))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(next - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, i < end, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(row[i]) {
                    value = value * 8 + Int(row[i] - UInt8(ascii: "0"))
                    i += 1
                    digits += 1
                }
                out.writeInteger(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x"):
                var value = 0
                var digits = 0
                while digits < 2, i < end, let h = hexValue(row[i]) {
                    value = value * 16 + h
                    i += 1
                    digits += 1
                }
                out.writeInteger(digits == 0 ? UInt8(ascii: "x") : UInt8(value))
            default:
                out.writeInteger(next)
            }
        }
        ranges.append(isNull ? nil : fieldStart..<out.writerIndex)
        guard ranges.count == expectedFields else {
            throw MalformedRow(reason: "expected \(expectedFields) fields, got \(ranges.count)")
        }
        return ranges.map { range in range.flatMap { out.getSlice(at: $0.lowerBound, length: $0.count) } }
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
