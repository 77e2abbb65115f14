import NIOCore
import TributaryCore

// MARK: - Binary format (`binary 'true'` option): the types' `typsend` output, big-endian

extension PGValueDecoder {
    static func parseBinary(_ buffer: inout ByteBuffer, plan: PGValuePlan) throws(ValueParseError) -> Value {
        switch plan {
        case .bool:
            return .bool(try read(UInt8.self, &buffer) != 0)
        case .int2:
            return .int(Int64(try read(Int16.self, &buffer)))
        case .int4:
            return .int(Int64(try read(Int32.self, &buffer)))
        case .int8:
            return .int(try read(Int64.self, &buffer))
        case .oid:
            return .int(Int64(try read(UInt32.self, &buffer)))
        case .float4:
            return .double(Double(Float(bitPattern: try read(UInt32.self, &buffer))))
        case .float8:
            return .double(Double(bitPattern: try read(UInt64.self, &buffer)))
        case .numeric:
            return .decimal(try binaryNumeric(&buffer))
        case .money:
            // Int64 in units of the currency's minor unit (cents with lc_monetary C/en_US).
            return .decimal(decimalText(unscaled: try read(Int64.self, &buffer), scale: 2))
        case .text, .json, .xml:
            return .string(buffer.readString(length: buffer.readableBytes) ?? "")
        case .char:
            let byte = try read(UInt8.self, &buffer)
            return .string(String(decoding: [byte], as: UTF8.self))
        case .jsonb:
            let version = try read(UInt8.self, &buffer)
            guard version == 1 else { throw ValueParseError("unknown jsonb binary version \(version)") }
            return .string(buffer.readString(length: buffer.readableBytes) ?? "")
        case .uuid:
            guard let bytes = buffer.readBytes(length: 16) else { throw ValueParseError("uuid needs 16 bytes") }
            let hex = PGOutputDecodingError.hex(bytes)
            let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
                String(hex.utf8.dropFirst(range.lowerBound).prefix(range.count)) ?? ""
            }
            return .string(parts.joined(separator: "-"))
        case .bytea:
            return .bytes(buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .date:
            let days = try read(Int32.self, &buffer)
            if days == .max { return .infinity(positive: true) }
            if days == .min { return .infinity(positive: false) }
            let (unixDays, overflow) = days.addingReportingOverflow(PGEpoch.unixOffsetDays)
            guard !overflow else { throw ValueParseError("date out of range") }
            return .date(unixDays)
        case .time:
            return .time(try read(Int64.self, &buffer))
        case .timeTZ:
            let local = try read(Int64.self, &buffer)
            // The zone is in seconds *west* of UTC (PostgreSQL's `TimeTzADT.zone`).
            let zoneWest = Int64(try read(Int32.self, &buffer))
            var utc = (local + zoneWest * PGDateTime.microsPerSecond) % PGDateTime.microsPerDay
            if utc < 0 { utc += PGDateTime.microsPerDay }
            return .timeTZ(utc)
        case .timestamp, .timestampTZ:
            let micros = try read(Int64.self, &buffer)
            if micros == .max { return .infinity(positive: true) }
            if micros == .min { return .infinity(positive: false) }
            let (unix, overflow) = micros.addingReportingOverflow(PGEpoch.unixOffsetMicros)
            guard !overflow else { throw ValueParseError("timestamp out of the Int64 microsecond range") }
            return plan == .timestamp ? .timestamp(unix) : .timestampTZ(unix)
        case .interval:
            let micros = try read(Int64.self, &buffer)
            let days = try read(Int32.self, &buffer)
            let months = try read(Int32.self, &buffer)
            return .interval(months: months, days: days, microseconds: micros)
        case .bits:
            let length = try read(Int32.self, &buffer)
            guard length >= 0, buffer.readableBytes == (Int(length) + 7) / 8 else {
                throw ValueParseError("bit string length \(length) does not match \(buffer.readableBytes) byte(s)")
            }
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            return .bits((0..<Int(length)).map { bytes[$0 / 8] & (0x80 >> UInt8($0 % 8)) != 0 })
        case .array(let element, _):
            return try binaryArray(&buffer, element: element)
        case .passThrough:
            throw ValueParseError("binary format of this type is not converted", code: .unsupportedFormat)
        }
    }

    private static func read<T: FixedWidthInteger>(_: T.Type, _ buffer: inout ByteBuffer) throws(ValueParseError) -> T {
        guard let value = buffer.readInteger(endianness: .big, as: T.self) else {
            throw ValueParseError(
                "binary value too short: need \(MemoryLayout<T>.size) byte(s), \(buffer.readableBytes) left"
            )
        }
        return value
    }

