import TributaryCore

/// Renders change events as Debezium-compatible JSON Kafka records (Kafka Connect `JsonConverter` framing),
/// per EVENT-FORMAT.md c.1–c.8, matching Debezium 3.1's PostgreSQL connector.
///
/// Per table version it renders once and caches the topic name, the key and envelope schema JSON and the
/// escaped field names; each event then costs one pass of byte appends into a buffer sized from the
/// previous event of the same table.
///
/// Beyond Debezium (documented as Tributary's own): `source.commit_lsn` and `source.event_seq`, the event's
/// `PostgresPosition.commitLSN` and `eventIndex`, which together identify a source change exactly.
///
/// Not thread-safe by itself (it is a value type with mutating caches): give each pipeline its own.
public struct DebeziumJSONFormatter: Sendable {
    public let options: FormatOptions

    private struct CacheEntry: Sendable {
        var format: TableFormat
        var valueSizeHint: Int
    }

    /// Counters of the open source transaction (`TransactionContext`).
    private struct OpenTransaction: Sendable {
        /// `"<xid>:` (escaped, with the opening quote) when ids are built per event; nil to use `fixedID`.
        var idPrefix: [UInt8]?
        var fixedID: String
        var totalOrder: Int64 = 0
        var perCollection: [String: Int64] = [:]
        /// First-seen order of data collections, for END's `data_collections`.
        var collections: [String] = []
    }

    private var tables: [TableID: CacheEntry] = [:]
    private var transaction: OpenTransaction?
    private let context: ValueContext
    private let sourceSchema: ConnectSchema
    /// `"source":{"version":"…","connector":"…","name":"…","ts_ms":`
    private let sourcePrefix: [UInt8]
    /// `,"db":"…","sequence":`
    private let sourceDatabaseFragment: [UInt8]
    private let transactionKeyFraming: [UInt8]
    private let transactionValueFraming: [UInt8]
    private let heartbeatKeyJSON: [UInt8]
    private let heartbeatValueFraming: [UInt8]
    private let messageKeyFraming: [UInt8]
    private let messageValueFraming: [UInt8]

    /// The data-collection name Debezium counts logical messages under (`LogicalDecodingMessageId`).
    static let logicalDecodingMessageCollection = "LOGICAL_DECODING_MESSAGE"

    public init(options: FormatOptions) {
        self.options = options
        context = ValueContext(
            placeholderJSON: JSONWriter.quoted(options.unavailableValuePlaceholder),
            placeholderBytes: Array(options.unavailableValuePlaceholder.utf8)
        )
        sourceSchema = .postgresSource(connector: options.connector)

        var writer = JSONWriter(capacity: 128)
        writer.raw("\"source\":{\"version\":")
        writer.string(TributaryVersion.debeziumCompatible)
        writer.raw(",\"connector\":")
        writer.string(options.connector)
        writer.raw(",\"name\":")
        writer.string(options.topicPrefix)
        writer.raw(",\"ts_ms\":")
        sourcePrefix = writer.bytes

        writer = JSONWriter(capacity: 64)
        writer.raw(",\"db\":")
        writer.string(options.databaseName)
        writer.raw(",\"sequence\":")
        sourceDatabaseFragment = writer.bytes

        func framing(_ schema: ConnectSchema, key: Bool = false) -> [UInt8] {
            guard key ? options.keySchemasEnabled : options.schemasEnable else { return [] }
            var w = JSONWriter(capacity: 512)
            w.raw("{\"schema\":")
            schema.write(into: &w)
            w.raw(",\"payload\":")
            return w.bytes
        }
        transactionKeyFraming = framing(.transactionKey, key: true)
        transactionValueFraming = framing(.transactionValue)
        messageKeyFraming = framing(.messageKey, key: true)
        let contentSchema = options.binaryHandling == .bytes ? ConnectSchema(.bytes) : ConnectSchema(.string)
        messageValueFraming = framing(.messageValue(source: sourceSchema, content: contentSchema))
        heartbeatValueFraming = framing(.heartbeatValue)

        writer = JSONWriter(capacity: 256)
        writer.raw(framing(.heartbeatKey, key: true))
        writer.raw("{\"serverName\":")
        writer.string(options.topicPrefix)
        writer.byte(UInt8(ascii: "}"))
        if options.keySchemasEnabled { writer.byte(UInt8(ascii: "}")) }
        heartbeatKeyJSON = writer.bytes
    }

