import NIOCore
import PGOutput
import Testing
import TributaryCore

/// One table with every type PGTypeRegistry maps (`fixtures/pgoutput/pg15/all-types.sql`), five rows,
/// captured with TimeZone Asia/Kolkata. Every expected value below is what the capture server's SELECT
/// returned (`all-types.expected`; temporal values via `extract(epoch …)`).
@Suite struct AllTypesTests {
    static let relationOID: UInt32 = 16676
    static let moodOID: UInt32 = 16664
    static let moodArrayOID: UInt32 = 16663
    static let posintOID: UInt32 = 16672
    static let priceOID: UInt32 = 16675

    /// What the source registers after reading pg_type / pg_enum.
    static var catalogRegistry: PGTypeRegistry {
        var registry = PGTypeRegistry()
        registry.register(oid: moodOID, name: "mood", kind: .enumeration(labels: ["sad", "ok", "happy"]))
        registry.register(oid: moodArrayOID, name: "_mood", kind: .array(elementOID: moodOID))
        registry.register(oid: posintOID, name: "posint", kind: .domain(baseOID: 23, baseTypmod: -1))
        registry.register(oid: priceOID, name: "price", kind: .domain(baseOID: 1700, baseTypmod: 655366))
        return registry
    }

    static let expectedTypes: [(String, ColumnType)] = [
        ("id", .init(.int32, typeName: "int4")),
        ("c_bool", .init(.boolean, typeName: "bool")),
        ("c_int2", .init(.int16, typeName: "int2")),
        ("c_int4", .init(.int32, typeName: "int4")),
        ("c_int8", .init(.int64, typeName: "int8")),
        ("c_oid", .init(.int64, typeName: "oid")),
        ("c_float4", .init(.float32, typeName: "float4")),
        ("c_float8", .init(.float64, typeName: "float8")),
        ("c_numeric", .init(.decimal(precision: 10, scale: 2), typeName: "numeric")),
        ("c_numeric_unc", .init(.decimal(precision: nil, scale: nil), typeName: "numeric")),
        ("c_numeric_neg", .init(.decimal(precision: 5, scale: -2), typeName: "numeric")),
        ("c_money", .init(.decimal(precision: nil, scale: 2), typeName: "money")),
        ("c_text", .init(.string, typeName: "text")),
        ("c_varchar", .init(.string, typeName: "varchar")),
        ("c_bpchar", .init(.string, typeName: "bpchar")),
        ("c_name", .init(.string, typeName: "name")),
        ("c_char", .init(.string, typeName: "char")),
        ("c_bytea", .init(.bytes, typeName: "bytea")),
        ("c_uuid", .init(.uuid, typeName: "uuid")),
        ("c_json", .init(.json, typeName: "json")),
        ("c_jsonb", .init(.json, typeName: "jsonb")),
        ("c_xml", .init(.xml, typeName: "xml")),
        ("c_date", .init(.date, typeName: "date")),
        ("c_time", .init(.time(precision: nil), typeName: "time")),
        ("c_time3", .init(.time(precision: 3), typeName: "time")),
        ("c_timetz", .init(.timeTZ, typeName: "timetz")),
        ("c_timestamp", .init(.timestamp(precision: nil), typeName: "timestamp")),
        ("c_timestamp0", .init(.timestamp(precision: 0), typeName: "timestamp")),
        ("c_timestamptz", .init(.timestampTZ, typeName: "timestamptz")),
        ("c_interval", .init(.interval, typeName: "interval")),
        ("c_bit", .init(.bits(length: 4), typeName: "bit")),
        ("c_varbit", .init(.bits(length: 16), typeName: "varbit")),
        ("c_bit1", .init(.bits(length: 1), typeName: "bit")),
        ("c_inet", .init(.string, typeName: "inet")),
        ("c_cidr", .init(.string, typeName: "cidr")),
        ("c_macaddr", .init(.string, typeName: "macaddr")),
        ("c_macaddr8", .init(.string, typeName: "macaddr8")),
        ("c_tsvector", .init(.string, typeName: "tsvector")),
        ("c_point", .init(.string, typeName: "point")),
        ("c_int4range", .init(.string, typeName: "int4range")),
        ("c_int4_arr", .init(.array(.int32), typeName: "_int4")),
        ("c_text_arr", .init(.array(.string), typeName: "_text")),
        ("c_int4_2d", .init(.array(.int32), typeName: "_int4")),
        ("c_float8_arr", .init(.array(.float64), typeName: "_float8")),
        ("c_date_arr", .init(.array(.date), typeName: "_date")),
        ("c_mood", .init(.enumeration(labels: ["sad", "ok", "happy"]), typeName: "mood")),
        ("c_mood_arr", .init(.array(.enumeration(labels: ["sad", "ok", "happy"])), typeName: "_mood")),
        ("c_posint", .init(.int32, typeName: "posint")),
        ("c_price", .init(.decimal(precision: 10, scale: 2), typeName: "price")),
    ]

