import TributaryCore

/// How one column's values are written, decided once per table version from its `ColumnType` and the
/// handling modes (EVENT-FORMAT.md c.8; Debezium `PostgresValueConverter`/`JdbcValueConverters` 3.1).
indirect enum ValueCodec: Sendable {
    /// Which number a temporal value becomes.
    enum TemporalUnit: Sendable {
        case millis
        case micros
        case nanos
        /// An ISO-8601 string (`time.precision.mode=isostring`).
        case iso
    }

    case boolean
    case integer
    case float32
    case float64
    /// `org.apache.kafka.connect.data.Decimal`: base64 of the unscaled value at `scale`.
    case decimalBytes(scale: Int, roundHalfUp: Bool)
    /// `io.debezium.data.VariableScaleDecimal` struct.
    case decimalVariable
    /// `decimal.handling.mode=string`; `scale` nil keeps the value's own scale.
    case decimalString(scale: Int?)
    /// `decimal.handling.mode=double`.
    case decimalDouble
    case text
    case binary(FormatOptions.BinaryHandling)
    /// BIT(1): a boolean.
    case bitsBoolean
    /// `io.debezium.data.Bits`: little-endian bytes (Java `BitSet.toByteArray`).
    case bits
    /// Days since the epoch (`.iso`: `yyyy-MM-ddZ`).
    case date(iso: Bool)
    case time(TemporalUnit)
    case timestamp(TemporalUnit)
    /// `io.debezium.time.ZonedTime`.
    case timeTZ
    /// `io.debezium.time.ZonedTimestamp` (six fraction digits, PostgreSQL's default precision).
    case timestampTZ
    case intervalMicros
    case intervalISO
    case array(ValueCodec)

    // MARK: - Schema mapping

    /// The Connect schema and codec for a column kind (the column's optionality is applied by the caller).
    static func compile(
        _ kind: ColumnType.Kind,
        typeName: String,
        options: FormatOptions
    ) -> (schema: ConnectSchema, codec: ValueCodec) {
        switch kind {
        case .boolean:
            return (ConnectSchema(.boolean), .boolean)
        case .int8:
            return (ConnectSchema(.int8), .integer)
        case .int16:
            return (ConnectSchema(.int16), .integer)
        case .int32:
            return (ConnectSchema(.int32), .integer)
        case .int64:
            return (ConnectSchema(.int64), .integer)
        case .float32:
            return (ConnectSchema(.float32), .float32)
        case .float64:
            return (ConnectSchema(.float64), .float64)
        case .decimal(let precision, let scale):
            return compileDecimal(precision: precision, scale: scale, isMoney: typeName == "money", options: options)
        case .string, .unknown:
            return (ConnectSchema(.string), .text)
        case .json:
            return (ConnectSchema(.string, name: "io.debezium.data.Json", version: 1), .text)
        case .xml:
            return (ConnectSchema(.string, name: "io.debezium.data.Xml", version: 1), .text)
        case .uuid:
            return (ConnectSchema(.string, name: "io.debezium.data.Uuid", version: 1), .text)
        case .bytes:
            let schema = options.binaryHandling == .bytes ? ConnectSchema(.bytes) : ConnectSchema(.string)
            return (schema, .binary(options.binaryHandling))
        case .date:
            switch options.timePrecision {
            case .isostring:
                return (ConnectSchema(.string, name: "io.debezium.time.IsoDate", version: 1), .date(iso: true))
            case .connect:
                return (
                    ConnectSchema(.int32, name: "org.apache.kafka.connect.data.Date", version: 1), .date(iso: false)
                )
            case .adaptive, .adaptiveTimeMicroseconds, .microseconds, .nanoseconds:
                return (ConnectSchema(.int32, name: "io.debezium.time.Date", version: 1), .date(iso: false))
            }
        case .time(let precision):
            return compileTime(precision: precision ?? 6, mode: options.timePrecision)
        case .timestamp(let precision):
            return compileTimestamp(precision: precision ?? 6, mode: options.timePrecision)
        case .timeTZ:
            return (ConnectSchema(.string, name: "io.debezium.time.ZonedTime", version: 1), .timeTZ)
        case .timestampTZ:
            return (ConnectSchema(.string, name: "io.debezium.time.ZonedTimestamp", version: 1), .timestampTZ)
        case .interval:
            switch options.intervalHandling {
            case .numeric:
                return (ConnectSchema(.int64, name: "io.debezium.time.MicroDuration", version: 1), .intervalMicros)
            case .string:
                return (ConnectSchema(.string, name: "io.debezium.time.Interval", version: 1), .intervalISO)
            }
        case .bits(let length):
            if length == 1 {
                return (ConnectSchema(.boolean), .bitsBoolean)
            }
            // Unbounded VARBIT: pgjdbc reports Integer.MAX_VALUE as its length.
            let declared = length ?? Int(Int32.max)
            let schema = ConnectSchema(
                .bytes,
                name: "io.debezium.data.Bits",
                version: 1,
                parameters: [ConnectSchema.Parameter(key: "length", value: String(declared))]
            )
            return (schema, .bits)
        case .enumeration(let labels):
            let schema = ConnectSchema(
                .string,
                name: "io.debezium.data.Enum",
                version: 1,
                parameters: [ConnectSchema.Parameter(key: "allowed", value: labels.joined(separator: ","))]
            )
            return (schema, .text)
        case .array(let element):
            let (elementSchema, elementCodec) = compile(element, typeName: elementTypeName(typeName), options: options)
            return (.array(elementSchema.withOptional(true)), .array(elementCodec))
        }
    }

    /// PostgreSQL names array types `_elem` (`_int4`, `_money`).
    private static func elementTypeName(_ arrayTypeName: String) -> String {
        arrayTypeName.hasPrefix("_") ? String(arrayTypeName.dropFirst()) : arrayTypeName
    }

    private static func compileDecimal(
        precision: Int?,
        scale: Int?,
        isMoney: Bool,
        options: FormatOptions
    ) -> (schema: ConnectSchema, codec: ValueCodec) {
        switch options.decimalHandling {
        case .double:
            return (ConnectSchema(.float64), .decimalDouble)
        case .string:
            // Debezium sets fixed scales before `toPlainString`, but not MONEY's (`convertMoney`).
            return (ConnectSchema(.string), .decimalString(scale: isMoney ? nil : scale))
        case .precise:
            if isMoney {
                let fractionDigits = options.moneyFractionDigits
                let schema = ConnectSchema(
                    .bytes,
                    name: "org.apache.kafka.connect.data.Decimal",
                    version: 1,
                    parameters: [ConnectSchema.Parameter(key: "scale", value: String(fractionDigits))]
                )
                return (schema, .decimalBytes(scale: fractionDigits, roundHalfUp: true))
            }
            guard let scale else {
                let schema = ConnectSchema.struct(
                    [
                        ConnectSchema.Field(name: "scale", schema: ConnectSchema(.int32)),
                        ConnectSchema.Field(name: "value", schema: ConnectSchema(.bytes)),
                    ],
                    name: "io.debezium.data.VariableScaleDecimal",
                    version: 1,
                    doc: "Variable scaled decimal"
                )
                return (schema, .decimalVariable)
            }
            var parameters = [ConnectSchema.Parameter(key: "scale", value: String(scale))]
            if let precision {
                parameters.append(ConnectSchema.Parameter(key: "connect.decimal.precision", value: String(precision)))
            }
            let schema = ConnectSchema(
                .bytes,
                name: "org.apache.kafka.connect.data.Decimal",
                version: 1,
                parameters: parameters
            )
            return (schema, .decimalBytes(scale: scale, roundHalfUp: false))
        }
    }

    private static func compileTime(
        precision: Int,
        mode: FormatOptions.TimePrecision
    ) -> (schema: ConnectSchema, codec: ValueCodec) {
        let millis = (ConnectSchema(.int32, name: "io.debezium.time.Time", version: 1), ValueCodec.time(.millis))
        let micros = (ConnectSchema(.int64, name: "io.debezium.time.MicroTime", version: 1), ValueCodec.time(.micros))
        let nanos = (ConnectSchema(.int64, name: "io.debezium.time.NanoTime", version: 1), ValueCodec.time(.nanos))
        switch mode {
        case .adaptive:
            return precision <= 3 ? millis : precision <= 6 ? micros : nanos
        case .adaptiveTimeMicroseconds, .microseconds:
            return micros
        case .nanoseconds:
            return nanos
        case .connect:
            return (ConnectSchema(.int32, name: "org.apache.kafka.connect.data.Time", version: 1), .time(.millis))
        case .isostring:
            return (ConnectSchema(.string, name: "io.debezium.time.IsoTime", version: 1), .time(.iso))
        }
    }

    private static func compileTimestamp(
        precision: Int,
        mode: FormatOptions.TimePrecision
    ) -> (schema: ConnectSchema, codec: ValueCodec) {
        let millis = (
            ConnectSchema(.int64, name: "io.debezium.time.Timestamp", version: 1), ValueCodec.timestamp(.millis)
        )
        let micros = (
            ConnectSchema(.int64, name: "io.debezium.time.MicroTimestamp", version: 1), ValueCodec.timestamp(.micros)
        )
        let nanos = (
            ConnectSchema(.int64, name: "io.debezium.time.NanoTimestamp", version: 1), ValueCodec.timestamp(.nanos)
        )
        switch mode {
        case .adaptive, .adaptiveTimeMicroseconds:
            return precision <= 3 ? millis : precision <= 6 ? micros : nanos
        case .microseconds:
            return micros
        case .nanoseconds:
            return nanos
        case .connect:
            return (
                ConnectSchema(.int64, name: "org.apache.kafka.connect.data.Timestamp", version: 1), .timestamp(.millis)
            )
        case .isostring:
            return (ConnectSchema(.string, name: "io.debezium.time.IsoTimestamp", version: 1), .timestamp(.iso))
        }
    }

    // MARK: - Fallbacks

    /// What Debezium writes for a NULL in a NOT NULL column (`JdbcValueConverters.convertValue`'s fallback), e.g.
    /// the non-key columns of a REPLICA IDENTITY DEFAULT delete's before image. Keeps the payload valid against
    /// its own schema, which `JsonConverter` readers enforce.
    var fallbackJSON: [UInt8] {
        switch self {
        case .boolean, .bitsBoolean: return Array("false".utf8)
        case .integer, .intervalMicros: return Array("0".utf8)
        case .float32, .float64, .decimalDouble: return Array("0.0".utf8)
        case .decimalBytes: return Array("\"AA==\"".utf8)
        case .decimalVariable: return Array("{\"scale\":0,\"value\":\"AA==\"}".utf8)
        case .decimalString(let scale):
            guard let scale, scale > 0 else { return Array("\"0\"".utf8) }
            return Array(("\"0." + String(repeating: "0", count: scale) + "\"").utf8)
        case .text, .binary, .bits: return Array("\"\"".utf8)
        case .date(let iso): return iso ? Array("\"1970-01-01Z\"".utf8) : Array("0".utf8)
        case .time(let unit): return unit == .iso ? Array("\"00:00:00Z\"".utf8) : Array("0".utf8)
        case .timestamp(let unit): return unit == .iso ? Array("\"1970-01-01T00:00:00Z\"".utf8) : Array("0".utf8)
        case .timeTZ: return Array("\"00:00:00Z\"".utf8)
        case .timestampTZ: return Array("\"1970-01-01T00:00:00Z\"".utf8)
        case .intervalISO: return Array("\"P0Y0M0DT0H0M0S\"".utf8)
        case .array: return Array("[]".utf8)
        }
    }

    /// Whether values of this codec are JSON strings (so the TOAST placeholder can stand in for them).
    var writesString: Bool {
        switch self {
        case .text, .decimalString, .timeTZ, .timestampTZ, .intervalISO: return true
        case .binary(let mode): return mode != .bytes
        case .date(let iso): return iso
        case .time(let unit), .timestamp(let unit): return unit == .iso
        default: return false
        }
    }
}