    // MARK: - Topics

    /// The data topic of `table`: `<topic.prefix>.<schema>.<table>`, sanitised (c.1).
    public func topic(for table: TableID) -> String {
        let raw = [options.topicPrefix, table.schema, table.name]
            .filter { !$0.isEmpty }
            .joined(separator: options.topicDelimiter)
        return NameSanitizer.topicName(raw)
    }

    // MARK: - Change events

    /// Appends the records for `event` (c.2, c.3), stamping `ts_ms`/`ts_us`/`ts_ns` from `options.clock`.
    /// See `format(_:nowMicros:into:)`.
    public mutating func format(_ event: ChangeEvent, into records: inout [FormattedRecord]) throws {
        try format(event, nowMicros: options.clock(), into: &records)
    }

    /// Appends the records for `event`, with processing time `nowMicros` (µs since the epoch):
    /// - create/read/update: one record on the table topic; key from `after`;
    /// - delete: the delete (key from `before`), then a tombstone (same key, null value) when
    ///   `tombstonesOnDelete` and the key is not null;
    /// - update whose key changed (only detectable when `before` is present): delete under the old key with
    ///   header `__debezium.newkey`, its tombstone (same headers, as Debezium copies them), then create under
    ///   the new key with header `__debezium.oldkey` (`RelationalChangeRecordEmitter`);
    /// - truncate: null key, `before`/`after` null;
    /// - message: topic `<topic.prefix>.message`, key `{"prefix":…}` (`LogicalDecodingMessageMonitor`).
    ///
    /// On error nothing is appended.
    /// - Throws: `EventFormatError` when a value does not fit its column type or an image is missing.
    public mutating func format(
        _ event: ChangeEvent,
        nowMicros: Int64,
        into records: inout [FormattedRecord]
    ) throws {
        let startCount = records.count
        do {
            if event.op == .message {
                try formatMessage(event, nowMicros: nowMicros, into: &records)
            } else {
                try formatRowEvent(event, nowMicros: nowMicros, into: &records)
            }
        } catch {
            records.removeSubrange(startCount...)
            throw error
        }
    }

    private mutating func tableFormat(for table: TableSchema) -> CacheEntry {
        if let entry = tables[table.id], entry.format.version == table.version,
            entry.format.columnCount == table.columns.count
        {
            return entry
        }
        let format = TableFormat(table: table, options: options, sourceSchema: sourceSchema)
        let entry = CacheEntry(format: format, valueSizeHint: format.valueFraming.count + 256 + 48 * format.columnCount)
        tables[table.id] = entry
        return entry
    }

