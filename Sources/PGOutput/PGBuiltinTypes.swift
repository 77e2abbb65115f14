import TributaryCore

/// How a column's value is converted, resolved once per relation column (``PGTypeRegistry``).
indirect enum PGValuePlan: Sendable, Hashable {
    case bool
    case int2
    case int4
    case int8
    case oid
    case float4
    case float8
    case numeric
    case money
    /// Character data sent as UTF-8 text in both formats: text, varchar, bpchar, name, enum labels.
    case text
    /// json: text in both formats.
    case json
    /// xml: text in both formats.
    case xml
    /// `"char"`: one byte in binary.
    case char
    /// jsonb: binary form is a version byte (1) and the JSON text.
    case jsonb
    case uuid
    case bytea
    case date
    case time
    case timeTZ
    case timestamp
    case timestampTZ
    case interval
    case bits
    /// Any other type: its text form is passed through as a string (binary form is not converted).
    case passThrough
    case array(element: PGValuePlan, delimiter: UInt8)
}

/// PostgreSQL 15's built-in types (`pg_type.dat`): the OIDs are fixed across installations.
enum PGBuiltinTypes {
    struct Scalar: Sendable {
        var name: String
        var plan: PGValuePlan
    }

    static let scalars: [UInt32: Scalar] = {
        let list: [(UInt32, String, PGValuePlan)] = [
            (16, "bool", .bool), (17, "bytea", .bytea), (18, "char", .char), (19, "name", .text),
            (20, "int8", .int8), (21, "int2", .int2), (22, "int2vector", .passThrough), (23, "int4", .int4),
            (24, "regproc", .passThrough), (25, "text", .text), (26, "oid", .oid), (27, "tid", .passThrough),
            (28, "xid", .passThrough), (29, "cid", .passThrough), (30, "oidvector", .passThrough),
            (114, "json", .json), (142, "xml", .xml), (194, "pg_node_tree", .passThrough),
            (600, "point", .passThrough), (601, "lseg", .passThrough), (602, "path", .passThrough),
            (603, "box", .passThrough), (604, "polygon", .passThrough), (628, "line", .passThrough),
            (650, "cidr", .passThrough), (700, "float4", .float4), (701, "float8", .float8),
            (718, "circle", .passThrough), (774, "macaddr8", .passThrough), (790, "money", .money),
            (829, "macaddr", .passThrough), (869, "inet", .passThrough), (1033, "aclitem", .passThrough),
            (1042, "bpchar", .text), (1043, "varchar", .text), (1082, "date", .date), (1083, "time", .time),
            (1114, "timestamp", .timestamp), (1184, "timestamptz", .timestampTZ), (1186, "interval", .interval),
            (1266, "timetz", .timeTZ), (1560, "bit", .bits), (1562, "varbit", .bits), (1700, "numeric", .numeric),
            (1790, "refcursor", .text), (2202, "regprocedure", .passThrough), (2203, "regoper", .passThrough),
            (2204, "regoperator", .passThrough), (2205, "regclass", .passThrough), (2206, "regtype", .passThrough),
            (2950, "uuid", .uuid), (2970, "txid_snapshot", .passThrough), (3220, "pg_lsn", .passThrough),
            (3614, "tsvector", .passThrough), (3615, "tsquery", .passThrough), (3734, "regconfig", .passThrough),
            (3769, "regdictionary", .passThrough), (3802, "jsonb", .jsonb), (4072, "jsonpath", .passThrough),
            (3904, "int4range", .passThrough), (3906, "numrange", .passThrough), (3908, "tsrange", .passThrough),
            (3910, "tstzrange", .passThrough), (3912, "daterange", .passThrough),
            (3926, "int8range", .passThrough), (4451, "int4multirange", .passThrough),
            (4532, "nummultirange", .passThrough), (4533, "tsmultirange", .passThrough),
            (4534, "tstzmultirange", .passThrough), (4535, "datemultirange", .passThrough),
            (4536, "int8multirange", .passThrough), (4089, "regnamespace", .passThrough),
            (4096, "regrole", .passThrough), (4191, "regcollation", .passThrough),
            (5038, "pg_snapshot", .passThrough), (5069, "xid8", .passThrough),
        ]
        var table = [UInt32: Scalar]()
        for (oid, name, plan) in list { table[oid] = Scalar(name: name, plan: plan) }
        return table
    }()

