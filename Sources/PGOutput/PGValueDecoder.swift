import NIOCore
import TributaryCore

/// Converts pgoutput column values (``TupleData/Column``) into Tributary `Value`s.
///
/// pgoutput sends each value as its type's *text output* (`typoutput`) unless the `binary` option is on.
/// The text forms parsed here are PostgreSQL's defaults, which the replication connection must keep:
/// `DateStyle` ISO, `IntervalStyle` postgres, `bytea_output` hex (escape is accepted too), `extra_float_digits`
/// ≥ 1 and `client_encoding` UTF8; money assumes `lc_monetary` C/en_US (`$1,234.56`, `-$1.00`).
/// No Foundation: the calendar math (proleptic Gregorian, year 0 = 1 BC) is done here.
///
/// - `'n'` → `.null`, `'u'` → `.unavailable`.
/// - bool → `.bool`; int2/int4/int8/oid → `.int`; float4/float8 → `.double` (NaN, ±Infinity included);
///   numeric → `.decimal` with the text as sent (NaN/±Infinity included); money → `.decimal` (`-1234.56`).
/// - date → `.date` (days since 1970-01-01), time → `.time` (µs), timetz → `.timeTZ` (µs since midnight UTC,
///   wrapped into 0..<24h), timestamp → `.timestamp` and timestamptz → `.timestampTZ` (µs since the epoch,
///   UTC; BC and years > 9999 handled), `infinity`/`-infinity` → `.infinity`.
/// - interval → `.interval(months:days:microseconds:)`; bit/varbit → `.bits`; bytea → `.bytes`.
/// - arrays → `.array` (multi-dimensional arrays nest: `{{1,2},{3,4}}` → `[[1,2],[3,4]]`; a lower-bound
///   decoration like `[0:1]=` is dropped).
/// - everything else (text, varchar, uuid, json, xml, enums, inet, ranges, unknown types) → `.string`.
///
/// Values that do not parse throw `PGOutputDecodingError` `.invalidValue` naming the column and type.
public struct PGValueDecoder: Sendable {
    /// The types used to resolve column type OIDs.
    public var registry: PGTypeRegistry

    public init(registry: PGTypeRegistry = PGTypeRegistry()) {
        self.registry = registry
    }

    /// Converts one column of a tuple. `column` only names the column in errors.
    public func decode(_ value: TupleData.Column, typeOID: UInt32, typmod: Int32, column: String) throws -> Value {
        let resolved = registry.resolve(oid: typeOID, typmod: typmod)
        return try Self.decode(value, plan: resolved.plan, typeName: resolved.type.typeName, column: column)
    }

    /// Converts a value given as its text form (convenience for tests and snapshot rows read as text).
    public func decode(text: String, typeOID: UInt32, typmod: Int32 = -1, column: String = "?") throws -> Value {
        try decode(.text(ByteBuffer(string: text)), typeOID: typeOID, typmod: typmod, column: column)
    }

    static func decode(
        _ value: TupleData.Column,
        plan: PGValuePlan,
        typeName: String,
        column: String
    ) throws(PGOutputDecodingError) -> Value {
        let result: Result<Value, ValueParseError>
        let bytes: ByteBuffer
        switch value {
        case .null:
            return .null
        case .unchangedToast:
            return .unavailable
        case .text(let text):
            bytes = text
            result = text.withUnsafeReadableBytes { raw in
                Result { () throws(ValueParseError) in try parseText(raw, plan: plan) }
            }
        case .binary(let binary):
            bytes = binary
            var copy = binary
            result = Result { () throws(ValueParseError) in
                let value = try parseBinary(&copy, plan: plan)
                guard copy.readableBytes == 0 else {
                    throw ValueParseError("\(copy.readableBytes) byte(s) left after the binary value")
                }
                return value
            }
        }
        switch result {
        case .success(let value):
            return value
        case .failure(let error):
            throw PGOutputDecodingError(
                code: error.code,
                detail: "cannot convert \(typeName) value of column \(column): \(error.reason)",
                byteOffset: nil,
                bytesHex: PGOutputDecodingError.hex(of: bytes),
                column: column,
                typeName: typeName,
                file: error.file,
                line: error.line
            )
        }
    }
}