    static let row1: [Value] = [
        .int(1), .bool(true), .int(-32768), .int(2_147_483_647), .int(.min), .int(4_294_967_295), .double(3.14),
        .double(2.718281828459045), .decimal("12345678.90"), .decimal("-0.000001234500"), .decimal("1200"),
        .decimal("1234.56"), .string("héllo wörld"), .string("varchar value"), .string("ab   "), .string("a_name"),
        .string("x"), .bytes([0x00, 0x01, 0xFF, 0x7F]), .string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        .string(#"{"b": [1, 2], "a": "x"}"#), .string(#"{"a": "x", "b": [1, 2]}"#), .string("<a>1</a>"),
        .date(19782),  // 2024-02-29
        .time(14_706_789_000),  // 04:05:06.789
        .time(86_399_999_000),  // 23:59:59.999
        .timeTZ(30_234_123_000),  // 10:23:54.123+02 = 08:23:54.123 UTC
        .timestamp(1_704_164_645_123_456),  // 2024-01-02 03:04:05.123456
        .timestamp(1_704_164_646_000_000),  // 2024-01-02 03:04:05.5 rounded by timestamp(0)
        .timestampTZ(1_704_144_845_123_000),  // 2024-01-02 03:04:05.123+05:30
        .interval(months: 14, days: 3, microseconds: 14_706_789_000),
        .bits([true, false, true, false]), .bits([true, true, false]), .bits([true]),
        .string("192.168.0.1/24"), .string("10.0.0.0/8"), .string("08:00:2b:01:02:03"),
        .string("08:00:2b:01:02:03:04:05"), .string("'a' 'cat' 'fat'"), .string("(1.5,-2)"), .string("[1,10)"),
        .array([.int(1), .int(2), .null, .int(-4)]),
        .array([
            .string("a b"), .string("q\"x"), .null, .string("NULL"), .string(""), .string("plain"),
            .string("back\\slash"), .string("{brace}"),
        ]),
        .array([.array([.int(1), .int(2)]), .array([.int(3), .int(4)])]),
        .array([.double(1.5), .double(.nan), .double(-.infinity)]),
        .array([.date(19723), .infinity(positive: true)]),
        .string("happy"), .array([.string("sad"), .string("happy")]), .int(42), .decimal("99.95"),
    ]

    static let row2: [Value] = [.int(2)] + Array(repeating: .null, count: 48)

    static let row3: [Value] = [
        .int(3), .bool(false), .int(32767), .int(-2_147_483_648), .int(.max), .int(0), .double(.nan),
        .double(-.infinity), .decimal("-99999999.99"), .decimal("NaN"), .decimal("-99900"),
        .decimal("-92233720368547758.08"), .string(""), .string(""), .string("     "), .string(""), .string(""),
        .bytes([]), .string("00000000-0000-0000-0000-000000000000"), .string("[]"), .string("null"), .string(""),
        .infinity(positive: true),  // date 'infinity'
        .time(0), .time(86_400_000_000),  // 24:00:00
        .timeTZ(57_540_000_000),  // 00:00:00-15:59 = 15:59 UTC
        .infinity(positive: false),  // timestamp '-infinity'
        .timestamp(-63_517_780_800_000_000),  // 0044-03-15 12:00:00 BC
        .infinity(positive: true),  // timestamptz 'infinity'
        .interval(months: -14, days: 3, microseconds: -14_706_789_000),
        .bits([false, false, false, false]), .bits([]), .bits([false]), .string("::1"), .string("::/0"),
        .string("00:00:00:00:00:00"), .string("00:00:00:00:00:00:00:00"), .string(""), .string("(0,0)"),
        .string("empty"), .array([]), .array([]),
        .array([.int(7), .int(8)]),  // [0:1]={7,8}
        .array([.double(.infinity)]),
        .array([.infinity(positive: false), .date(-735_160)]),  // {-infinity,"0044-03-15 BC"}
        .string("sad"), .array([]), .int(1), .decimal("-0.01"),
    ]

    static func sparseRow(_ id: Int64, _ values: [String: Value]) -> [Value] {
        expectedTypes.enumerated().map { index, column in
            index == 0 ? .int(id) : values[column.0] ?? .null
        }
    }

    static let row4 = sparseRow(
        4,
        [
            "c_float4": .double(.infinity), "c_float8": .double(1e-300), "c_numeric_unc": .decimal("Infinity"),
            "c_date": .date(-719_528),  // 0001-01-01 BC
            "c_timetz": .timeTZ(39_477_000_000),  // 12:00:00+01:02:03
            "c_timestamp": .timestamp(327_416_976_550_000_000),  // 12345-06-07 08:09:10
            "c_timestamptz": .timestampTZ(-2_209_008_070_000_000),  // 1900-01-01 00:00:00+05:21:10
            "c_interval": .interval(months: 0, days: 0, microseconds: -1_000_000),  // -00:00:01
        ]
    )

    static let row5 = sparseRow(
        5,
        [
            "c_float4": .double(-.infinity), "c_float8": .double(0), "c_numeric_unc": .decimal("-Infinity"),
            "c_date": .date(0), "c_timetz": .timeTZ(86_400_000_000),  // 24:00:00+00 is the end of the day (extract(epoch) = 86400)
            "c_timestamp": .timestamp(0),
            "c_timestamptz": .timestampTZ(-1),  // 1970-01-01 05:29:59.999999+05:30
            "c_interval": .interval(months: 12, days: 0, microseconds: 360_000_000_000),  // 1 year 100:00:00
        ]
    )

    @Test func decodesTypeAndRelationMessages() throws {
        let (_, messages) = try Fixture.decode("all-types")
        #expect(Fixture.shape(messages) == "BYYYYRICBICBICBIIC")
        #expect(
            messages.compactMap(\.typeMessage) == [
                .init(oid: Self.moodOID, namespace: "public", name: "mood"),
                .init(oid: Self.moodArrayOID, namespace: "public", name: "_mood"),
                // Domains are announced with their base type's name (pg_catalog → empty namespace).
                .init(oid: Self.posintOID, namespace: "", name: "int4"),
                .init(oid: Self.priceOID, namespace: "", name: "numeric"),
            ]
        )
        let relation = try #require(messages[5].relation)
        #expect(relation.oid == Self.relationOID)
        #expect(relation.columns.map(\.name) == Self.expectedTypes.map(\.0))
        // atttypid / atttypmod as pg_attribute reports them.
        #expect(relation.columns[8].typmod == 655_366)  // numeric(10,2)
        #expect(relation.columns[10].typmod == 329_730)  // numeric(5,-2)
        #expect(relation.columns[13].typmod == 24)  // varchar(20)
        #expect(relation.columns[24].typmod == 3)  // time(3)
        #expect(relation.columns[48].typeOID == Self.priceOID)
        #expect(relation.columns[48].typmod == -1)
    }

