import TributaryCore

/// Everything about one table version that does not change between events, rendered once: topic, schema JSON
/// framing, pre-escaped field names, column codecs and NULL fallbacks (EVENT-FORMAT.md c.1–c.3, c.8).
final class TableFormat: Sendable {
    let version: Int
    let columnCount: Int
    /// `<topic.prefix>.<schema>.<table>`, sanitised (c.1).
    let topic: String
    /// `schema.table`: the transaction metadata `data_collection` (c.5).
    let dataCollection: String
    /// `"column":` per column.
    let fieldPrefixes: [[UInt8]]
    let codecs: [ValueCodec]
    /// Whether NULL may be written as null (the value schema's `optional`).
    let optional: [Bool]
    let fallbacks: [[UInt8]]
    /// Key columns in key order; empty for keyless tables (null key, c.2).
    let keyIndices: [Int]
    /// `{"schema":<key schema>,"payload":` with `schemas.enable`, else empty.
    let keyFraming: [UInt8]
    /// `{"schema":<envelope schema>,"payload":` with `schemas.enable`, else empty.
    let valueFraming: [UInt8]
    /// `,"schema":"<schema>","table":"<table>","txId":` inside `source`.
    let sourceTableFragment: [UInt8]

    init(table: TableSchema, options: FormatOptions, sourceSchema: ConnectSchema) {
        version = table.version
        columnCount = table.columns.count
        let rawTopic = [options.topicPrefix, table.id.schema, table.id.name]
            .filter { !$0.isEmpty }
            .joined(separator: options.topicDelimiter)
        let topic = NameSanitizer.topicName(rawTopic)
        self.topic = topic
        dataCollection = table.id.description

        // `TopicNamingStrategy.recordSchemaPrefix` is the (sanitised) topic name.
        let adjust = options.schemaNameAdjustment == .avro
        func schemaName(_ suffix: String) -> String {
            adjust ? NameSanitizer.avroFullName(topic + suffix) : topic + suffix
        }

        var prefixes: [[UInt8]] = []
        var codecs: [ValueCodec] = []
        var optional: [Bool] = []
        var fallbacks: [[UInt8]] = []
        var valueFields: [ConnectSchema.Field] = []
        var columnSchemas: [ConnectSchema] = []
        for column in table.columns {
            let (schema, codec) = ValueCodec.compile(column.type.kind, typeName: column.type.typeName, options: options)
            prefixes.append(JSONWriter.fieldPrefix(column.name))
            codecs.append(codec)
            optional.append(column.isOptional)
            fallbacks.append(codec.fallbackJSON)
            columnSchemas.append(schema)
            valueFields.append(ConnectSchema.Field(name: column.name, schema: schema.withOptional(column.isOptional)))
        }
        fieldPrefixes = prefixes
        self.codecs = codecs
        self.optional = optional
        self.fallbacks = fallbacks
        keyIndices = table.keyColumnIndices.filter { $0 >= 0 && $0 < table.columns.count }

        if options.keySchemasEnabled {
            let keySchema = ConnectSchema.struct(
                keyIndices.map {
                    ConnectSchema.Field(name: table.columns[$0].name, schema: columnSchemas[$0].withOptional(false))
                },
                name: schemaName(".Key")
            )
            var key = JSONWriter(capacity: 256)
            key.raw("{\"schema\":")
            keySchema.write(into: &key)
            key.raw(",\"payload\":")
            keyFraming = key.bytes

        } else {
            keyFraming = []
        }
        if options.schemasEnable {
            // `Envelope.defineSchema()…build()`: before, after, source, transaction, op, ts_ms, ts_us, ts_ns (v2).
            let rowSchema = ConnectSchema.struct(valueFields, optional: true, name: schemaName(".Value"))
            let envelope = ConnectSchema.struct(
                [
                    ConnectSchema.Field(name: "before", schema: rowSchema),
                    ConnectSchema.Field(name: "after", schema: rowSchema),
                    ConnectSchema.Field(name: "source", schema: sourceSchema),
                    ConnectSchema.Field(name: "transaction", schema: .transactionBlock),
                    ConnectSchema.Field(name: "op", schema: .string),
                    ConnectSchema.Field(name: "ts_ms", schema: .optionalInt64),
                    ConnectSchema.Field(name: "ts_us", schema: .optionalInt64),
                    ConnectSchema.Field(name: "ts_ns", schema: .optionalInt64),
                ],
                name: schemaName(".Envelope"),
                version: 2
            )
            var value = JSONWriter(capacity: 1024)
            value.raw("{\"schema\":")
            envelope.write(into: &value)
            value.raw(",\"payload\":")
            valueFraming = value.bytes
        } else {
            valueFraming = []
        }

        var fragment = JSONWriter(capacity: 64)
        fragment.raw(",\"schema\":")
        fragment.string(table.id.schema)
        fragment.raw(",\"table\":")
        fragment.string(table.id.name)
        fragment.raw(",\"txId\":")
        sourceTableFragment = fragment.bytes
    }

    var hasKey: Bool { !keyIndices.isEmpty }

    /// Writes `{"col":value,…}` for all columns.
    func writeRow(_ values: [Value], into writer: inout JSONWriter, context: ValueContext)
        throws(ValueEncodingFailureAt)
    {
        writer.byte(UInt8(ascii: "{"))
        for index in 0..<columnCount {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.raw(fieldPrefixes[index])
            try writeColumn(index, values[index], required: !optional[index], into: &writer, context: context)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// Writes `{"keycol":value,…}` for the key columns (all required in the key schema).
    func writeKeyPayload(_ values: [Value], into writer: inout JSONWriter, context: ValueContext)
        throws(ValueEncodingFailureAt)
    {
        writer.byte(UInt8(ascii: "{"))
        for (position, index) in keyIndices.enumerated() {
            if position > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.raw(fieldPrefixes[index])
            try writeColumn(index, values[index], required: true, into: &writer, context: context)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    @inline(__always)
    private func writeColumn(
        _ index: Int,
        _ value: Value,
        required: Bool,
        into writer: inout JSONWriter,
        context: ValueContext
    ) throws(ValueEncodingFailureAt) {
        if case .null = value {
            if required { writer.raw(fallbacks[index]) } else { writer.null() }
            return
        }
        do {
            try codecs[index].write(value, into: &writer, context: context)
        } catch {
            throw ValueEncodingFailureAt(column: index, failure: error)
        }
    }

    /// Whether the key columns hold the same values in both images.
    func sameKey(_ a: [Value], _ b: [Value]) -> Bool {
        for index in keyIndices where a[index] != b[index] {
            return false
        }
        return true
    }
}

/// A value failure with the index of the column it happened in.
struct ValueEncodingFailureAt: Error {
    var column: Int
    var failure: ValueEncodingFailure
}