    private mutating func formatRowEvent(
        _ event: ChangeEvent,
        nowMicros: Int64,
        into records: inout [FormattedRecord]
    ) throws(EventFormatError) {
        let entry = tableFormat(for: event.table)
        let format = entry.format
        if let image = event.before, image.count != format.columnCount {
            throw formatError(
                .rowWidthMismatch,
                event,
                detail: "before has \(image.count) values, table has \(format.columnCount) columns"
            )
        }
        if let image = event.after, image.count != format.columnCount {
            throw formatError(
                .rowWidthMismatch,
                event,
                detail: "after has \(image.count) values, table has \(format.columnCount) columns"
            )
        }

        switch event.op {
        case .create, .read:
            guard let after = event.after else {
                throw formatError(.missingRowImage, event, detail: "op \(event.op.rawValue) without after image")
            }
            let key = try keyBytes(format, after, event)
            let value = try envelope(
                format,
                event,
                op: event.op,
                before: nil,
                after: after,
                nowMicros: nowMicros,
                sizeHint: entry.valueSizeHint
            )
            records.append(FormattedRecord(topic: format.topic, key: key, value: value))

        case .update:
            guard let after = event.after else {
                throw formatError(.missingRowImage, event, detail: "update without after image")
            }
            if let before = event.before, format.hasKey, !format.sameKey(before, after) {
                // Primary-key change: delete + tombstone under the old key, create under the new one.
                let oldKey = try keyBytes(format, before, event)
                let newKey = try keyBytes(format, after, event)
                let deleteHeaders = newKey.map {
                    [FormattedRecord.Header(key: FormattedRecord.newKeyHeader, value: $0)]
                }
                let createHeaders = oldKey.map {
                    [FormattedRecord.Header(key: FormattedRecord.oldKeyHeader, value: $0)]
                }
                let deleteValue = try envelope(
                    format,
                    event,
                    op: .delete,
                    before: before,
                    after: nil,
                    nowMicros: nowMicros,
                    sizeHint: entry.valueSizeHint
                )
                records.append(
                    FormattedRecord(topic: format.topic, key: oldKey, value: deleteValue, headers: deleteHeaders ?? [])
                )
                if options.tombstonesOnDelete, oldKey != nil {
                    records.append(
                        FormattedRecord(topic: format.topic, key: oldKey, value: nil, headers: deleteHeaders ?? [])
                    )
                }
                let createValue = try envelope(
                    format,
                    event,
                    op: .create,
                    before: nil,
                    after: after,
                    nowMicros: nowMicros,
                    sizeHint: entry.valueSizeHint
                )
                records.append(
                    FormattedRecord(topic: format.topic, key: newKey, value: createValue, headers: createHeaders ?? [])
                )
            } else {
                let key = try keyBytes(format, after, event)
                let value = try envelope(
                    format,
                    event,
                    op: .update,
                    before: event.before,
                    after: after,
                    nowMicros: nowMicros,
                    sizeHint: entry.valueSizeHint
                )
                records.append(FormattedRecord(topic: format.topic, key: key, value: value))
            }

        case .delete:
            // Without a before image (REPLICA IDENTITY NOTHING) the key is unknown: null, and no tombstone.
            var key: [UInt8]?
            if let before = event.before { key = try keyBytes(format, before, event) }
            let value = try envelope(
                format,
                event,
                op: .delete,
                before: event.before,
                after: nil,
                nowMicros: nowMicros,
                sizeHint: entry.valueSizeHint
            )
            records.append(FormattedRecord(topic: format.topic, key: key, value: value))
            // A null-key tombstone would be rejected by a compacted topic and carries nothing to compact.
            if options.tombstonesOnDelete, key != nil {
                records.append(FormattedRecord(topic: format.topic, key: key, value: nil))
            }

        case .truncate:
            let value = try envelope(
                format,
                event,
                op: .truncate,
                before: nil,
                after: nil,
                nowMicros: nowMicros,
                sizeHint: entry.valueSizeHint
            )
            records.append(FormattedRecord(topic: format.topic, key: nil, value: value))

        case .message:
            break  // handled by formatMessage
        }
    }

    /// The key record bytes, or nil for keyless tables.
    private func keyBytes(_ format: TableFormat, _ image: [Value], _ event: ChangeEvent) throws(EventFormatError)
        -> [UInt8]?
    {
        guard format.hasKey else { return nil }
        var writer = JSONWriter(capacity: format.keyFraming.count + 16 + 24 * format.keyIndices.count)
        writer.raw(format.keyFraming)
        do {
            try format.writeKeyPayload(image, into: &writer, context: context)
        } catch {
            throw wrap(error, event)
        }
        if options.keySchemasEnabled { writer.byte(UInt8(ascii: "}")) }
        return writer.bytes
    }