    /// `numeric_send`: `Int16` ndigits, `Int16` weight (base-10000 exponent of the first digit), `UInt16` sign
    /// (0x0000 +, 0x4000 −, 0xC000 NaN, 0xD000 +Inf, 0xF000 −Inf), `Int16` dscale, then ndigits `Int16` base-10000
    /// digits. Rendered like `numeric_out`: dscale digits after the point.
    static func binaryNumeric(_ buffer: inout ByteBuffer) throws(ValueParseError) -> String {
        let count = try read(Int16.self, &buffer)
        let weight = Int(try read(Int16.self, &buffer))
        let sign = try read(UInt16.self, &buffer)
        let dscale = Int(try read(Int16.self, &buffer))
        switch sign {
        case 0xC000: return "NaN"
        case 0xD000: return "Infinity"
        case 0xF000: return "-Infinity"
        case 0x0000, 0x4000: break
        default: throw ValueParseError("invalid numeric sign 0x\(String(sign, radix: 16))")
        }
        guard count >= 0, dscale >= 0, dscale <= 16383 else { throw ValueParseError("invalid numeric header") }
        var digits = [Int16]()
        for _ in 0..<count {
            let digit = try read(Int16.self, &buffer)
            guard (0..<10000).contains(digit) else { throw ValueParseError("numeric digit \(digit) out of range") }
            digits.append(digit)
        }
        func digit(_ position: Int) -> Int { position >= 0 && position < digits.count ? Int(digits[position]) : 0 }
        var text = ""
        if weight < 0 {
            text = "0"
        } else {
            text += String(digit(0))
            if weight >= 1 {
                for position in 1...weight {
                    let group = String(digit(position))
                    text += String(repeating: "0", count: 4 - group.count) + group
                }
            }
        }
        if dscale > 0 {
            var fraction = ""
            var position = weight + 1
            while fraction.count < dscale {
                let group = String(digit(position))
                fraction += String(repeating: "0", count: 4 - group.count) + group
                position += 1
            }
            text += "." + fraction.prefix(dscale)
        }
        if sign == 0x4000 && text.contains(where: { $0 != "0" && $0 != "." }) { text = "-" + text }
        return text
    }

    /// `array_send`: `Int32` ndim, `Int32` has-nulls flag, `UInt32` element type OID, per dimension `Int32` size
    /// and `Int32` lower bound, then per element `Int32` length (-1 = NULL) and its binary value.
    static func binaryArray(_ buffer: inout ByteBuffer, element: PGValuePlan) throws(ValueParseError) -> Value {
        let dimensions = try read(Int32.self, &buffer)
        _ = try read(Int32.self, &buffer)  // has-nulls flag
        _ = try read(UInt32.self, &buffer)  // element type OID
        guard (0...6).contains(dimensions) else { throw ValueParseError("array with \(dimensions) dimensions") }
        var sizes = [Int]()
        var total = 1
        for _ in 0..<dimensions {
            let size = try read(Int32.self, &buffer)
            _ = try read(Int32.self, &buffer)  // lower bound
            guard size >= 0 else { throw ValueParseError("negative array dimension") }
            sizes.append(Int(size))
            let (product, overflow) = total.multipliedReportingOverflow(by: Int(size))
            // Every element takes at least its 4-byte length: reject impossible sizes before allocating.
            guard !overflow, product <= buffer.readableBytes / 4 else {
                throw ValueParseError("array dimensions exceed the value's size")
            }
            total = product
        }
        if dimensions == 0 { return .array([]) }
        var flat = [Value]()
        flat.reserveCapacity(total)
        for _ in 0..<total {
            let length = try read(Int32.self, &buffer)
            if length == -1 {
                flat.append(.null)
                continue
            }
            guard length >= 0, var slice = buffer.readSlice(length: Int(length)) else {
                throw ValueParseError("array element length \(length) exceeds the value")
            }
            flat.append(try parseBinary(&slice, plan: element))
            guard slice.readableBytes == 0 else { throw ValueParseError("array element has trailing bytes") }
        }
        // Re-nest the flat, row-major element list by dimension sizes.
        func nest(_ level: Int, _ offset: inout Int) -> Value {
            if level == sizes.count - 1 {
                defer { offset += sizes[level] }
                return .array(Array(flat[offset..<offset + sizes[level]]))
            }
            return .array((0..<sizes[level]).map { _ in nest(level + 1, &offset) })
        }
        var offset = 0
        return nest(0, &offset)
    }

    /// `unscaled` × 10^-scale as decimal text (`-123456, 2` → `-1234.56`).
    static func decimalText(unscaled: Int64, scale: Int) -> String {
        let negative = unscaled < 0
        var digits = String(unscaled.magnitude)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        let split = digits.index(digits.endIndex, offsetBy: -scale)
        let text = scale > 0 ? digits[..<split] + "." + digits[split...] : digits
        return negative ? "-" + text : text
    }
}