/// A value parser's failure, wrapped with the column and type by `PGValueDecoder`.
struct ValueParseError: Error, Sendable {
    var code: PGOutputDecodingError.Code
    var reason: String
    var file: String
    var line: Int

    init(
        _ reason: String,
        code: PGOutputDecodingError.Code = .invalidValue,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.reason = reason
        self.code = code
        self.file = file
        self.line = line
    }
}

// MARK: - Text format

extension PGValueDecoder {
    static func parseText(_ raw: UnsafeRawBufferPointer, plan: PGValuePlan) throws(ValueParseError) -> Value {
        switch plan {
        case .bool:
            if raw.count == 1 && raw[0] == UInt8(ascii: "t") { return .bool(true) }
            if raw.count == 1 && raw[0] == UInt8(ascii: "f") { return .bool(false) }
            throw ValueParseError("expected 't' or 'f'")
        case .int2, .int4, .int8, .oid:
            return .int(try parseInteger(raw))
        case .float4, .float8:
            return .double(try parseFloat(raw))
        case .numeric:
            return .decimal(try parseNumeric(raw))
        case .money:
            return .decimal(try parseMoney(raw))
        case .text, .json, .xml, .char, .jsonb, .uuid, .passThrough:
            return .string(String(decoding: raw, as: UTF8.self))
        case .bytea:
            return .bytes(try parseBytea(raw))
        case .bits:
            var bits = [Bool]()
            bits.reserveCapacity(raw.count)
            for byte in raw {
                switch byte {
                case UInt8(ascii: "0"): bits.append(false)
                case UInt8(ascii: "1"): bits.append(true)
                default: throw ValueParseError("bit string holds a byte other than '0' or '1'")
                }
            }
            return .bits(bits)
        case .date:
            return try PGDateTime.parseDate(raw)
        case .time:
            return .time(try PGDateTime.parseTime(raw))
        case .timeTZ:
            return .timeTZ(try PGDateTime.parseTimeTZ(raw))
        case .timestamp:
            return try PGDateTime.parseTimestamp(raw, withZone: false)
        case .timestampTZ:
            return try PGDateTime.parseTimestamp(raw, withZone: true)
        case .interval:
            return try PGDateTime.parseInterval(raw)
        case .array(let element, let delimiter):
            var parser = PGArrayTextParser(raw: raw, element: element, delimiter: delimiter)
            return try parser.parse()
        }
    }

