import NIOCore
import PGOutput
import Testing
import TributaryCore

/// Text (and binary) value parsing beyond what the fixtures hold. OIDs: bool 16, bytea 17, int8 20,
/// int4 23, float8 701, money 790, date 1082, time 1083, timestamp 1114, timestamptz 1184, interval 1186,
/// timetz 1266, bit 1560, numeric 1700, _int4 1007, _text 1009, _box 1020.
@Suite struct PGValueDecoderTests {
    let decoder = PGValueDecoder()

    private func text(_ text: String, _ oid: UInt32, typmod: Int32 = -1) throws -> Value {
        try decoder.decode(text: text, typeOID: oid, typmod: typmod, column: "c")
    }

    private func rejects(_ text: String, _ oid: UInt32, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: PGOutputDecodingError.self, "\(text)", sourceLocation: sourceLocation) {
            try decoder.decode(text: text, typeOID: oid, column: "c")
        }
        #expect(error?.code == .invalidValue, sourceLocation: sourceLocation)
    }

    @Test func parsesTimestamps() throws {
        #expect(try text("1970-01-01 00:00:00", 1114) == .timestamp(0))
        #expect(try text("2000-01-01 00:00:00", 1114) == .timestamp(946_684_800_000_000))
        #expect(try text("2024-01-02 03:04:05.1", 1114) == .timestamp(1_704_164_645_100_000))
        #expect(try text("1969-12-31 23:59:59.999999", 1114) == .timestamp(-1))
        #expect(try text("0001-01-01 00:00:00", 1114) == .timestamp(-62_135_596_800_000_000))
        #expect(try text("0001-12-31 23:59:59 BC", 1114) == .timestamp(-62_135_596_801_000_000))
        #expect(try text("4713-01-01 00:00:00 BC", 1114) == .timestamp(-210_863_520_000_000_000))
        #expect(try text("infinity", 1114) == .infinity(positive: true))
        rejects("2023-02-29 00:00:00", 1114)
        rejects("2024-13-01 00:00:00", 1114)
        rejects("2024-01-01T00:00:00", 1114)
        rejects("24-01-01 00:00:00", 1114)
        rejects("2024-01-01 00:00:00.1234567", 1114)
        rejects("0000-01-01 00:00:00 BC", 1114)
        rejects("2024-01-01 00:00:00+00", 1114)
        // The largest PostgreSQL timestamp (294276 AD) does not fit in Int64 µs since 1970: a typed error.
        rejects("294276-12-31 23:59:59.999999", 1114)
    }

    @Test func parsesTimestampsWithZone() throws {
        #expect(try text("2024-01-02 03:04:05.123+05:30", 1184) == .timestampTZ(1_704_144_845_123_000))
        #expect(try text("2024-01-02 03:04:05-00:30", 1184) == .timestampTZ(1_704_166_445_000_000))
        #expect(try text("1970-01-01 00:00:00+00", 1184) == .timestampTZ(0))
        // Historical LMT offsets with seconds, and BC after the offset (Asia/Kolkata in 44 BC).
        #expect(try text("0044-03-15 17:53:28+05:53:28 BC", 1184) == .timestampTZ(-63_517_780_800_000_000))
        #expect(try text("-infinity", 1184) == .infinity(positive: false))
        rejects("2024-01-02 03:04:05", 1184)
        rejects("2024-01-02 03:04:05+5", 1184)
        rejects("2024-01-02 03:04:05+05:60", 1184)
    }

    @Test func parsesDatesAndTimes() throws {
        #expect(try text("2000-01-01", 1082) == .date(10957))
        #expect(try text("0001-01-01 BC", 1082) == .date(-719_528))
        rejects("0004-02-29 BC", 1082)  // 4 BC is astronomical year -3: not a leap year
        #expect(try text("5874897-12-31", 1082) == .date(2_145_042_905))  // PostgreSQL's last date
        #expect(try text("infinity", 1082) == .infinity(positive: true))
        rejects("2001-02-29", 1082)
        rejects("0005-02-30 BC", 1082)
        #expect(try text("0005-02-29 BC", 1082) == .date(-720_930))  // 5 BC = year -4: leap

        #expect(try text("00:00:00", 1083) == .time(0))
        #expect(try text("24:00:00", 1083) == .time(86_400_000_000))
        #expect(try text("13:14:15.000001", 1083) == .time(47_655_000_001))
        rejects("24:00:01", 1083)
        rejects("12:60:00", 1083)
        rejects("12:00", 1083)

        // timetz normalised to UTC and wrapped into one day.
        #expect(try text("23:00:00-02", 1266) == .timeTZ(3_600_000_000))
        #expect(try text("01:00:00+02", 1266) == .timeTZ(82_800_000_000))
        #expect(try text("10:23:54.123+02", 1266) == .timeTZ(30_234_123_000))
        // Exactly 24:00 UTC is the end of the day, not midnight (Debezium PostgresTimeBoundary).
        #expect(try text("24:00:00+00", 1266) == .timeTZ(86_400_000_000))
        #expect(try text("24:00:00+02", 1266) == .timeTZ(79_200_000_000))
        rejects("10:23:54", 1266)
    }

    @Test func parsesIntervalsInPostgresStyle() throws {
        #expect(try text("00:00:00", 1186) == .interval(months: 0, days: 0, microseconds: 0))
        #expect(try text("1 day", 1186) == .interval(months: 0, days: 1, microseconds: 0))
        #expect(try text("3 mons", 1186) == .interval(months: 3, days: 0, microseconds: 0))
        #expect(
            try text("-1 years -2 mons +3 days -04:05:06.789", 1186)
                == .interval(months: -14, days: 3, microseconds: -14_706_789_000)
        )
        #expect(try text("178956970 years 7 mons", 1186) == .interval(months: .max, days: 0, microseconds: 0))
        #expect(try text("-178956970 years -8 mons", 1186) == .interval(months: .min, days: 0, microseconds: 0))
        #expect(try text("2562047788:00:54.775807", 1186) == .interval(months: 0, days: 0, microseconds: .max))
        #expect(try text("-2562047788:00:54.775808", 1186) == .interval(months: 0, days: 0, microseconds: .min))
        #expect(try text("-00:00:00.000001", 1186) == .interval(months: 0, days: 0, microseconds: -1))
        rejects("@ 1 day", 1186)  // postgres_verbose
        rejects("P1D", 1186)  // iso_8601
        rejects("1 week", 1186)
        rejects("178956971 years", 1186)
        rejects("2562047788:00:54.775808", 1186)
        rejects("", 1186)
    }

    @Test func parsesNumbersMoneyAndBooleans() throws {
        #expect(try text("9223372036854775807", 20) == .int(.max))
        #expect(try text("-9223372036854775808", 20) == .int(.min))
        rejects("9223372036854775808", 20)
        rejects("-", 23)
        rejects("", 23)
        rejects("1.5", 23)

        #expect(try text("1e-300", 701) == .double(1e-300))
        #expect(try text("-Infinity", 701) == .double(-.infinity))
        rejects("0x1p3", 701)
        rejects("nan", 701)

        #expect(try text("-0.000001234500", 1700) == .decimal("-0.000001234500"))
        #expect(try text("Infinity", 1700) == .decimal("Infinity"))
        rejects("1e5", 1700)
        rejects("12.", 1700)
        rejects(".5", 1700)

        #expect(try text("$0.05", 790) == .decimal("0.05"))
        #expect(try text("-$1,234.56", 790) == .decimal("-1234.56"))
        #expect(try text("$1,234,567.89", 790) == .decimal("1234567.89"))
        #expect(try text("($1.00)", 790) == .decimal("-1.00"))
        #expect(try text("-$0.00", 790) == .decimal("0.00"))
        rejects("€1,00", 790)
        rejects("$", 790)

        #expect(try text("t", 16) == .bool(true))
        rejects("true", 16)
    }

    @Test func parsesByteaAndBits() throws {
        #expect(try text(#"\x"#, 17) == .bytes([]))
        #expect(try text(#"\xDEADbeef"#, 17) == .bytes([0xDE, 0xAD, 0xBE, 0xEF]))
        // Escape format (bytea_output = escape).
        #expect(try text(#"a\\b\001\377"#, 17) == .bytes([0x61, 0x5C, 0x62, 0x01, 0xFF]))
        rejects(#"\x0"#, 17)
        rejects(#"\x0g"#, 17)
        rejects(#"\400"#, 17)
        rejects(#"a\b"#, 17)

        #expect(try text("0101", 1560, typmod: 4) == .bits([false, true, false, true]))
        rejects("012", 1560)
    }

    @Test func parsesArrays() throws {
        #expect(
            try text(#"{"a,b",c,"",NULL,null,"NULL"}"#, 1009)
                == .array([.string("a,b"), .string("c"), .string(""), .null, .null, .string("NULL")])
        )
        #expect(try text(#"{ 1 , 2 }"#, 1007) == .array([.int(1), .int(2)]))
        #expect(try text("[1:2][1:1]={{1},{2}}", 1007) == .array([.array([.int(1)]), .array([.int(2)])]))
        #expect(try text(#"{{"x"},{NULL}}"#, 1009) == .array([.array([.string("x")]), .array([.null])]))
        #expect(try text(#"{a\,b,"q\\"}"#, 1009) == .array([.string("a,b"), .string("q\\")]))
        // box[] uses ';' as its delimiter because boxes contain commas.
        #expect(
            try text("{(1,1),(0,0);(2,2),(1,1)}", 1020) == .array([.string("(1,1),(0,0)"), .string("(2,2),(1,1)")])
        )
        rejects("{1,2", 1007)
        rejects("{1,,2}", 1007)
        rejects(#"{"unterminated}"#, 1009)
        rejects("{1}x", 1007)
        rejects("{a}", 1007)
        rejects("{{{{{{{1}}}}}}}", 1007)
        rejects("[1:2]{1,2}", 1007)
    }

    @Test func decodesBinaryValues() throws {
        func binary(_ bytes: [UInt8], _ oid: UInt32) throws -> Value {
            try decoder.decode(.binary(ByteBuffer(bytes: bytes)), typeOID: oid, typmod: -1, column: "c")
        }
        // numeric 12.5: ndigits 2, weight 0, sign +, dscale 1, digits 12 and 5000.
        #expect(try binary([0, 2, 0, 0, 0, 0, 0, 1, 0, 12, 0x13, 0x88], 1700) == .decimal("12.5"))
        // numeric -0.0012: ndigits 1, weight -1, sign −, dscale 4, digit 12.
        #expect(try binary([0, 1, 0xFF, 0xFF, 0x40, 0, 0, 4, 0, 12], 1700) == .decimal("-0.0012"))
        // numeric 100000000: ndigits 1, weight 2, sign +, dscale 0, digit 1.
        #expect(try binary([0, 1, 0, 2, 0, 0, 0, 0, 0, 1], 1700) == .decimal("100000000"))
        // numeric NaN.
        #expect(try binary([0, 0, 0, 0, 0xC0, 0, 0, 0], 1700) == .decimal("NaN"))
        // int4[] {1,NULL,3}: 1 dimension, has nulls, element int4, size 3, lower bound 1, then elements.
        #expect(
            try binary(
                [
                    0, 0, 0, 1,  // ndim 1
                    0, 0, 0, 1,  // has nulls
                    0, 0, 0, 23,  // element type int4
                    0, 0, 0, 3, 0, 0, 0, 1,  // size 3, lower bound 1
                    0, 0, 0, 4, 0, 0, 0, 1,  // length 4, 1
                    0xFF, 0xFF, 0xFF, 0xFF,  // NULL
                    0, 0, 0, 4, 0, 0, 0, 3,  // length 4, 3
                ],
                1007
            ) == .array([.int(1), .null, .int(3)])
        )
        // timetz 10:00 at zone −7200 s west (= +02): 08:00 UTC.
        #expect(try binary([0, 0, 0, 8, 0x61, 0xC4, 0x68, 0, 0xFF, 0xFF, 0xE3, 0xE0], 1266) == .timeTZ(28_800_000_000))
        // interval: 1 µs, 2 days, 3 months.
        #expect(
            try binary([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3], 1186)
                == .interval(months: 3, days: 2, microseconds: 1)
        )
        // timestamp infinity is Int64.max.
        #expect(try binary([0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], 1114) == .infinity(positive: true))
        // bit(3) 101: length 3, one byte 1010_0000.
        #expect(try binary([0, 0, 0, 3, 0xA0], 1560) == .bits([true, false, true]))
        // Wrong sizes and pass-through types are typed errors.
        #expect(throws: PGOutputDecodingError.self) { try binary([0, 0, 1], 23) }
        #expect(throws: PGOutputDecodingError.self) { try binary([0, 0, 0, 1, 0], 23) }
        let unsupported = #expect(throws: PGOutputDecodingError.self) { try binary([1, 2], 869) }
        #expect(unsupported?.code == .unsupportedFormat)
    }
}

@Suite struct PGTypeRegistryTests {
    @Test func mapsNumericTypmods() {
        let registry = PGTypeRegistry()
        #expect(registry.columnType(oid: 1700, typmod: -1).kind == .decimal(precision: nil, scale: nil))
        #expect(registry.columnType(oid: 1700, typmod: (10 << 16 | 2) + 4).kind == .decimal(precision: 10, scale: 2))
        #expect(
            registry.columnType(oid: 1700, typmod: (1000 << 16 | 1000) + 4).kind
                == .decimal(precision: 1000, scale: 1000)
        )
        #expect(registry.columnType(oid: 1700, typmod: 329_730).kind == .decimal(precision: 5, scale: -2))
        #expect(registry.columnType(oid: 790, typmod: -1).kind == .decimal(precision: nil, scale: 2))
        #expect(registry.columnType(oid: 1083, typmod: 0).kind == .time(precision: 0))
        #expect(registry.columnType(oid: 1562, typmod: -1).kind == .bits(length: nil))
    }

    @Test func namesUnknownAndUserTypes() {
        var registry = PGTypeRegistry()
        #expect(registry.columnType(oid: 99_999, typmod: -1) == ColumnType(.unknown, typeName: "oid:99999"))
        registry.learn(.init(oid: 99_999, namespace: "public", name: "hstore"))
        #expect(registry.columnType(oid: 99_999, typmod: -1) == ColumnType(.unknown, typeName: "hstore"))
        registry.register(oid: 99_999, name: "hstore", kind: .other)
        #expect(registry.typeName(oid: 99_999) == "hstore")
        registry.register(oid: 99_998, name: "_hstore", kind: .array(elementOID: 99_999))
        #expect(registry.columnType(oid: 99_998, typmod: -1) == ColumnType(.array(.unknown), typeName: "_hstore"))
        #expect(registry.columnType(oid: 1009, typmod: -1) == ColumnType(.array(.string), typeName: "_text"))
    }

    @Test func domainsDecodeAsTheirBaseTypeAndCyclesEnd() throws {
        var registry = PGTypeRegistry()
        registry.register(oid: 50_000, name: "amount", kind: .domain(baseOID: 1700, baseTypmod: (12 << 16 | 3) + 4))
        registry.register(oid: 50_001, name: "positive_amount", kind: .domain(baseOID: 50_000, baseTypmod: -1))
        #expect(
            registry.columnType(oid: 50_001, typmod: -1)
                == ColumnType(.decimal(precision: 12, scale: 3), typeName: "positive_amount")
        )
        registry.register(oid: 50_002, name: "loop", kind: .domain(baseOID: 50_002, baseTypmod: -1))
        #expect(registry.columnType(oid: 50_002, typmod: -1).kind == .unknown)
        let decoder = PGValueDecoder(registry: registry)
        #expect(try decoder.decode(text: "1.500", typeOID: 50_001) == .decimal("1.500"))
        #expect(try decoder.decode(text: "anything", typeOID: 50_002) == .string("anything"))
    }
}