// MARK: - Writing values

/// Per-formatter constants the value writer needs.
struct ValueContext: Sendable {
    /// `unavailable.value.placeholder`, quoted and escaped.
    var placeholderJSON: [UInt8]
    /// Its UTF-8 bytes (the `bytes` form Debezium uses for BYTEA).
    var placeholderBytes: [UInt8]
}

extension ValueCodec {
    /// Writes a non-null value. NULLs are handled by the caller (null, or the fallback for required fields).
    func write(_ value: Value, into writer: inout JSONWriter, context: ValueContext) throws(ValueEncodingFailure) {
        switch value {
        case .null:
            writer.null()
            return
        case .unavailable:
            writeUnavailable(into: &writer, context: context)
            return
        default:
            break
        }
        switch self {
        case .boolean:
            guard case .bool(let b) = value else { throw mismatch(value) }
            writer.bool(b)
        case .integer:
            guard case .int(let i) = value else { throw mismatch(value) }
            writer.int(i)
        case .float32:
            switch value {
            case .double(let d): writer.float(Float(d))
            case .int(let i): writer.float(Float(i))
            default: throw mismatch(value)
            }
        case .float64:
            switch value {
            case .double(let d): writer.double(d)
            case .int(let i): writer.double(Double(i))
            default: throw mismatch(value)
            }
        case .decimalBytes(let scale, let roundHalfUp):
            guard case .finite(let number) = try parseDecimal(value) else {
                // NaN/±Infinity cannot be a Connect Decimal; Debezium fails the connector here, we write null.
                writer.null()
                return
            }
            guard let scaled = number.rescaled(to: scale, roundingHalfUp: roundHalfUp) else {
                throw ValueEncodingFailure(
                    code: .decimalScaleOverflow,
                    detail: "decimal has more than \(scale) fraction digits",
                    offendingText: decimalText(value)
                )
            }
            writer.base64(scaled.unscaledTwosComplement())
        case .decimalVariable:
            guard case .finite(let number) = try parseDecimal(value) else {
                writer.null()
                return
            }
            let stripped = number.strippedForVariableScale()
            writer.raw("{\"scale\":")
            writer.int(stripped.scale)
            writer.raw(",\"value\":")
            writer.base64(stripped.unscaledTwosComplement())
            writer.byte(UInt8(ascii: "}"))
        case .decimalString(let scale):
            switch try parseDecimal(value) {
            case .special(let special):
                // `SpecialValueDecimal.toString()`: the enum constant's name.
                switch special {
                case .notANumber: writer.raw("\"NAN\"")
                case .positiveInfinity: writer.raw("\"POSITIVE_INFINITY\"")
                case .negativeInfinity: writer.raw("\"NEGATIVE_INFINITY\"")
                }
            case .finite(var number):
                if let scale {
                    guard let scaled = number.rescaled(to: scale, roundingHalfUp: false) else {
                        throw ValueEncodingFailure(
                            code: .decimalScaleOverflow,
                            detail: "decimal has more than \(scale) fraction digits",
                            offendingText: decimalText(value)
                        )
                    }
                    number = scaled
                }
                writer.byte(UInt8(ascii: "\""))
                number.writePlain(into: &writer)
                writer.byte(UInt8(ascii: "\""))
            }
        case .decimalDouble:
            switch try parseDecimal(value) {
            case .special(.notANumber): writer.double(.nan)
            case .special(.positiveInfinity): writer.double(.infinity)
            case .special(.negativeInfinity): writer.double(-.infinity)
            case .finite(let number): writer.double(number.doubleValue)
            }
        case .text:
            guard case .string(let s) = value else { throw mismatch(value) }
            writer.string(s)
        case .binary(let mode):
            let data: [UInt8]
            switch value {
            case .bytes(let b): data = b
            case .string(let s): data = Array(s.utf8)
            default: throw mismatch(value)
            }
            switch mode {
            case .bytes, .base64: writer.base64(data)
            case .base64URLSafe: writer.base64(data, urlSafe: true)
            case .hex: writer.hex(data)
            }
        case .bitsBoolean:
            switch value {
            case .bits(let bits): writer.bool(bits.contains(true))
            case .bool(let b): writer.bool(b)
            default: throw mismatch(value)
            }
        case .bits:
            guard case .bits(let bits) = value else { throw mismatch(value) }
            writer.base64(Self.littleEndianBytes(bits))
        case .date(let iso):
            let day: Int64
            switch value {
            case .date(let d): day = Int64(d)
            case .infinity(let positive):
                day = positive ? Temporal.positiveInfinityEpochDay : Temporal.negativeInfinityEpochDay
            default: throw mismatch(value)
            }
            if iso {
                writer.byte(UInt8(ascii: "\""))
                Temporal.writeDate(epochDay: day, into: &writer)
                writer.raw("Z\"")
            } else {
                writer.int(day)
            }
        case .time(let unit):
            guard case .time(let micros) = value else { throw mismatch(value) }
            switch unit {
            case .millis: writer.int(Temporal.floorDiv(micros, 1_000))
            case .micros: writer.int(micros)
            case .nanos: writer.int(micros &* 1_000)
            case .iso:
                // `LocalTime.of(0, 0).plus(duration)`: 24:00:00 wraps to 00:00:00.
                writer.byte(UInt8(ascii: "\""))
                Temporal.writeTime(
                    microsOfDay: Temporal.floorMod(micros, Temporal.microsPerDay),
                    fraction: .minimal,
                    into: &writer
                )
                writer.raw("Z\"")
            }
        case .timestamp(let unit):
            let micros: Int64
            switch value {
            case .timestamp(let t): micros = t
            case .infinity(let positive):
                micros = positive ? Temporal.positiveInfinityMicros : Temporal.negativeInfinityMicros
            default: throw mismatch(value)
            }
            switch unit {
            case .millis: writer.int(Temporal.floorDiv(micros, 1_000))
            case .micros: writer.int(micros)
            case .nanos: writer.int(micros &* 1_000)
            case .iso:
                writer.byte(UInt8(ascii: "\""))
                Temporal.writeDateTime(epochMicros: micros, fraction: .minimal, into: &writer)
                writer.byte(UInt8(ascii: "\""))
            }
        case .timeTZ:
            guard case .timeTZ(let micros) = value else { throw mismatch(value) }
            if micros == Temporal.microsPerDay {
                // End of day, as Debezium's PostgresTimeBoundary writes it.
                writer.raw("\"24:00:00Z\"")
                break
            }
            writer.byte(UInt8(ascii: "\""))
            Temporal.writeTime(
                microsOfDay: Temporal.floorMod(micros, Temporal.microsPerDay),
                fraction: .minimal,
                into: &writer
            )
            writer.raw("Z\"")
        case .timestampTZ:
            switch value {
            case .timestampTZ(let micros):
                writer.byte(UInt8(ascii: "\""))
                Temporal.writeDateTime(epochMicros: micros, fraction: .fixedMicros, into: &writer)
                writer.byte(UInt8(ascii: "\""))
            case .infinity(let positive):
                positive ? writer.raw("\"infinity\"") : writer.raw("\"-infinity\"")
            default:
                throw mismatch(value)
            }
        case .intervalMicros:
            guard case .interval(let months, let days, let micros) = value else { throw mismatch(value) }
            writer.int(Temporal.IntervalParts(months: months, days: days, microseconds: micros).durationMicros)
        case .intervalISO:
            guard case .interval(let months, let days, let micros) = value else { throw mismatch(value) }
            Temporal.IntervalParts(months: months, days: days, microseconds: micros).writeISO(into: &writer)
        case .array(let element):
            guard case .array(let elements) = value else { throw mismatch(value) }
            writer.byte(UInt8(ascii: "["))
            for (index, item) in elements.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                try element.write(item, into: &writer, context: context)
            }
            writer.byte(UInt8(ascii: "]"))
        }
    }

    /// The `unavailable.value.placeholder` in the column's shape (`UnchangedToastedPlaceholder`): a string for
    /// string schemas, its bytes for `bytes` schemas, a one-element list for text and bytea arrays, the bytes
    /// as numbers for integer arrays. Other types are never TOASTed by PostgreSQL and get null.
    private func writeUnavailable(into writer: inout JSONWriter, context: ValueContext) {
        if writesString {
            writer.raw(context.placeholderJSON)
            return
        }
        switch self {
        case .binary, .bits:
            writer.base64(context.placeholderBytes)
        case .array(let element):
            if element.writesString {
                writer.byte(UInt8(ascii: "["))
                writer.raw(context.placeholderJSON)
                writer.byte(UInt8(ascii: "]"))
            } else if case .integer = element {
                writer.byte(UInt8(ascii: "["))
                for (index, b) in context.placeholderBytes.enumerated() {
                    if index > 0 { writer.byte(UInt8(ascii: ",")) }
                    writer.int(Int64(Int8(bitPattern: b)))
                }
                writer.byte(UInt8(ascii: "]"))
            } else if case .binary = element {
                writer.byte(UInt8(ascii: "["))
                writer.base64(context.placeholderBytes)
                writer.byte(UInt8(ascii: "]"))
            } else {
                writer.null()
            }
        default:
            writer.null()
        }
    }

    private func parseDecimal(_ value: Value) throws(ValueEncodingFailure) -> DecimalNumber.Parsed {
        switch value {
        case .decimal(let text):
            guard let parsed = DecimalNumber.parse(text) else {
                throw ValueEncodingFailure(
                    code: .invalidDecimal,
                    detail: "Value.decimal text is not a decimal number",
                    offendingText: text
                )
            }
            return parsed
        case .int(let i):
            return .finite(
                DecimalNumber(negative: i < 0, digits: i == 0 ? [] : Array(String(i.magnitude).utf8), scale: 0)
            )
        default:
            throw mismatch(value)
        }
    }

    private func decimalText(_ value: Value) -> String? {
        if case .decimal(let text) = value { return text }
        return nil
    }

    private func mismatch(_ value: Value) -> ValueEncodingFailure {
        ValueEncodingFailure(
            code: .valueTypeMismatch,
            detail: "Value.\(Self.caseName(value)) does not fit codec \(self)",
            offendingText: nil
        )
    }

    /// The `Value` case without its payload (row values never go into errors).
    static func caseName(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .unavailable: return "unavailable"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "double"
        case .decimal: return "decimal"
        case .string: return "string"
        case .bytes: return "bytes"
        case .date: return "date"
        case .time: return "time"
        case .timeTZ: return "timeTZ"
        case .timestamp: return "timestamp"
        case .timestampTZ: return "timestampTZ"
        case .infinity: return "infinity"
        case .interval: return "interval"
        case .bits: return "bits"
        case .array: return "array"
        }
    }

    /// A bit string (most significant first) as Java's `BitSet.toByteArray()` of its value: little-endian,
    /// no trailing zero bytes (`PostgresValueConverter.convertBits`).
    static func littleEndianBytes(_ bits: [Bool]) -> [UInt8] {
        guard let highest = bits.firstIndex(of: true) else { return [] }
        let bitLength = bits.count - highest
        var bytes = [UInt8](repeating: 0, count: (bitLength + 7) / 8)
        for (offset, bit) in bits[highest...].enumerated() where bit {
            let position = bitLength - 1 - offset
            bytes[position / 8] |= 1 << UInt8(position % 8)
        }
        return bytes
    }
}
