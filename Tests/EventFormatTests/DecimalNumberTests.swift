import Foundation
import Testing

@testable import EventFormat

@Suite struct DecimalNumberTests {
    private func finite(_ text: String) throws -> DecimalNumber {
        guard case .finite(let number) = try #require(DecimalNumber.parse(text)) else {
            Issue.record("\(text) parsed as a special value")
            throw CancellationError()
        }
        return number
    }

    private func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Expected values: `Base64(new BigDecimal(s).unscaledValue().toByteArray())` printed by OpenJDK 17.
    @Test(arguments: [
        ("1234.56", "AeJA"), ("-1234.56", "/h3A"), ("0", "AA=="), ("-1", "/w=="), ("128", "AIA="),
        ("-128", "gA=="), ("-129", "/38="), ("99999999999999999999999999999.99", "fje+ICLAkUsmf////w=="),
        ("-99999999999999999999999999999.99", "gchB390/brTZgAAAAQ=="),
        ("123456789012345678901234567890", "AY7pD/bDc+DuTj8K0g=="), ("-0.001", "/w=="),
    ])
    func unscaledBytesMatchJavaBigInteger(text: String, expected: String) throws {
        #expect(base64(try finite(text).unscaledTwosComplement()) == expected)
    }

    @Test func unscaledBytesAgreeBetweenFastAndBigPaths() throws {
        // 18 digits takes the Int64 path, 19 the limb path; both must give BigInteger's bytes.
        for text in [
            "999999999999999999", "-999999999999999999", "9999999999999999999", "-9999999999999999999",
            "9223372036854775808", "-9223372036854775808", "18446744073709551616",
        ] {
            let number = try finite(text)
            let bytes = number.unscaledTwosComplement()
            // Decode the two's complement back and compare with the text.
            var magnitude = bytes
            let negative = (bytes.first ?? 0) & 0x80 != 0
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
            var decimal: [UInt8] = [0]  // base-10 digits, most significant first
            for byte in magnitude {
                var carry = Int(byte)
                for j in decimal.indices.reversed() {
                    let v = Int(decimal[j]) * 256 + carry
                    decimal[j] = UInt8(v % 10)
                    carry = v / 10
                }
                while carry > 0 {
                    decimal.insert(UInt8(carry % 10), at: 0)
                    carry /= 10
                }
            }
            while decimal.count > 1 && decimal[0] == 0 { decimal.removeFirst() }
            let rendered = (negative ? "-" : "") + decimal.map { String($0) }.joined()
            #expect(rendered == text)
            // Minimal: no redundant sign byte.
            if bytes.count > 1 {
                #expect(!(bytes[0] == 0x00 && bytes[1] & 0x80 == 0))
                #expect(!(bytes[0] == 0xFF && bytes[1] & 0x80 != 0))
            }
        }
    }

    @Test func parsesSpecialValues() {
        #expect(DecimalNumber.parse("NaN") == .special(.notANumber))
        #expect(DecimalNumber.parse("Infinity") == .special(.positiveInfinity))
        #expect(DecimalNumber.parse("-Infinity") == .special(.negativeInfinity))
        #expect(DecimalNumber.parse("") == nil)
        #expect(DecimalNumber.parse("12a") == nil)
        #expect(DecimalNumber.parse("1.2.3") == nil)
        #expect(DecimalNumber.parse("-") == nil)
    }

    @Test func parsesExponentsAndSigns() throws {
        #expect(try finite("1.5e3") == DecimalNumber(negative: false, digits: Array("1500".utf8), scale: 0))
        #expect(try finite("-1.5E-3") == DecimalNumber(negative: true, digits: Array("15".utf8), scale: 4))
        #expect(try finite("+007.50") == DecimalNumber(negative: false, digits: Array("750".utf8), scale: 2))
        #expect(try finite("-0.00") == DecimalNumber(negative: false, digits: [], scale: 2))
    }

    @Test func rescalesExactlyOrHalfUp() throws {
        let plain = { (n: DecimalNumber?) -> String? in
            guard let n else { return nil }
            var w = JSONWriter(capacity: 8)
            n.writePlain(into: &w)
            return String(decoding: w.bytes, as: UTF8.self)
        }
        #expect(plain(try finite("1.5").rescaled(to: 3, roundingHalfUp: false)) == "1.500")
        #expect(plain(try finite("1.500").rescaled(to: 1, roundingHalfUp: false)) == "1.5")
        #expect(try finite("1.25").rescaled(to: 1, roundingHalfUp: false) == nil)
        // HALF_UP as `BigDecimal.setScale(2, HALF_UP)` (money): 1234.565 → 1234.57, -1234.565 → -1234.57.
        #expect(plain(try finite("1234.565").rescaled(to: 2, roundingHalfUp: true)) == "1234.57")
        #expect(plain(try finite("-1234.565").rescaled(to: 2, roundingHalfUp: true)) == "-1234.57")
        #expect(plain(try finite("9.995").rescaled(to: 2, roundingHalfUp: true)) == "10.00")
        #expect(plain(try finite("0.004").rescaled(to: 2, roundingHalfUp: true)) == "0.00")
        #expect(plain(try finite("0.0004").rescaled(to: 2, roundingHalfUp: true)) == "0.00")
    }

    @Test func stripsForVariableScaleLikeDebezium() throws {
        // `new BigDecimal("1.500").stripTrailingZeros()`: scale 1, unscaled 15.
        let a = try finite("1.500").strippedForVariableScale()
        #expect(a.scale == 1 && base64(a.unscaledTwosComplement()) == "Dw==")
        // `100` keeps scale 0 (negative scales are reset with setScale(0)): unscaled 100.
        let b = try finite("100").strippedForVariableScale()
        #expect(b.scale == 0 && base64(b.unscaledTwosComplement()) == "ZA==")
        let c = try finite("0.000").strippedForVariableScale()
        #expect(c.scale == 0 && base64(c.unscaledTwosComplement()) == "AA==")
    }

    @Test func writesPlainStringsLikeToPlainString() throws {
        for (input, expected) in [
            ("-0.00", "0.00"), ("0.05", "0.05"), ("-12.340", "-12.340"), ("7", "7"),
            ("-0.001", "-0.001"),
        ] {
            var w = JSONWriter(capacity: 8)
            try finite(input).writePlain(into: &w)
            #expect(String(decoding: w.bytes, as: UTF8.self) == expected)
        }
        #expect(try finite("1234.56").doubleValue == 1234.56)
    }
}