    @Test func buildsSchemaWithCatalogRegistry() throws {
        let (decoder, _) = try Fixture.decode("all-types", registry: Self.catalogRegistry)
        let schema = try decoder.tableSchema(forRelation: Self.relationOID)
        #expect(schema.id == TableID(schema: "public", name: "all_types"))
        #expect(schema.version == 1)
        #expect(schema.keyColumnIndices == [0])
        #expect(schema.columns[0].isOptional == false)
        #expect(schema.columns.dropFirst().allSatisfy { $0.isOptional })
        for (column, expected) in zip(schema.columns, Self.expectedTypes) {
            #expect(column.name == expected.0)
            #expect(column.type == expected.1, "\(column.name)")
        }
    }

    @Test func decodesEveryRowWithCatalogRegistry() throws {
        let (decoder, messages) = try Fixture.decode("all-types", registry: Self.catalogRegistry)
        let rows = try messages.compactMap(\.insert).map {
            try decoder.values(of: $0.newTuple, relation: $0.relationOID)
        }
        let names = Self.expectedTypes.map(\.0)
        #expect(rows.count == 5)
        guard rows.count == 5 else { return }
        expectRow(rows[0], Self.row1, columns: names)
        expectRow(rows[1], Self.row2, columns: names)
        expectRow(rows[2], Self.row3, columns: names)
        expectRow(rows[3], Self.row4, columns: names)
        expectRow(rows[4], Self.row5, columns: names)
    }

    @Test func fallsBackToTypeMessageNamesWithoutCatalog() throws {
        let (decoder, messages) = try Fixture.decode("all-types")
        let schema = try decoder.tableSchema(forRelation: Self.relationOID)
        #expect(schema.columns[45].type == ColumnType(.unknown, typeName: "mood"))
        #expect(schema.columns[46].type == ColumnType(.unknown, typeName: "_mood"))
        // Domain → its announced base type (without the domain's typmod: numeric stays unconstrained).
        #expect(schema.columns[47].type == ColumnType(.int32, typeName: "int4"))
        #expect(schema.columns[48].type == ColumnType(.decimal(precision: nil, scale: nil), typeName: "numeric"))
        let insert = try #require(messages.compactMap(\.insert).first)
        let values = try decoder.values(of: insert.newTuple, relation: Self.relationOID)
        #expect(values[45] == .string("happy"))
        #expect(values[46] == .string("{sad,happy}"))
        #expect(values[47] == .int(42))
        #expect(values[48] == .decimal("99.95"))
    }
}