    /// `[-]digits` into an Int64, overflow-checked (accumulates negatively so `Int64.min` parses).
    static func parseInteger(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Int64 {
        var index = 0
        var negative = false
        if index < raw.count && (raw[index] == UInt8(ascii: "-") || raw[index] == UInt8(ascii: "+")) {
            negative = raw[index] == UInt8(ascii: "-")
            index += 1
        }
        guard index < raw.count else { throw ValueParseError("expected an integer") }
        var value: Int64 = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                throw ValueParseError("expected an integer")
            }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !o1 && !o2 else { throw ValueParseError("integer out of Int64 range") }
            value = next
            index += 1
        }
        if negative { return value }
        guard value != .min else { throw ValueParseError("integer out of Int64 range") }
        return -value
    }

    /// float4/float8 output: shortest round-trip digits (`extra_float_digits` ≥ 1), `NaN`, `Infinity`,
    /// `-Infinity`. Only decimal syntax is accepted (no hex floats).
    static func parseFloat(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> Double {
        let text = String(decoding: raw, as: UTF8.self)
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: break
        }
        let allowed = raw.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e")
                || byte == UInt8(ascii: "E")
        }
        guard allowed, !raw.isEmpty, let value = Double(text) else {
            throw ValueParseError("expected a floating-point number")
        }
        return value
    }

    /// numeric output: `[-]digits[.digits]`, `NaN`, `Infinity`, `-Infinity`; kept as sent.
    static func parseNumeric(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String {
        let text = String(decoding: raw, as: UTF8.self)
        if text == "NaN" || text == "Infinity" || text == "-Infinity" { return text }
        var index = 0
        if index < raw.count && raw[index] == UInt8(ascii: "-") { index += 1 }
        var integerDigits = 0
        while index < raw.count && isDigit(raw[index]) {
            index += 1
            integerDigits += 1
        }
        var fractionDigits = 0
        if index < raw.count && raw[index] == UInt8(ascii: ".") {
            index += 1
            while index < raw.count && isDigit(raw[index]) {
                index += 1
                fractionDigits += 1
            }
            guard fractionDigits > 0 else { throw ValueParseError("expected digits after '.'") }
        }
        guard index == raw.count, integerDigits > 0 else { throw ValueParseError("expected a decimal number") }
        return text
    }

    /// money output with `lc_monetary` C or en_US: `$1,234.56`, `-$1,234.56` (or `($1.00)`). The currency
    /// symbol and thousands separators are dropped; leading zeros are trimmed (`$0.05` → `0.05`).
    static func parseMoney(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> String {
        var negative = false
        var digits = [UInt8]()
        var sawPoint = false
        var sawDigit = false
        for byte in raw {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte)
                sawDigit = true
            case UInt8(ascii: "."):
                guard !sawPoint else { throw ValueParseError("two decimal points in a money value") }
                sawPoint = true
                digits.append(byte)
            case UInt8(ascii: "-"), UInt8(ascii: "("):
                negative = true
            case UInt8(ascii: "$"), UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: ")"):
                continue
            default:
                throw ValueParseError("unexpected character in a money value (lc_monetary C/en_US expected)")
            }
        }
        guard sawDigit else { throw ValueParseError("no digits in a money value") }
        // Trim leading zeros of the integer part, keeping one before the point.
        var start = 0
        while start + 1 < digits.count && digits[start] == UInt8(ascii: "0") && digits[start + 1] != UInt8(ascii: ".") {
            start += 1
        }
        if digits.first == UInt8(ascii: ".") { digits.insert(UInt8(ascii: "0"), at: 0) }
        var text = String(decoding: digits[start...], as: UTF8.self)
        if negative && text.contains(where: { $0 != "0" && $0 != "." }) { text = "-" + text }
        return text
    }

    /// bytea output: hex format `\x0a0b…` or escape format (`\\`, `\ooo` octal, other bytes literal).
    static func parseBytea(_ raw: UnsafeRawBufferPointer) throws(ValueParseError) -> [UInt8] {
        if raw.count >= 2 && raw[0] == UInt8(ascii: "\\") && raw[1] == UInt8(ascii: "x") {
            guard raw.count % 2 == 0 else { throw ValueParseError("odd number of hex digits in bytea") }
            var bytes = [UInt8]()
            bytes.reserveCapacity((raw.count - 2) / 2)
            var index = 2
            while index < raw.count {
                guard let high = hexValue(raw[index]), let low = hexValue(raw[index + 1]) else {
                    throw ValueParseError("invalid hex digit in bytea")
                }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
        var bytes = [UInt8]()
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            if byte != UInt8(ascii: "\\") {
                bytes.append(byte)
                index += 1
            } else if index + 1 < raw.count && raw[index + 1] == UInt8(ascii: "\\") {
                bytes.append(byte)
                index += 2
            } else if index + 3 < raw.count, isOctal(raw[index + 1]), isOctal(raw[index + 2]), isOctal(raw[index + 3]) {
                let value = Int(raw[index + 1] - 48) * 64 + Int(raw[index + 2] - 48) * 8 + Int(raw[index + 3] - 48)
                guard value <= 255 else { throw ValueParseError("octal escape out of range in bytea") }
                bytes.append(UInt8(value))
                index += 4
            } else {
                throw ValueParseError("invalid escape in bytea")
            }
        }
        return bytes
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    @inline(__always) static func isOctal(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "7")
    }

    @inline(__always) static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