    /// The envelope value record bytes (c.3). Also advances the transaction counters (one data event).
    private mutating func envelope(
        _ format: TableFormat,
        _ event: ChangeEvent,
        op: ChangeEvent.Operation,
        before: [Value]?,
        after: [Value]?,
        nowMicros: Int64,
        sizeHint: Int
    ) throws(EventFormatError) -> [UInt8] {
        var writer = JSONWriter(capacity: sizeHint)
        writer.raw(format.valueFraming)
        do {
            writer.raw("{\"before\":")
            if let before { try format.writeRow(before, into: &writer, context: context) } else { writer.null() }
            writer.raw(",\"after\":")
            if let after { try format.writeRow(after, into: &writer, context: context) } else { writer.null() }
        } catch {
            throw wrap(error, event)
        }
        writer.byte(UInt8(ascii: ","))
        writeSource(event, tableFragment: format.sourceTableFragment, into: &writer)
        writer.raw(",\"transaction\":")
        writeTransactionBlock(event, collection: format.dataCollection, into: &writer)
        writer.raw(",\"op\":\"")
        writer.stringContents(op.rawValue)
        writer.raw("\",\"ts_ms\":")
        writer.int(Temporal.floorDiv(nowMicros, 1_000))
        writer.raw(",\"ts_us\":")
        writer.int(nowMicros)
        writer.raw(",\"ts_ns\":")
        writer.int(nowMicros &* 1_000)
        writer.byte(UInt8(ascii: "}"))
        if options.schemasEnable { writer.byte(UInt8(ascii: "}")) }
        if writer.bytes.count + 64 > sizeHint {
            tables[event.table.id]?.valueSizeHint = writer.bytes.count + 64
        }
        return writer.bytes
    }