    /// Built-in array type OID → element type OID (`typelem`).
    static let arrays: [UInt32: UInt32] = [
        1000: 16, 1001: 17, 1002: 18, 1003: 19, 1016: 20, 1005: 21, 1006: 22, 1007: 23, 1008: 24, 1009: 25,
        1028: 26, 1010: 27, 1011: 28, 1012: 29, 1013: 30, 199: 114, 143: 142, 1017: 600, 1018: 601,
        1019: 602, 1020: 603, 1027: 604, 629: 628, 651: 650, 1021: 700, 1022: 701, 719: 718, 775: 774,
        791: 790, 1040: 829, 1041: 869, 1034: 1033, 1014: 1042, 1015: 1043, 1182: 1082, 1183: 1083,
        1115: 1114, 1185: 1184, 1187: 1186, 1270: 1266, 1561: 1560, 1563: 1562, 1231: 1700, 2201: 1790,
        2207: 2202, 2208: 2203, 2209: 2204, 2210: 2205, 2211: 2206, 2951: 2950, 2949: 2970, 3221: 3220,
        3643: 3614, 3645: 3615, 3662: 3734, 3770: 3769, 3807: 3802, 4073: 4072, 3905: 3904, 3907: 3906,
        3909: 3908, 3911: 3910, 3913: 3912, 3927: 3926, 6150: 4451, 6151: 4532, 6152: 4533, 6153: 4534,
        6155: 4535, 6157: 4536, 4090: 4089, 4097: 4096, 4192: 4191, 5039: 5038, 271: 5069,
    ]

    /// Built-in type name (`pg_catalog`) → OID, scalars and arrays.
    static let oidByName: [String: UInt32] = {
        var table = [String: UInt32]()
        for (oid, scalar) in scalars { table[scalar.name] = oid }
        for (array, element) in arrays {
            if let name = scalars[element]?.name { table["_" + name] = array }
        }
        return table
    }()

    /// The `ColumnType.Kind` of a built-in scalar with its type modifier (`atttypmod`).
    static func kind(of plan: PGValuePlan, typmod: Int32) -> ColumnType.Kind {
        switch plan {
        case .bool: return .boolean
        case .int2: return .int16
        case .int4: return .int32
        case .int8, .oid: return .int64
        case .float4: return .float32
        case .float8: return .float64
        case .numeric:
            let (precision, scale) = numericPrecisionAndScale(typmod: typmod)
            return .decimal(precision: precision, scale: scale)
        case .money: return .decimal(precision: nil, scale: 2)
        case .text, .char: return .string
        case .json, .jsonb: return .json
        case .xml: return .xml
        case .uuid: return .uuid
        case .bytea: return .bytes
        case .date: return .date
        case .time: return .time(precision: typmod >= 0 ? Int(typmod) : nil)
        case .timeTZ: return .timeTZ
        case .timestamp: return .timestamp(precision: typmod >= 0 ? Int(typmod) : nil)
        case .timestampTZ: return .timestampTZ
        case .interval: return .interval
        case .bits: return .bits(length: typmod >= 0 ? Int(typmod) : nil)
        case .passThrough: return .string
        case .array(let element, _): return .array(kind(of: element, typmod: -1))
        }
    }

    /// NUMERIC's type modifier: `((precision << 16) | (scale & 0x7ff)) + 4` (PostgreSQL 15 `numeric.c`,
    /// `make_numeric_typmod`; the scale is an 11-bit signed field since 15, which allows negative scales).
    /// -1 (or anything below 4) means unconstrained: `(nil, nil)`.
    static func numericPrecisionAndScale(typmod: Int32) -> (Int?, Int?) {
        guard typmod >= 4 else { return (nil, nil) }
        let value = typmod - 4
        let precision = Int((value >> 16) & 0xFFFF)
        let scale = Int(((value & 0x7FF) ^ 1024) - 1024)
        return (precision, scale)
    }
}
