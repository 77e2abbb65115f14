import Foundation
import Testing
import TributaryCore

@testable import EventFormat

/// One column per test: the field's Connect schema and the exact JSON of its value, for every
/// `ColumnType.Kind` and handling mode (EVENT-FORMAT.md c.8).
@Suite struct ValueEncodingTests {
    typealias Configure = (inout FormatOptions) -> Void

    /// Checks the field schema (as parsed JSON) and the value's raw JSON text.
    private func check(
        _ kind: ColumnType.Kind,
        typeName: String = "t",
        optional: Bool = true,
        _ value: Value,
        schema expectedSchema: [String: Any],
        json expectedJSON: String,
        configure: Configure = { _ in },
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let result = try Fixture.singleColumn(
            kind,
            typeName: typeName,
            optional: optional,
            value: value,
            configure: configure
        )
        var expected = expectedSchema
        expected["field"] = "c"
        if expected["optional"] == nil { expected["optional"] = optional }
        #expect(
            NSDictionary(dictionary: try #require(result.schema as? [String: Any]))
                == NSDictionary(dictionary: expected),
            "schema \(result.schema)",
            sourceLocation: sourceLocation
        )
        #expect(result.valueJSON == expectedJSON, sourceLocation: sourceLocation)
    }

    // MARK: Numbers

    @Test func encodesIntegersBooleansAndFloats() throws {
        try check(.boolean, .bool(true), schema: ["type": "boolean"], json: "true")
        try check(.int8, .int(-5), schema: ["type": "int8"], json: "-5")
        try check(.int16, .int(-32_768), schema: ["type": "int16"], json: "-32768")
        try check(.int32, .int(123_456), schema: ["type": "int32"], json: "123456")
        try check(.int64, .int(1_234_567_890_123), schema: ["type": "int64"], json: "1234567890123")
        try check(.float32, .double(3.3), schema: ["type": "float"], json: "3.3")
        try check(.float64, .double(4.44), schema: ["type": "double"], json: "4.44")
        try check(.float64, .double(.nan), schema: ["type": "double"], json: "\"NaN\"")
        try check(.float64, .double(-.infinity), schema: ["type": "double"], json: "\"-Infinity\"")
        try check(.float32, .double(.infinity), schema: ["type": "float"], json: "\"Infinity\"")
        try check(.float64, .double(1e21), schema: ["type": "double"], json: "1.0E21")
    }

    // MARK: Decimals

    private let decimal102: [String: Any] = [
        "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
        "parameters": ["scale": "2", "connect.decimal.precision": "10"],
    ]

    @Test func encodesPreciseDecimalsAsUnscaledBase64() throws {
        // EVENT-FORMAT.md c.3: NUMERIC(10,2) 1234.56 → "AeJA" (unscaled 0x01E240).
        try check(
            .decimal(precision: 10, scale: 2),
            typeName: "numeric",
            .decimal("1234.56"),
            schema: decimal102,
            json: "\"AeJA\""
        )
        // The scale is applied first: 1234.5 is 123450 unscaled.
        try check(
            .decimal(precision: 10, scale: 2),
            typeName: "numeric",
            .decimal("1234.5"),
            schema: decimal102,
            json: "\"AeI6\""
        )
        try check(
            .decimal(precision: 10, scale: 2),
            typeName: "numeric",
            .decimal("-1234.56"),
            schema: decimal102,
            json: "\"/h3A\""
        )
        // NaN cannot be a Connect Decimal: null (Debezium stops the connector instead).
        try check(
            .decimal(precision: 10, scale: 2),
            typeName: "numeric",
            .decimal("NaN"),
            schema: decimal102,
            json: "null"
        )
    }

    @Test func encodesUnconstrainedNumericAsVariableScaleDecimal() throws {
        let schema: [String: Any] = [
            "type": "struct", "name": "io.debezium.data.VariableScaleDecimal", "version": 1,
            "doc": "Variable scaled decimal",
            "fields": [
                ["type": "int32", "optional": false, "field": "scale"],
                ["type": "bytes", "optional": false, "field": "value"],
            ],
        ]
        try check(
            .decimal(precision: nil, scale: nil),
            typeName: "numeric",
            .decimal("1.500"),
            schema: schema,
            json: "{\"scale\":1,\"value\":\"Dw==\"}"
        )
        try check(
            .decimal(precision: nil, scale: nil),
            typeName: "numeric",
            .decimal("100"),
            schema: schema,
            json: "{\"scale\":0,\"value\":\"ZA==\"}"
        )
        try check(
            .decimal(precision: nil, scale: nil),
            typeName: "numeric",
            .decimal("Infinity"),
            schema: schema,
            json: "null"
        )
    }

