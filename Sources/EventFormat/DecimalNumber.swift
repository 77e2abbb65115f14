/// An exact decimal parsed from `Value.decimal` text, as Java's `BigDecimal` models it: an unscaled integer
/// (decimal digits) and a scale. Supports the operations Debezium applies before encoding (EVENT-FORMAT.md c.8):
/// `setScale`, `stripTrailingZeros`, `unscaledValue().toByteArray()`, `toPlainString()`, `doubleValue()`.
struct DecimalNumber: Equatable {
    /// Special values PostgreSQL NUMERIC can hold.
    enum Special: Equatable {
        case notANumber
        case positiveInfinity
        case negativeInfinity
    }

    enum Parsed: Equatable {
        case finite(DecimalNumber)
        case special(Special)
    }

    var negative: Bool
    /// ASCII digits of the unscaled value, without leading zeros; empty means zero.
    var digits: [UInt8]
    /// Number of digits after the decimal point (≥ 0 after parsing).
    var scale: Int

    var isZero: Bool { digits.isEmpty }

    /// Parses `[-+]digits[.digits][e[-+]digits]`, `NaN`, `Infinity`, `-Infinity`. Returns nil for anything else.
    static func parse(_ text: String) -> Parsed? {
        switch text {
        case "NaN": return .special(.notANumber)
        case "Infinity", "+Infinity": return .special(.positiveInfinity)
        case "-Infinity": return .special(.negativeInfinity)
        default: break
        }
        var negative = false
        var digits: [UInt8] = []
        digits.reserveCapacity(text.utf8.count)
        var scale = 0
        var sawPoint = false
        var sawDigit = false
        var exponent = 0
        var iterator = text.utf8.makeIterator()
        var next = iterator.next()
        if next == UInt8(ascii: "-") || next == UInt8(ascii: "+") {
            negative = next == UInt8(ascii: "-")
            next = iterator.next()
        }
        while let c = next {
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                sawDigit = true
                if !(digits.isEmpty && c == UInt8(ascii: "0")) {
                    digits.append(c)
                }
                if sawPoint { scale += 1 }
            } else if c == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                guard sawDigit else { return nil }
                var expNegative = false
                var expDigits = 0
                next = iterator.next()
                if next == UInt8(ascii: "-") || next == UInt8(ascii: "+") {
                    expNegative = next == UInt8(ascii: "-")
                    next = iterator.next()
                }
                while let e = next {
                    // At most 4 exponent digits: PostgreSQL never writes exponents, and a huge one would mean a huge
                    // digit array.
                    guard e >= UInt8(ascii: "0") && e <= UInt8(ascii: "9"), expDigits < 4 else { return nil }
                    exponent = exponent * 10 + Int(e - UInt8(ascii: "0"))
                    expDigits += 1
                    next = iterator.next()
                }
                guard expDigits > 0 else { return nil }
                if expNegative { exponent = -exponent }
                break
            } else {
                return nil
            }
            next = iterator.next()
        }
        guard sawDigit else { return nil }
        scale -= exponent
        var number = DecimalNumber(negative: negative, digits: digits, scale: scale)
        if number.scale < 0 {
            // A positive exponent: make the value an integer (scale 0), as PostgreSQL's text form would be.
            if !number.digits.isEmpty {
                number.digits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -number.scale))
            }
            number.scale = 0
        }
        if number.digits.isEmpty { number.negative = false }
        return .finite(number)
    }

    /// Java `setScale(newScale)` (exact; nil when digits would be lost) or `setScale(newScale, HALF_UP)`.
    func rescaled(to newScale: Int, roundingHalfUp: Bool) -> DecimalNumber? {
        var result = self
        if newScale >= scale {
            if !result.digits.isEmpty {
                result.digits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: newScale - scale))
            }
            result.scale = newScale
            return result
        }
        let drop = scale - newScale
        let keep = max(0, digits.count - drop)
        let dropped = digits.count - keep
        let droppedDigits = digits[keep...]
        // Digits beyond the unscaled value's length are implicit leading zeros.
        let allZero = droppedDigits.allSatisfy { $0 == UInt8(ascii: "0") }
        if !allZero && !roundingHalfUp { return nil }
        result.digits = Array(digits[..<keep])
        result.scale = newScale
        if !allZero {
            // HALF_UP: round away from zero when the first dropped digit is ≥ 5.
            let firstDropped: UInt8 = dropped == drop ? droppedDigits.first ?? UInt8(ascii: "0") : UInt8(ascii: "0")
            if firstDropped >= UInt8(ascii: "5") {
                result.incrementMagnitude()
            }
        }
        result.normalizeLeadingZeros()
        return result
    }

    /// Java `stripTrailingZeros()` followed by `setScale(0)` when the scale went negative
    /// (`PostgresValueConverter.convertDecimal` for `VariableScaleDecimal`).
    func strippedForVariableScale() -> DecimalNumber {
        var result = self
        while result.scale > 0, let last = result.digits.last, last == UInt8(ascii: "0") {
            result.digits.removeLast()
            result.scale -= 1
        }
        if result.digits.isEmpty { result.scale = 0 }
        return result
    }

    private mutating func incrementMagnitude() {
        var index = digits.count - 1
        while index >= 0 {
            if digits[index] == UInt8(ascii: "9") {
                digits[index] = UInt8(ascii: "0")
                index -= 1
            } else {
                digits[index] += 1
                return
            }
        }
        digits.insert(UInt8(ascii: "1"), at: 0)
    }

    private mutating func normalizeLeadingZeros() {
        let firstNonZero = digits.firstIndex { $0 != UInt8(ascii: "0") } ?? digits.count
        if firstNonZero > 0 { digits.removeFirst(firstNonZero) }
        if digits.isEmpty { negative = false }
    }

    // MARK: - Encodings

    /// Java `BigInteger.toByteArray()` of the unscaled value: minimal big-endian two's complement.
    func unscaledTwosComplement() -> [UInt8] {
        if digits.count <= 18 {
            var magnitude: Int64 = 0
            for d in digits { magnitude = magnitude * 10 + Int64(d - UInt8(ascii: "0")) }
            return Self.minimalTwosComplement(negative ? -magnitude : magnitude)
        }
        // Arbitrary precision: magnitude in base 2³² limbs (little-endian), 9 decimal digits at a time.
        var limbs: [UInt32] = []
        limbs.reserveCapacity(digits.count / 9 + 1)
        var index = 0
        while index < digits.count {
            let chunkEnd = min(index + 9, digits.count)
            var chunk: UInt64 = 0
            var multiplier: UInt64 = 1
            for d in digits[index..<chunkEnd] {
                chunk = chunk * 10 + UInt64(d - UInt8(ascii: "0"))
                multiplier *= 10
            }
            var carry = chunk
            for i in limbs.indices {
                let product = UInt64(limbs[i]) * multiplier + carry
                limbs[i] = UInt32(truncatingIfNeeded: product)
                carry = product >> 32
            }
            while carry > 0 {
                limbs.append(UInt32(truncatingIfNeeded: carry))
                carry >>= 32
            }
            index = chunkEnd
        }
        var magnitude: [UInt8] = [0]  // leading sign byte, stripped below when redundant
        magnitude.reserveCapacity(limbs.count * 4 + 1)
        for limb in limbs.reversed() {
            magnitude.append(UInt8(truncatingIfNeeded: limb >> 24))
            magnitude.append(UInt8(truncatingIfNeeded: limb >> 16))
            magnitude.append(UInt8(truncatingIfNeeded: limb >> 8))
            magnitude.append(UInt8(truncatingIfNeeded: limb))
        }
        if negative {
            for i in magnitude.indices { magnitude[i] = ~magnitude[i] }
            var i = magnitude.count - 1
            while i >= 0 {
                let (sum, overflow) = magnitude[i].addingReportingOverflow(1)
                magnitude[i] = sum
                if !overflow { break }
                i -= 1
            }
        }
        // Drop sign-extension bytes that the next byte's top bit already implies.
        var first = 0
        while first < magnitude.count - 1 {
            let b = magnitude[first]
            let nextTop = magnitude[first + 1] & 0x80
            if (b == 0x00 && nextTop == 0) || (b == 0xFF && nextTop != 0) {
                first += 1
            } else {
                break
            }
        }
        return Array(magnitude[first...])
    }

    static func minimalTwosComplement(_ value: Int64) -> [UInt8] {
        let bitLength = value >= 0 ? 64 - value.leadingZeroBitCount : 64 - (~value).leadingZeroBitCount
        let count = bitLength / 8 + 1
        var result = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            result[count - 1 - i] = UInt8(truncatingIfNeeded: value >> (8 * i))
        }
        return result
    }

    /// Java `BigDecimal.toPlainString()` (scale ≥ 0).
    func writePlain(into writer: inout JSONWriter) {
        if negative && !digits.isEmpty { writer.byte(UInt8(ascii: "-")) }
        if digits.isEmpty {
            writer.byte(UInt8(ascii: "0"))
            if scale > 0 {
                writer.byte(UInt8(ascii: "."))
                writer.bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: scale))
            }
            return
        }
        let integerDigits = digits.count - scale
        if scale == 0 {
            writer.bytes.append(contentsOf: digits)
        } else if integerDigits > 0 {
            writer.bytes.append(contentsOf: digits[..<integerDigits])
            writer.byte(UInt8(ascii: "."))
            writer.bytes.append(contentsOf: digits[integerDigits...])
        } else {
            writer.byte(UInt8(ascii: "0"))
            writer.byte(UInt8(ascii: "."))
            writer.bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -integerDigits))
            writer.bytes.append(contentsOf: digits)
        }
    }

    /// Java `BigDecimal.doubleValue()`: correctly rounded.
    var doubleValue: Double {
        var writer = JSONWriter(capacity: digits.count + 4)
        writePlain(into: &writer)
        return Double(String(decoding: writer.bytes, as: UTF8.self)) ?? .nan
    }
}
