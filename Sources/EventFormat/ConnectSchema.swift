/// A Kafka Connect schema, rendered exactly as `JsonConverter.asJsonSchema` lays it out (EVENT-FORMAT.md c.1):
/// `type`, then `items` (array) or `fields` (struct), then `optional`, `name`, `version`, `doc`, `parameters`,
/// `default`; a struct member gets `field` last.
struct ConnectSchema: Sendable {
    enum SchemaType: String, Sendable {
        case int8, int16, int32, int64
        case float32 = "float"
        case float64 = "double"
        case boolean, string, bytes, array
        case `struct`
    }

    struct Field: Sendable {
        var name: String
        var schema: ConnectSchema
    }

    struct Parameter: Sendable {
        var key: String
        var value: String
    }

    var type: SchemaType
    var optional: Bool
    var name: String?
    var version: Int?
    var doc: String?
    var parameters: [Parameter] = []
    /// Pre-rendered JSON of the default value.
    var defaultJSON: StaticString?
    var fields: [Field] = []
    /// The element schema of an array (zero or one entry).
    var items: [ConnectSchema] = []

    init(
        _ type: SchemaType,
        optional: Bool = false,
        name: String? = nil,
        version: Int? = nil,
        doc: String? = nil,
        parameters: [Parameter] = [],
        defaultJSON: StaticString? = nil
    ) {
        self.type = type
        self.optional = optional
        self.name = name
        self.version = version
        self.doc = doc
        self.parameters = parameters
        self.defaultJSON = defaultJSON
    }

    static func `struct`(
        _ fields: [Field],
        optional: Bool = false,
        name: String? = nil,
        version: Int? = nil,
        doc: String? = nil
    ) -> ConnectSchema {
        var schema = ConnectSchema(.struct, optional: optional, name: name, version: version, doc: doc)
        schema.fields = fields
        return schema
    }

    static func array(_ items: ConnectSchema, optional: Bool = false) -> ConnectSchema {
        var schema = ConnectSchema(.array, optional: optional)
        schema.items = [items]
        return schema
    }

    func withOptional(_ optional: Bool) -> ConnectSchema {
        var copy = self
        copy.optional = optional
        return copy
    }

    /// Writes this schema as a JSON object; `field` names it inside a parent struct.
    func write(into writer: inout JSONWriter, field: String? = nil) {
        writer.raw("{\"type\":\"")
        writer.raw(Array(type.rawValue.utf8))
        writer.byte(UInt8(ascii: "\""))
        if let element = items.first {
            writer.raw(",\"items\":")
            element.write(into: &writer)
        }
        if type == .struct {
            writer.raw(",\"fields\":[")
            for (index, member) in fields.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                member.schema.write(into: &writer, field: member.name)
            }
            writer.byte(UInt8(ascii: "]"))
        }
        writer.raw(",\"optional\":")
        writer.bool(optional)
        if let name {
            writer.raw(",\"name\":")
            writer.string(name)
        }
        if let version {
            writer.raw(",\"version\":")
            writer.int(version)
        }
        if let doc {
            writer.raw(",\"doc\":")
            writer.string(doc)
        }
        if !parameters.isEmpty {
            writer.raw(",\"parameters\":{")
            for (index, parameter) in parameters.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.string(parameter.key)
                writer.byte(UInt8(ascii: ":"))
                writer.string(parameter.value)
            }
            writer.byte(UInt8(ascii: "}"))
        }
        if let defaultJSON {
            writer.raw(",\"default\":")
            writer.raw(defaultJSON)
        }
        if let field {
            writer.raw(",\"field\":")
            writer.string(field)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// The rendered JSON bytes.
    var json: [UInt8] {
        var writer = JSONWriter(capacity: 256)
        write(into: &writer)
        return writer.bytes
    }
}

// MARK: - Debezium's fixed schemas

extension ConnectSchema {
    static let string = ConnectSchema(.string)
    static let optionalString = ConnectSchema(.string, optional: true)
    static let int64 = ConnectSchema(.int64)
    static let optionalInt64 = ConnectSchema(.int64, optional: true)

    /// `SchemaFactory.snapshotRecordSchema()`: `io.debezium.data.Enum` of `SnapshotRecord`, default `"false"`.
    static let snapshotRecord = ConnectSchema(
        .string,
        optional: true,
        name: "io.debezium.data.Enum",
        version: 1,
        parameters: [
            Parameter(
                key: "allowed",
                value: "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"
            )
        ],
        defaultJSON: "\"false\""
    )