    @Test func encodesDecimalsInStringMode() throws {
        let string: Configure = { $0.decimalHandling = .string }
        try check(
            .decimal(precision: 10, scale: 2),
            typeName: "numeric",
            .decimal("1234.5"),
            schema: ["type": "string"],
            json: "\"1234.50\"",
            configure: string
        )
        try check(
            .decimal(precision: nil, scale: nil),
            typeName: "numeric",
            .decimal("1.500"),
            schema: ["type": "string"],
            json: "\"1.500\"",
            configure: string
        )
        // `SpecialValueDecimal.toString()` is the enum constant name.
        try check(
            .decimal(precision: nil, scale: nil),
            typeName: "numeric",
            .decimal("NaN"),
            schema: ["type": "string"],
            json: "\"NAN\"",
            configure: string
        )
        try check(
            .decimal(precision: nil, scale: nil),
            typeName: "numeric",
            .decimal("-Infinity"),
            schema: ["type": "string"],
            json: "\"NEGATIVE_INFINITY\"",
            configure: string
        )
    }

    @Test func encodesDecimalsInDoubleMode() throws {
        let double: Configure = { $0.decimalHandling = .double }
        try check(
            .decimal(precision: 10, scale: 2),
            typeName: "numeric",
            .decimal("1234.56"),
            schema: ["type": "double"],
            json: "1234.56",
            configure: double
        )
        try check(
            .decimal(precision: nil, scale: nil),
            typeName: "numeric",
            .decimal("NaN"),
            schema: ["type": "double"],
            json: "\"NaN\"",
            configure: double
        )
    }

    @Test func encodesMoneyWithFractionDigitsAndNoPrecision() throws {
        let schema: [String: Any] = [
            "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
            "parameters": ["scale": "2"],
        ]
        // $1234.11 → unscaled 123411 = 0x01E213.
        try check(
            .decimal(precision: nil, scale: 2),
            typeName: "money",
            .decimal("1234.11"),
            schema: schema,
            json: "\"AeIT\""
        )
        try check(
            .decimal(precision: nil, scale: 2),
            typeName: "money",
            .decimal("-1234.11"),
            schema: ["type": "string"],
            json: "\"-1234.11\"",
            configure: { $0.decimalHandling = .string }
        )
    }

    // MARK: Strings and binary

    @Test func encodesStringSemanticTypes() throws {
        try check(.string, .string("some text"), schema: ["type": "string"], json: "\"some text\"")
        try check(
            .json,
            .string("{\"a\": [1, 2]}"),
            schema: ["type": "string", "name": "io.debezium.data.Json", "version": 1],
            json: "\"{\\\"a\\\": [1, 2]}\""
        )
        try check(
            .xml,
            .string("<a/>"),
            schema: ["type": "string", "name": "io.debezium.data.Xml", "version": 1],
            json: "\"<a/>\""
        )
        try check(
            .uuid,
            .string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            schema: ["type": "string", "name": "io.debezium.data.Uuid", "version": 1],
            json: "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""
        )
        try check(
            .enumeration(labels: ["sad", "ok", "happy"]),
            .string("ok"),
            schema: [
                "type": "string", "name": "io.debezium.data.Enum", "version": 1,
                "parameters": ["allowed": "sad,ok,happy"],
            ],
            json: "\"ok\""
        )
        // Unmapped types pass through as their text.
        try check(.unknown, typeName: "int4range", .string("[1,5)"), schema: ["type": "string"], json: "\"[1,5)\"")
    }

    @Test func encodesBinaryInEveryMode() throws {
        let data: Value = .bytes([0x01, 0x02, 0x03])
        try check(.bytes, data, schema: ["type": "bytes"], json: "\"AQID\"")
        try check(
            .bytes,
            data,
            schema: ["type": "string"],
            json: "\"AQID\"",
            configure: { $0.binaryHandling = .base64 }
        )
        try check(
            .bytes,
            .bytes([0xFB, 0xFF]),
            schema: ["type": "string"],
            json: "\"-_8=\"",
            configure: { $0.binaryHandling = .base64URLSafe }
        )
        try check(.bytes, data, schema: ["type": "string"], json: "\"010203\"", configure: { $0.binaryHandling = .hex })
    }

