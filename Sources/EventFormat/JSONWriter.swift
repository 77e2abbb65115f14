/// Appends JSON tokens to a growing UTF-8 byte buffer.
///
/// Output is byte-compatible with what Kafka Connect's `JsonConverter` produces through Jackson's default
/// `ObjectMapper` (EVENT-FORMAT.md c.1):
/// - strings escape `"` and `\`, the control characters `\b \t \n \f \r` with their short forms and every
///   other byte below 0x20 as `\u00XX` (upper-case hex); everything else, non-ASCII included, is written raw;
/// - `bytes` values are standard base64 with padding (Jackson's `MIME_NO_LINEFEEDS` variant);
/// - doubles and floats use Java's `Double.toString`/`Float.toString` layout, and NaN/±Infinity are written
///   as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (Jackson's `QUOTE_NON_NUMERIC_NUMBERS`, on by default).
struct JSONWriter {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: - Raw fragments

    @inline(__always)
    mutating func raw(_ fragment: [UInt8]) {
        bytes.append(contentsOf: fragment)
    }

    @inline(__always)
    mutating func raw(_ fragment: StaticString) {
        fragment.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        bytes.append(b)
    }

    mutating func null() { raw("null") }

    mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    // MARK: - Integers

    mutating func int(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        uint(value.magnitude)
    }

    mutating func int(_ value: Int) { int(Int64(value)) }