    /// `PostgresSourceInfoStructMaker.schema()` as of Debezium 3.1, plus Tributary's `commit_lsn` and
    /// `event_seq` (EVENT-FORMAT.md c.4; optional so other sources can leave them out).
    static func postgresSource(connector: String) -> ConnectSchema {
        .struct(
            [
                Field(name: "version", schema: .string),
                Field(name: "connector", schema: .string),
                Field(name: "name", schema: .string),
                Field(name: "ts_ms", schema: .int64),
                Field(name: "snapshot", schema: .snapshotRecord),
                Field(name: "db", schema: .string),
                Field(name: "sequence", schema: .optionalString),
                Field(name: "ts_us", schema: .optionalInt64),
                Field(name: "ts_ns", schema: .optionalInt64),
                Field(name: "schema", schema: .string),
                Field(name: "table", schema: .string),
                Field(name: "txId", schema: .optionalInt64),
                Field(name: "lsn", schema: .optionalInt64),
                Field(name: "xmin", schema: .optionalInt64),
                Field(name: "commit_lsn", schema: .optionalInt64),
                Field(name: "event_seq", schema: .optionalInt64),
            ],
            name: "io.debezium.connector.\(connector).Source",
            version: 1
        )
    }

    /// `SchemaFactory.transactionBlockSchema()` (`event.block` v1).
    static let transactionBlock = ConnectSchema.struct(
        [
            Field(name: "id", schema: .string),
            Field(name: "total_order", schema: .int64),
            Field(name: "data_collection_order", schema: .int64),
        ],
        optional: true,
        name: "event.block",
        version: 1
    )

    /// `SchemaFactory.transactionKeySchema` (c.5).
    static let transactionKey = ConnectSchema.struct(
        [Field(name: "id", schema: .string)],
        name: "io.debezium.connector.common.TransactionMetadataKey",
        version: 1
    )

    /// `SchemaFactory.transactionValueSchema` (c.5).
    static let transactionValue = ConnectSchema.struct(
        [
            Field(name: "status", schema: .string),
            Field(name: "id", schema: .string),
            Field(name: "event_count", schema: .optionalInt64),
            Field(
                name: "data_collections",
                schema: .array(
                    .struct(
                        [
                            Field(name: "data_collection", schema: .string),
                            Field(name: "event_count", schema: .int64),
                        ],
                        optional: true,
                        name: "event.collection",
                        version: 1
                    ),
                    optional: true
                )
            ),
            Field(name: "ts_ms", schema: .int64),
        ],
        name: "io.debezium.connector.common.TransactionMetadataValue",
        version: 1
    )

    /// `SchemaFactory.heartbeatKeySchema` (c.6).
    static let heartbeatKey = ConnectSchema.struct(
        [Field(name: "serverName", schema: .string)],
        name: "io.debezium.connector.common.ServerNameKey",
        version: 1
    )

    /// `SchemaFactory.heartbeatValueSchema` (c.6).
    static let heartbeatValue = ConnectSchema.struct(
        [Field(name: "ts_ms", schema: .int64)],
        name: "io.debezium.connector.common.Heartbeat",
        version: 1
    )

    /// `PostgresSchemaFactory.logicalDecodingMessageMonitorKeySchema` (c.2, op `m`).
    static let messageKey = ConnectSchema.struct(
        [Field(name: "prefix", schema: .optionalString)],
        name: "io.debezium.connector.postgresql.MessageKey",
        version: 1
    )

    /// `PostgresSchemaFactory.logicalDecodingMessageMonitorBlockSchema`.
    static func messageBlock(content: ConnectSchema) -> ConnectSchema {
        .struct(
            [
                Field(name: "prefix", schema: .optionalString),
                Field(name: "content", schema: content.withOptional(true)),
            ],
            name: "io.debezium.connector.postgresql.Message",
            version: 1
        )
    }

    /// `PostgresSchemaFactory.logicalDecodingMessageMonitorValueSchema` (Debezium 3.1: no `ts_us`/`ts_ns`).
    static func messageValue(source: ConnectSchema, content: ConnectSchema) -> ConnectSchema {
        .struct(
            [
                Field(name: "op", schema: .string),
                Field(name: "ts_ms", schema: .optionalInt64),
                Field(name: "source", schema: source),
                Field(name: "transaction", schema: .transactionBlock),
                Field(name: "message", schema: .messageBlock(content: content)),
            ],
            name: "io.debezium.connector.postgresql.MessageValue",
            version: 1
        )
    }
}