    /// Debezium's `bitbin_table` expectations (`AbstractRecordsProducerTest`).
    @Test func encodesBitStringsLikeDebezium() throws {
        func bits(_ s: String) -> Value { .bits(s.map { $0 == "1" }) }
        func schema(_ length: Int) -> [String: Any] {
            ["type": "bytes", "name": "io.debezium.data.Bits", "version": 1, "parameters": ["length": String(length)]]
        }
        try check(.bits(length: 1), bits("1"), schema: ["type": "boolean"], json: "true")
        try check(.bits(length: 1), bits("0"), schema: ["type": "boolean"], json: "false")
        try check(.bits(length: 2), bits("11"), schema: schema(2), json: "\"Aw==\"")  // {3}
        try check(.bits(length: 7), bits("1000000"), schema: schema(7), json: "\"QA==\"")  // {64}
        try check(.bits(length: 2), bits("00"), schema: schema(2), json: "\"\"")  // {}
        try check(.bits(length: 24), bits("000000110000001000000001"), schema: schema(24), json: "\"AQID\"")
        try check(
            .bits(length: 64),
            bits("1" + String(repeating: "0", count: 63)),
            schema: schema(64),
            json: "\"AAAAAAAAAIA=\""
        )  // {0,0,0,0,0,0,0,-128}
        try check(
            .bits(length: nil),
            bits("111011010001000110000001000000001"),
            schema: schema(Int(Int32.max)),
            json: "\"AQIj2gE=\""
        )  // {1,2,35,-38,1}
    }

    // MARK: Temporal, per time.precision.mode

    private let micros133051: Int64 = (13 * 3_600 + 51 * 60 + 30) * 1_000_000
    private let ts20161104: Int64 = 1_478_267_490_123_456  // 2016-11-04T13:51:30.123456

    @Test func encodesTemporalTypesInAdaptiveMode() throws {
        try check(
            .date,
            .date(17_109),
            schema: ["type": "int32", "name": "io.debezium.time.Date", "version": 1],
            json: "17109"
        )
        try check(
            .date,
            .infinity(positive: true),
            schema: ["type": "int32", "name": "io.debezium.time.Date", "version": 1],
            json: "-2147472692"
        )
        try check(
            .date,
            .infinity(positive: false),
            schema: ["type": "int32", "name": "io.debezium.time.Date", "version": 1],
            json: "-2147472691"
        )
        try check(
            .time(precision: 3),
            .time(micros133051 + 123_000),
            schema: ["type": "int32", "name": "io.debezium.time.Time", "version": 1],
            json: "49890123"
        )
        try check(
            .time(precision: nil),
            .time(micros133051),
            schema: ["type": "int64", "name": "io.debezium.time.MicroTime", "version": 1],
            json: "49890000000"
        )
        try check(
            .time(precision: nil),
            .time(86_400_000_000),
            schema: ["type": "int64", "name": "io.debezium.time.MicroTime", "version": 1],
            json: "86400000000"
        )
        try check(
            .timestamp(precision: 3),
            .timestamp(ts20161104),
            schema: ["type": "int64", "name": "io.debezium.time.Timestamp", "version": 1],
            json: "1478267490123"
        )
        try check(
            .timestamp(precision: 6),
            .timestamp(ts20161104),
            schema: ["type": "int64", "name": "io.debezium.time.MicroTimestamp", "version": 1],
            json: "1478267490123456"
        )
        // PostgreSQL `infinity` TIMESTAMP: `PGStatement.DATE_POSITIVE_INFINITY` read as µs.
        try check(
            .timestamp(precision: nil),
            .infinity(positive: true),
            schema: ["type": "int64", "name": "io.debezium.time.MicroTimestamp", "version": 1],
            json: "9223372036825200000"
        )
        try check(
            .timestamp(precision: 0),
            .infinity(positive: false),
            schema: ["type": "int64", "name": "io.debezium.time.Timestamp", "version": 1],
            json: "-9223372036832400"
        )
        try check(
            .timestampTZ,
            .timestampTZ(ts20161104 - 2 * 3_600_000_000),
            schema: ["type": "string", "name": "io.debezium.time.ZonedTimestamp", "version": 1],
            json: "\"2016-11-04T11:51:30.123456Z\""
        )
        try check(
            .timestampTZ,
            .timestampTZ(1_585_741_862_000_000),
            schema: ["type": "string", "name": "io.debezium.time.ZonedTimestamp", "version": 1],
            json: "\"2020-04-01T11:51:02.000000Z\""
        )
        try check(
            .timestampTZ,
            .infinity(positive: false),
            schema: ["type": "string", "name": "io.debezium.time.ZonedTimestamp", "version": 1],
            json: "\"-infinity\""
        )
        try check(
            .timeTZ,
            .timeTZ((11 * 3_600 + 51 * 60 + 30) * 1_000_000 + 123_789),
            schema: ["type": "string", "name": "io.debezium.time.ZonedTime", "version": 1],
            json: "\"11:51:30.123789Z\""
        )
        try check(
            .timeTZ,
            .timeTZ((11 * 3_600 + 51 * 60 + 30) * 1_000_000 + 123_000),
            schema: ["type": "string", "name": "io.debezium.time.ZonedTime", "version": 1],
            json: "\"11:51:30.123Z\""
        )
        // End of day stays 24:00 (Debezium's PostgresTimeBoundary), it does not wrap to midnight.
        try check(
            .timeTZ,
            .timeTZ(86_400_000_000),
            schema: ["type": "string", "name": "io.debezium.time.ZonedTime", "version": 1],
            json: "\"24:00:00Z\""
        )
    }