    mutating func uint(_ value: UInt64) {
        var digits = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        bytes.withUnsafeMutableBufferPointer { out in
            var rest = value
            var index = start + digits - 1
            while true {
                out[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                if rest == 0 { break }
                index -= 1
            }
        }
    }

    // MARK: - Strings

    /// Writes `value` as a quoted, escaped JSON string.
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        stringContents(value)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes the escaped contents of `value`, without the quotes.
    mutating func stringContents(_ value: String) {
        var value = value
        value.withUTF8 { escapedContents($0) }
    }

    /// Writes escaped UTF-8 bytes (already valid UTF-8), without quotes.
    mutating func escapedContents(_ utf8: UnsafeBufferPointer<UInt8>) {
        var start = 0
        var index = 0
        let count = utf8.count
        while index < count {
            let b = utf8[index]
            if b >= 0x20 && b != 0x22 && b != 0x5C {
                index += 1
                continue
            }
            if start < index {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
            }
            appendEscape(b)
            index += 1
            start = index
        }
        if start < count {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<count]))
        }
    }

    private mutating func appendEscape(_ b: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch b {
        case 0x22: bytes.append(UInt8(ascii: "\""))
        case 0x5C: bytes.append(UInt8(ascii: "\\"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        default:
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(Self.upperHex[Int(b >> 4)])
            bytes.append(Self.upperHex[Int(b & 0x0F)])
        }
    }

    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)

    // MARK: - Binary

    private static let base64Standard: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )
    private static let base64URLSafe: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8
    )

    /// Writes `data` as a quoted base64 string with padding (RFC 4648 §4, or §5 when `urlSafe`).
    mutating func base64(_ data: UnsafeBufferPointer<UInt8>, urlSafe: Bool = false) {
        let table = urlSafe ? Self.base64URLSafe : Self.base64Standard
        let outputCount = (data.count + 2) / 3 * 4
        bytes.append(UInt8(ascii: "\""))
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "="), count: outputCount))
        table.withUnsafeBufferPointer { alphabet in
            bytes.withUnsafeMutableBufferPointer { out in
                var o = start
                var i = 0
                let n = data.count
                while i + 3 <= n {
                    let v = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2])
                    out[o] = alphabet[Int(v >> 18 & 0x3F)]
                    out[o + 1] = alphabet[Int(v >> 12 & 0x3F)]
                    out[o + 2] = alphabet[Int(v >> 6 & 0x3F)]
                    out[o + 3] = alphabet[Int(v & 0x3F)]
                    i += 3
                    o += 4
                }
                let remaining = n - i
                if remaining == 1 {
                    let v = UInt32(data[i]) << 16
                    out[o] = alphabet[Int(v >> 18 & 0x3F)]
                    out[o + 1] = alphabet[Int(v >> 12 & 0x3F)]
                } else if remaining == 2 {
                    let v = UInt32(data[i]) << 16 | UInt32(data[i + 1]) << 8
                    out[o] = alphabet[Int(v >> 18 & 0x3F)]
                    out[o + 1] = alphabet[Int(v >> 12 & 0x3F)]
                    out[o + 2] = alphabet[Int(v >> 6 & 0x3F)]
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func base64(_ data: [UInt8], urlSafe: Bool = false) {
        data.withUnsafeBufferPointer { base64($0, urlSafe: urlSafe) }
    }

    /// Writes `data` as a quoted lower-case hex string (Debezium `HexConverter`).
    mutating func hex(_ data: [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for b in data {
            bytes.append(Self.lowerHex[Int(b >> 4)])
            bytes.append(Self.lowerHex[Int(b & 0x0F)])
        }
        bytes.append(UInt8(ascii: "\""))
    }

    // MARK: - Floating point

    /// Writes a Connect FLOAT64 the way Jackson does: Java `Double.toString` digits, non-finite values quoted.
    mutating func double(_ value: Double) {
        if value.isNaN {
            raw("\"NaN\"")
        } else if value.isInfinite {
            value < 0 ? raw("\"-Infinity\"") : raw("\"Infinity\"")
        } else if value == 0 {
            value.sign == .minus ? raw("-0.0") : raw("0.0")
        } else {
            javaDecimal(shortest: value.description)
        }
    }

    /// Writes a Connect FLOAT32 the way Jackson does: Java `Float.toString` digits, non-finite values quoted.
    mutating func float(_ value: Float) {
        if value.isNaN {
            raw("\"NaN\"")
        } else if value.isInfinite {
            value < 0 ? raw("\"-Infinity\"") : raw("\"Infinity\"")
        } else if value == 0 {
            value.sign == .minus ? raw("-0.0") : raw("0.0")
        } else {
            javaDecimal(shortest: value.description)
        }
    }

    /// Re-lays out Swift's shortest round-trip digits (`1e-05`, `12.5`, `1.2345e+16`) in Java's
    /// `Double.toString` form: plain notation with at least one fraction digit when 10⁻³ ≤ |v| < 10⁷
    /// (`0.001`, `1234567.0`), otherwise `d.dddE±n` (`1.0E-5`, `1.2345E16`).
    private mutating func javaDecimal(shortest text: String) {
        var text = text
        text.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { digits in
                var negative = false
                var digitCount = 0
                var pointPosition = -1
                var exponent = 0
                var index = 0
                if index < utf8.count && utf8[index] == UInt8(ascii: "-") {
                    negative = true
                    index += 1
                }
                while index < utf8.count {
                    let c = utf8[index]
                    if c == UInt8(ascii: ".") {
                        pointPosition = digitCount
                    } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                        index += 1
                        var expNegative = false
                        if index < utf8.count && (utf8[index] == UInt8(ascii: "-") || utf8[index] == UInt8(ascii: "+"))
                        {
                            expNegative = utf8[index] == UInt8(ascii: "-")
                            index += 1
                        }
                        while index < utf8.count {
                            exponent = exponent * 10 + Int(utf8[index] &- UInt8(ascii: "0"))
                            index += 1
                        }
                        if expNegative { exponent = -exponent }
                        break
                    } else if digitCount < digits.count {
                        digits[digitCount] = c
                        digitCount += 1
                    }
                    index += 1
                }
                if pointPosition < 0 { pointPosition = digitCount }
                // Strip leading zeros (each moves the point left) and trailing zeros.
                var first = 0
                while first < digitCount - 1 && digits[first] == UInt8(ascii: "0") {
                    first += 1
                }
                var last = digitCount
                while last > first + 1 && digits[last - 1] == UInt8(ascii: "0") {
                    last -= 1
                }
                let significant = UnsafeBufferPointer(rebasing: digits[first..<last])
                let scientificExponent = pointPosition - first - 1 + exponent
                if negative { bytes.append(UInt8(ascii: "-")) }
                if scientificExponent >= -3 && scientificExponent < 7 {
                    if scientificExponent >= 0 {
                        let integerDigits = scientificExponent + 1
                        for i in 0..<integerDigits {
                            bytes.append(i < significant.count ? significant[i] : UInt8(ascii: "0"))
                        }
                        bytes.append(UInt8(ascii: "."))
                        if significant.count > integerDigits {
                            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: significant[integerDigits...]))
                        } else {
                            bytes.append(UInt8(ascii: "0"))
                        }
                    } else {
                        bytes.append(UInt8(ascii: "0"))
                        bytes.append(UInt8(ascii: "."))
                        for _ in 0..<(-scientificExponent - 1) {
                            bytes.append(UInt8(ascii: "0"))
                        }
                        bytes.append(contentsOf: significant)
                    }
                } else {
                    bytes.append(significant[0])
                    bytes.append(UInt8(ascii: "."))
                    if significant.count > 1 {
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: significant[1...]))
                    } else {
                        bytes.append(UInt8(ascii: "0"))
                    }
                    bytes.append(UInt8(ascii: "E"))
                    int(scientificExponent)
                }
            }
        }
    }

    // MARK: - Helpers for pre-rendered fragments

    /// The quoted, escaped JSON form of `value`.
    static func quoted(_ value: String) -> [UInt8] {
        var writer = JSONWriter(capacity: value.utf8.count + 2)
        writer.string(value)
        return writer.bytes
    }

    /// `"name":`, pre-escaped, for struct fields.
    static func fieldPrefix(_ name: String) -> [UInt8] {
        var writer = JSONWriter(capacity: name.utf8.count + 3)
        writer.string(name)
        writer.byte(UInt8(ascii: ":"))
        return writer.bytes
    }
}