    /// The `source` block (c.4): Debezium 3.1's PostgreSQL field order, then `commit_lsn` and `event_seq`.
    private func writeSource(_ event: ChangeEvent, tableFragment: [UInt8], into writer: inout JSONWriter) {
        let micros = event.sourceTimestampMicros
        writer.raw(sourcePrefix)
        writer.int(Temporal.floorDiv(micros, 1_000))
        writer.raw(",\"snapshot\":\"")
        writer.stringContents(event.snapshot.rawValue)
        writer.byte(UInt8(ascii: "\""))
        writer.raw(sourceDatabaseFragment)
        switch event.position {
        case .postgres(let position):
            // `SourceInfo.sequence()`: a JSON array of decimal strings, itself written as a JSON string.
            writer.raw("\"[")
            if let last = position.lastCommitLSN {
                writer.raw("\\\"")
                writer.uint(last.rawValue)
                writer.raw("\\\"")
            } else {
                writer.null()
            }
            writer.raw(",\\\"")
            writer.uint(position.lsn.rawValue)
            writer.raw("\\\"]\"")
        }
        writer.raw(",\"ts_us\":")
        writer.int(micros)
        writer.raw(",\"ts_ns\":")
        writer.int(micros &* 1_000)
        writer.raw(tableFragment)
        switch event.position {
        case .postgres(let position):
            // Incremental-snapshot reads leave txId, lsn and xmin null (`PostgresSourceInfoStructMaker`).
            let incremental = event.snapshot == .incremental
            if let xid = position.xid, !incremental { writer.uint(UInt64(xid)) } else { writer.null() }
            writer.raw(",\"lsn\":")
            // Java `Lsn.asLong()`: the same 64 bits, signed.
            if incremental { writer.null() } else { writer.int(Int64(bitPattern: position.lsn.rawValue)) }
            writer.raw(",\"xmin\":null,\"commit_lsn\":")
            writer.int(Int64(bitPattern: position.commitLSN.rawValue))
            writer.raw(",\"event_seq\":")
            writer.int(position.eventIndex)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    // MARK: - Logical decoding messages

    private mutating func formatMessage(
        _ event: ChangeEvent,
        nowMicros: Int64,
        into records: inout [FormattedRecord]
    ) throws(EventFormatError) {
        guard let message = event.message else {
            throw formatError(.missingMessage, event, detail: "op m without message")
        }
        var key = JSONWriter(capacity: messageKeyFraming.count + message.prefix.utf8.count + 16)
        key.raw(messageKeyFraming)
        key.raw("{\"prefix\":")
        key.string(message.prefix)
        key.byte(UInt8(ascii: "}"))
        if options.keySchemasEnabled { key.byte(UInt8(ascii: "}")) }

        var value = JSONWriter(capacity: messageValueFraming.count + 512 + message.content.count * 4 / 3)
        value.raw(messageValueFraming)
        value.raw("{\"op\":\"m\",\"ts_ms\":")
        value.int(Temporal.floorDiv(nowMicros, 1_000))
        value.byte(UInt8(ascii: ","))
        var fragment = JSONWriter(capacity: 64)
        fragment.raw(",\"schema\":")
        fragment.string(event.table.id.schema)
        fragment.raw(",\"table\":")
        fragment.string(event.table.id.name)
        fragment.raw(",\"txId\":")
        writeSource(event, tableFragment: fragment.bytes, into: &value)
        value.raw(",\"transaction\":")
        // Non-transactional messages have no transaction id and are not counted.
        if message.transactional {
            writeTransactionBlock(event, collection: Self.logicalDecodingMessageCollection, into: &value)
        } else {
            value.null()
        }
        value.raw(",\"message\":{\"prefix\":")
        value.string(message.prefix)
        value.raw(",\"content\":")
        switch options.binaryHandling {
        case .bytes, .base64: value.base64(message.content)
        case .base64URLSafe: value.base64(message.content, urlSafe: true)
        case .hex: value.hex(message.content)
        }
        value.raw("}}")
        if options.schemasEnable { value.byte(UInt8(ascii: "}")) }
        records.append(FormattedRecord(topic: options.messageTopic, key: key.bytes, value: value.bytes))
    }

    // MARK: - Errors

    private func formatError(_ code: EventFormatError.Code, _ event: ChangeEvent, detail: String) -> EventFormatError {
        EventFormatError(code: code, table: event.table.id, column: nil, position: event.position, detail: detail)
    }

    private func wrap(_ failure: ValueEncodingFailureAt, _ event: ChangeEvent) -> EventFormatError {
        let columns = event.table.columns
        let column = failure.column < columns.count ? columns[failure.column] : nil
        let typeDetail = column.map { " (type \($0.type.typeName))" } ?? ""
        return EventFormatError(
            code: failure.failure.code,
            table: event.table.id,
            column: column?.name,
            position: event.position,
            detail: failure.failure.detail + typeDetail,
            offendingBytesHex: failure.failure.offendingText.map(EventFormatError.hex)
        )
    }
}

// MARK: - Transaction metadata and heartbeats

extension DebeziumJSONFormatter {
    /// Starts a source transaction: with `provideTransactionMetadata`, appends its BEGIN record to the
    /// transaction topic and resets the per-transaction counters that fill each event's `transaction` block
    /// (c.5, `TransactionMonitor`). Without it, does nothing.
    ///
    /// Ids follow `PostgresTransactionMonitor.adjustTxId`: `"<xid>:<lsn>"` with the LSN of the record at hand,
    /// so BEGIN (with `lsn`), each event (its own `lsn`) and END differ after the colon. When `xid` or `lsn` is
    /// nil, `boundary.id` is used as is for every record of the transaction.
    public mutating func beginTransaction(
        _ boundary: TransactionBoundary,
        xid: UInt32?,
        lsn: LSN?,
        into records: inout [FormattedRecord]
    ) {
        guard options.provideTransactionMetadata else { return }
        var open = OpenTransaction(idPrefix: nil, fixedID: boundary.id)
        if let xid {
            var prefix = JSONWriter(capacity: 16)
            prefix.byte(UInt8(ascii: "\""))
            prefix.uint(UInt64(xid))
            prefix.byte(UInt8(ascii: ":"))
            open.idPrefix = prefix.bytes
        }
        transaction = open
        records.append(transactionRecord(isEnd: false, boundary: boundary, lsn: lsn, open: open))
    }

    /// Ends the open source transaction: with `provideTransactionMetadata`, appends its END record with
    /// `event_count` and per-table `data_collections`, in first-seen order (c.5). Without it, does nothing.
    public mutating func endTransaction(
        _ boundary: TransactionBoundary,
        xid: UInt32?,
        lsn: LSN?,
        into records: inout [FormattedRecord]
    ) {
        guard options.provideTransactionMetadata else { return }
        var open = transaction ?? OpenTransaction(idPrefix: nil, fixedID: boundary.id)
        if open.idPrefix == nil, xid != nil {
            // END without a matching BEGIN: still build the id the documented way.
            var prefix = JSONWriter(capacity: 16)
            prefix.byte(UInt8(ascii: "\""))
            prefix.uint(UInt64(xid ?? 0))
            prefix.byte(UInt8(ascii: ":"))
            open.idPrefix = prefix.bytes
        }
        transaction = nil
        records.append(transactionRecord(isEnd: true, boundary: boundary, lsn: lsn, open: open))
    }

    private func writeTransactionID(_ open: OpenTransaction, lsn: LSN?, into writer: inout JSONWriter) {
        if let prefix = open.idPrefix, let lsn {
            writer.raw(prefix)
            writer.uint(lsn.rawValue)
            writer.byte(UInt8(ascii: "\""))
        } else {
            writer.string(open.fixedID)
        }
    }

    private func transactionRecord(
        isEnd: Bool,
        boundary: TransactionBoundary,
        lsn: LSN?,
        open: OpenTransaction
    ) -> FormattedRecord {
        var key = JSONWriter(capacity: transactionKeyFraming.count + 48)
        key.raw(transactionKeyFraming)
        key.raw("{\"id\":")
        writeTransactionID(open, lsn: lsn, into: &key)
        key.byte(UInt8(ascii: "}"))
        if options.keySchemasEnabled { key.byte(UInt8(ascii: "}")) }

        var value = JSONWriter(capacity: transactionValueFraming.count + 128 + 64 * open.collections.count)
        value.raw(transactionValueFraming)
        value.raw(isEnd ? "{\"status\":\"END\",\"id\":" : "{\"status\":\"BEGIN\",\"id\":")
        writeTransactionID(open, lsn: lsn, into: &value)
        if isEnd {
            value.raw(",\"event_count\":")
            value.int(open.totalOrder)
            value.raw(",\"data_collections\":[")
            for (index, collection) in open.collections.enumerated() {
                if index > 0 { value.byte(UInt8(ascii: ",")) }
                value.raw("{\"data_collection\":")
                value.string(collection)
                value.raw(",\"event_count\":")
                value.int(open.perCollection[collection] ?? 0)
                value.byte(UInt8(ascii: "}"))
            }
            value.byte(UInt8(ascii: "]"))
        } else {
            value.raw(",\"event_count\":null,\"data_collections\":null")
        }
        value.raw(",\"ts_ms\":")
        value.int(Temporal.floorDiv(boundary.timestampMicros, 1_000))
        value.byte(UInt8(ascii: "}"))
        if options.schemasEnable { value.byte(UInt8(ascii: "}")) }
        return FormattedRecord(topic: options.effectiveTransactionTopic, key: key.bytes, value: value.bytes)
    }

    /// Writes the event's `transaction` block and counts the event, or writes null when metadata is off, no
    /// transaction is open, or the event has no transaction id (snapshot reads).
    fileprivate mutating func writeTransactionBlock(
        _ event: ChangeEvent,
        collection: String,
        into writer: inout JSONWriter
    ) {
        guard options.provideTransactionMetadata, var open = transaction,
            case .postgres(let position) = event.position, position.xid != nil
        else {
            writer.null()
            return
        }
        transaction = nil  // keep `open` uniquely referenced: no copy of its dictionary
        open.totalOrder += 1
        let collectionOrder = (open.perCollection[collection] ?? 0) + 1
        if collectionOrder == 1 { open.collections.append(collection) }
        open.perCollection[collection] = collectionOrder
        writer.raw("{\"id\":")
        writeTransactionID(open, lsn: position.lsn, into: &writer)
        writer.raw(",\"total_order\":")
        writer.int(open.totalOrder)
        writer.raw(",\"data_collection_order\":")
        writer.int(collectionOrder)
        writer.byte(UInt8(ascii: "}"))
        transaction = open
    }

    /// A heartbeat record (c.6): topic `__debezium-heartbeat.<topic.prefix>`, key `{"serverName":…}`,
    /// value `{"ts_ms":…}` (wall-clock ms). Debezium sends one only once a source offset exists.
    public func heartbeat(timestampMillis: Int64) -> FormattedRecord {
        var value = JSONWriter(capacity: heartbeatValueFraming.count + 32)
        value.raw(heartbeatValueFraming)
        value.raw("{\"ts_ms\":")
        value.int(timestampMillis)
        value.byte(UInt8(ascii: "}"))
        if options.schemasEnable { value.byte(UInt8(ascii: "}")) }
        return FormattedRecord(topic: options.heartbeatTopic, key: heartbeatKeyJSON, value: value.bytes)
    }
}