    @Test func encodesTemporalTypesInOtherModes() throws {
        let atm: Configure = { $0.timePrecision = .adaptiveTimeMicroseconds }
        try check(
            .time(precision: 0),
            .time(micros133051),
            schema: ["type": "int64", "name": "io.debezium.time.MicroTime", "version": 1],
            json: "49890000000",
            configure: atm
        )
        try check(
            .timestamp(precision: 3),
            .timestamp(ts20161104),
            schema: ["type": "int64", "name": "io.debezium.time.Timestamp", "version": 1],
            json: "1478267490123",
            configure: atm
        )

        let connect: Configure = { $0.timePrecision = .connect }
        try check(
            .date,
            .date(17_109),
            schema: ["type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1],
            json: "17109",
            configure: connect
        )
        try check(
            .time(precision: 6),
            .time(micros133051 + 123_456),
            schema: ["type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1],
            json: "49890123",
            configure: connect
        )
        try check(
            .timestamp(precision: 6),
            .timestamp(ts20161104),
            schema: ["type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1],
            json: "1478267490123",
            configure: connect
        )
        // Before the epoch, milliseconds are floored (`Instant.toEpochMilli`).
        try check(
            .timestamp(precision: 6),
            .timestamp(-1),
            schema: ["type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1],
            json: "-1",
            configure: connect
        )

        let iso: Configure = { $0.timePrecision = .isostring }
        try check(
            .date,
            .date(17_109),
            schema: ["type": "string", "name": "io.debezium.time.IsoDate", "version": 1],
            json: "\"2016-11-04Z\"",
            configure: iso
        )
        try check(
            .date,
            .infinity(positive: true),
            schema: ["type": "string", "name": "io.debezium.time.IsoDate", "version": 1],
            json: "\"-5877611-06-21Z\"",
            configure: iso
        )
        try check(
            .time(precision: 3),
            .time(micros133051 + 123_000),
            schema: ["type": "string", "name": "io.debezium.time.IsoTime", "version": 1],
            json: "\"13:51:30.123Z\"",
            configure: iso
        )
        try check(
            .time(precision: 6),
            .time(86_400_000_000),
            schema: ["type": "string", "name": "io.debezium.time.IsoTime", "version": 1],
            json: "\"00:00:00Z\"",
            configure: iso
        )
        try check(
            .timestamp(precision: 6),
            .timestamp(ts20161104),
            schema: ["type": "string", "name": "io.debezium.time.IsoTimestamp", "version": 1],
            json: "\"2016-11-04T13:51:30.123456Z\"",
            configure: iso
        )
        try check(
            .timestamp(precision: 6),
            .infinity(positive: true),
            schema: ["type": "string", "name": "io.debezium.time.IsoTimestamp", "version": 1],
            json: "\"+294247-01-10T04:00:25.2Z\"",
            configure: iso
        )
        // TIMESTAMPTZ stays ZonedTimestamp in every mode.
        try check(
            .timestampTZ,
            .infinity(positive: true),
            schema: ["type": "string", "name": "io.debezium.time.ZonedTimestamp", "version": 1],
            json: "\"infinity\"",
            configure: iso
        )

        let nanos: Configure = { $0.timePrecision = .nanoseconds }
        try check(
            .time(precision: 6),
            .time(1),
            schema: ["type": "int64", "name": "io.debezium.time.NanoTime", "version": 1],
            json: "1000",
            configure: nanos
        )
        try check(
            .timestamp(precision: 6),
            .timestamp(ts20161104),
            schema: ["type": "int64", "name": "io.debezium.time.NanoTimestamp", "version": 1],
            json: "1478267490123456000",
            configure: nanos
        )
        let microseconds: Configure = { $0.timePrecision = .microseconds }
        try check(
            .timestamp(precision: 0),
            .timestamp(ts20161104),
            schema: ["type": "int64", "name": "io.debezium.time.MicroTimestamp", "version": 1],
            json: "1478267490123456",
            configure: microseconds
        )
    }

    @Test func encodesIntervalsInBothModes() throws {
        let value = Value.interval(months: 14, days: 3, microseconds: (4 * 3_600 + 5 * 60 + 6) * 1_000_000 + 780_000)
        try check(
            .interval,
            value,
            schema: ["type": "int64", "name": "io.debezium.time.MicroDuration", "version": 1],
            json: "37091106780000"
        )
        try check(
            .interval,
            value,
            schema: ["type": "string", "name": "io.debezium.time.Interval", "version": 1],
            json: "\"P1Y2M3DT4H5M6.78S\"",
            configure: { $0.intervalHandling = .string }
        )
    }

    // MARK: Arrays, NULLs, TOAST

    @Test func encodesArraysWithOptionalItems() throws {
        try check(
            .array(.int32),
            typeName: "_int4",
            .array([.int(1), .null, .int(3)]),
            schema: ["type": "array", "items": ["type": "int32", "optional": true]],
            json: "[1,null,3]"
        )
        try check(
            .array(.string),
            typeName: "_text",
            .array([.string("a\"b"), .string("c")]),
            schema: ["type": "array", "items": ["type": "string", "optional": true]],
            json: "[\"a\\\"b\",\"c\"]"
        )
        try check(
            .array(.timestampTZ),
            typeName: "_timestamptz",
            .array([.timestampTZ(1_585_741_862_000_000)]),
            schema: [
                "type": "array",
                "items": [
                    "type": "string", "optional": true,
                    "name": "io.debezium.time.ZonedTimestamp", "version": 1,
                ],
            ],
            json: "[\"2020-04-01T11:51:02.000000Z\"]"
        )
        try check(
            .array(.decimal(precision: 5, scale: 1)),
            typeName: "_numeric",
            .array([.decimal("1.5")]),
            schema: [
                "type": "array",
                "items": [
                    "type": "bytes", "optional": true,
                    "name": "org.apache.kafka.connect.data.Decimal", "version": 1,
                    "parameters": ["scale": "1", "connect.decimal.precision": "5"],
                ],
            ],
            json: "[\"Dw==\"]"
        )
        try check(
            .array(.array(.int64)),
            typeName: "_int8",
            .array([.array([.int(1)]), .array([])]),
            schema: [
                "type": "array",
                "items": [
                    "type": "array", "optional": true,
                    "items": ["type": "int64", "optional": true],
                ],
            ],
            json: "[[1],[]]"
        )
    }

    @Test func writesNullForOptionalAndFallbackForRequiredColumns() throws {
        try check(.int32, optional: true, .null, schema: ["type": "int32"], json: "null")
        // NOT NULL columns absent from a REPLICA IDENTITY DEFAULT before image: Debezium's fallbacks.
        try check(.int32, optional: false, .null, schema: ["type": "int32"], json: "0")
        try check(.string, optional: false, .null, schema: ["type": "string"], json: "\"\"")
        try check(
            .decimal(precision: 10, scale: 2),
            typeName: "numeric",
            optional: false,
            .null,
            schema: decimal102,
            json: "\"AA==\""
        )
        try check(
            .timestampTZ,
            optional: false,
            .null,
            schema: ["type": "string", "name": "io.debezium.time.ZonedTimestamp", "version": 1],
            json: "\"1970-01-01T00:00:00Z\""
        )
        try check(
            .array(.int32),
            optional: false,
            .null,
            schema: ["type": "array", "items": ["type": "int32", "optional": true]],
            json: "[]"
        )
    }

    @Test func writesThePlaceholderForUnchangedToastValues() throws {
        try check(.string, .unavailable, schema: ["type": "string"], json: "\"__debezium_unavailable_value\"")
        try check(
            .json,
            .unavailable,
            schema: ["type": "string", "name": "io.debezium.data.Json", "version": 1],
            json: "\"__debezium_unavailable_value\""
        )
        // BYTEA: the placeholder's UTF-8 bytes, base64 in JSON.
        let placeholderBase64 = "\"" + Data("__debezium_unavailable_value".utf8).base64EncodedString() + "\""
        try check(.bytes, .unavailable, schema: ["type": "bytes"], json: placeholderBase64)
        try check(
            .bytes,
            .unavailable,
            schema: ["type": "string"],
            json: "\"__debezium_unavailable_value\"",
            configure: { $0.binaryHandling = .hex }
        )
        try check(
            .array(.string),
            typeName: "_text",
            .unavailable,
            schema: ["type": "array", "items": ["type": "string", "optional": true]],
            json: "[\"__debezium_unavailable_value\"]"
        )
        try check(
            .array(.int32),
            typeName: "_int4",
            .unavailable,
            schema: ["type": "array", "items": ["type": "int32", "optional": true]],
            json: "[" + "__debezium_unavailable_value".utf8.map { String($0) }.joined(separator: ",") + "]"
        )
        try check(
            .string,
            .unavailable,
            schema: ["type": "string"],
            json: "\"to\\\"ast\"",
            configure: { $0.unavailableValuePlaceholder = "to\"ast" }
        )
    }

    @Test func rejectsValuesThatDoNotFitTheColumnType() throws {
        let table = TableSchema(
            id: TableID(schema: "public", name: "t"),
            columns: [
                Fixture.column("id", .int32, "int4", optional: false, key: true), Fixture.column("n", .int32, "int4"),
            ]
        )
        var formatter = DebeziumJSONFormatter(options: Fixture.options())
        var records: [FormattedRecord] = [FormattedRecord(topic: "existing", key: nil, value: nil)]
        let error = try #require(throws: EventFormatError.self) {
            try formatter.format(Fixture.event(.create, table: table, after: [.int(1), .string("x")]), into: &records)
        }
        #expect(error.code == .valueTypeMismatch)
        #expect(error.column == "n")
        #expect(error.table == TableID(schema: "public", name: "t"))
        #expect(!error.isRetriable)
        #expect(records.count == 1, "nothing appended on error")

        let decimalTable = TableSchema(
            id: TableID(schema: "public", name: "d"),
            columns: [Fixture.column("d", .decimal(precision: 5, scale: 1), "numeric")]
        )
        let bad = try #require(throws: EventFormatError.self) {
            try formatter.format(Fixture.event(.create, table: decimalTable, after: [.decimal("1x")]), into: &records)
        }
        #expect(bad.code == .invalidDecimal)
        #expect(bad.offendingBytesHex == "3178")
        let overflow = try #require(throws: EventFormatError.self) {
            try formatter.format(Fixture.event(.create, table: decimalTable, after: [.decimal("1.25")]), into: &records)
        }
        #expect(overflow.code == .decimalScaleOverflow)
        let width = try #require(throws: EventFormatError.self) {
            try formatter.format(Fixture.event(.create, table: decimalTable, after: []), into: &records)
        }
        #expect(width.code == .rowWidthMismatch)
        let missing = try #require(throws: EventFormatError.self) {
            try formatter.format(Fixture.event(.update, table: decimalTable, after: nil), into: &records)
        }
        #expect(missing.code == .missingRowImage)
        #expect(records.count == 1)
    }
}
