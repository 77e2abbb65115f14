import NIOCore
import TributaryCore

/// The decoding context of one pgoutput stream: decodes each XLogData payload and keeps what later
/// messages depend on — the relation cache (Relation messages), type names (Type messages) and whether the
/// stream is inside a Stream Start … Stream Stop block (protocol version 2: the xid field).
///
/// It builds one `TableSchema` per relation shape and caches it with the column conversion plans, so
/// ``tableSchema(forRelation:)`` and ``values(of:relation:)`` do no type resolution per row.
///
/// Schema versions: the first Relation of an OID gets version 1; whenever a later Relation message (or a
/// change of ``typeRegistry`` / ``keyColumnOverrides``) changes the built schema, the version increments.
/// Re-sent Relation messages with the same shape keep the version.
public struct PGOutputDecoder: Sendable {
    struct RelationEntry: Sendable {
        var relation: PGOutputMessage.Relation
        var schema: TableSchema
        var plans: [PGValuePlan]
    }

    private var registry: PGTypeRegistry
    private var relations: [UInt32: RelationEntry] = [:]
    private var overrides: [TableID: Set<String>] = [:]

    /// Whether the last message was inside a Stream Start … Stream Stop block.
    public private(set) var isInStream = false
    /// The xid of the open stream block, if any.
    public private(set) var streamXID: UInt32?

    public init(typeRegistry: PGTypeRegistry = PGTypeRegistry()) {
        self.registry = typeRegistry
    }

    /// The types used to build schemas and convert values. The source sets it after reading the catalog
    /// (enum labels, domains, arrays of user types); cached schemas are rebuilt (versions bump where the
    /// result changed).
    public var typeRegistry: PGTypeRegistry {
        get { registry }
        set {
            registry = newValue
            rebuildSchemas()
        }
    }

    /// Key columns to use instead of the Relation message's key flags, by table. With REPLICA IDENTITY FULL
    /// PostgreSQL flags *every* column as key, so the source sets the primary key here (or the user's
    /// `message.key.columns`). Cached schemas are rebuilt.
    public var keyColumnOverrides: [TableID: Set<String>] {
        get { overrides }
        set {
            overrides = newValue
            rebuildSchemas()
        }
    }

    // MARK: - Decoding

    /// Decodes one pgoutput message (an XLogData payload) and updates the context.
    ///
    /// - Parameter lsn: the XLogData `dataStart`, carried into errors.
    /// - Throws: `PGOutputDecodingError`; also for Stream Start inside a stream block and Stream Stop
    ///   outside one (the xid fields would be misread after such a desynchronisation).
    public mutating func decode(_ payload: ByteBuffer, at lsn: LSN) throws -> PGOutputMessage {
        var buffer = payload
        let message = try PGOutputMessage.decode(from: &buffer, inStream: isInStream, lsn: lsn)
        switch message {
        case .relation(let relation):
            install(relation)
        case .type(let type):
            registry.learn(type)
            if relations.values.contains(where: { $0.relation.columns.contains { $0.typeOID == type.oid } }) {
                rebuildSchemas()
            }
        case .streamStart(let start):
            guard !isInStream else {
                throw streamStateError(
                    "Stream Start for xid \(start.xid) inside the open stream block of xid \(streamXID ?? 0)",
                    payload,
                    lsn
                )
            }
            isInStream = true
            streamXID = start.xid
        case .streamStop:
            guard isInStream else {
                throw streamStateError("Stream Stop outside a stream block", payload, lsn)
            }
            isInStream = false
            streamXID = nil
        case .begin, .commit, .origin, .insert, .update, .delete, .truncate, .message, .streamCommit,
            .streamAbort:
            break
        }
        return message
    }

    /// Forgets the stream-block state, for a new replication connection (which never starts inside a
    /// block). The relation cache is kept: the server re-sends Relation messages before using them anyway.
    public mutating func resetStreamState() {
        isInStream = false
        streamXID = nil
    }

    // MARK: - Relations, schemas and values

    /// The last Relation message received for `oid`.
    public func relation(forOID oid: UInt32) -> PGOutputMessage.Relation? {
        relations[oid]?.relation
    }

    /// The Tributary schema of a relation: `TableID(schema: namespace, name: relname)` (an empty pgoutput
    /// namespace means `pg_catalog`), columns in relation order, `isKey` from the column flag 1 (or
    /// ``keyColumnOverrides``), key columns non-optional with REPLICA IDENTITY DEFAULT/INDEX, types from
    /// ``typeRegistry``.
    ///
    /// - Throws: `PGOutputDecodingError` `.unknownRelation` if no Relation message announced `oid`.
    public func tableSchema(forRelation oid: UInt32) throws -> TableSchema {
        guard let entry = relations[oid] else { throw unknownRelation(oid) }
        return entry.schema
    }

    /// Converts every column of `tuple` (of relation `oid`) with ``PGValueDecoder``: `'n'` → `.null`,
    /// `'u'` → `.unavailable`, text and binary values by column type.
    ///
    /// - Throws: `PGOutputDecodingError` `.unknownRelation`, `.invalidField` (column count differs from the
    ///   relation's), `.invalidValue` / `.unsupportedFormat` (naming the column and type).
    public func values(of tuple: TupleData, relation oid: UInt32) throws -> [Value] {
        guard let entry = relations[oid] else { throw unknownRelation(oid) }
        guard tuple.columns.count == entry.plans.count else {
            throw PGOutputDecodingError(
                code: .invalidField,
                detail:
                    "tuple has \(tuple.columns.count) column(s), relation \(entry.schema.id) (oid \(oid)) has "
                    + "\(entry.plans.count)"
            )
        }
        var values = [Value]()
        values.reserveCapacity(tuple.columns.count)
        for index in tuple.columns.indices {
            let column = entry.schema.columns[index]
            values.append(
                try PGValueDecoder.decode(
                    tuple.columns[index],
                    plan: entry.plans[index],
                    typeName: column.type.typeName,
                    column: column.name
                )
            )
        }
        return values
    }

    // MARK: - Private

    private mutating func install(_ relation: PGOutputMessage.Relation) {
        let previous = relations[relation.oid]
        var (schema, plans) = build(relation)
        if let previous {
            schema.version = previous.schema.version
            if !Self.sameShape(schema, previous.schema) { schema.version += 1 }
        } else {
            schema.version = 1
        }
        relations[relation.oid] = RelationEntry(relation: relation, schema: schema, plans: plans)
    }

    private mutating func rebuildSchemas() {
        for (oid, entry) in relations {
            var (schema, plans) = build(entry.relation)
            schema.version = entry.schema.version + (Self.sameShape(schema, entry.schema) ? 0 : 1)
            relations[oid] = RelationEntry(relation: entry.relation, schema: schema, plans: plans)
        }
    }

    private static func sameShape(_ a: TableSchema, _ b: TableSchema) -> Bool {
        a.id == b.id && a.columns == b.columns
    }

    private func build(_ relation: PGOutputMessage.Relation) -> (TableSchema, [PGValuePlan]) {
        let id = TableID(schema: relation.namespace.isEmpty ? "pg_catalog" : relation.namespace, name: relation.name)
        let keyOverride = overrides[id]
        let keyGuaranteesNotNull = relation.replicaIdentity == .default || relation.replicaIdentity == .index
        var columns = [Column]()
        var plans = [PGValuePlan]()
        columns.reserveCapacity(relation.columns.count)
        plans.reserveCapacity(relation.columns.count)
        for column in relation.columns {
            let resolved = registry.resolve(oid: column.typeOID, typmod: column.typmod)
            columns.append(
                Column(
                    name: column.name,
                    type: resolved.type,
                    isOptional: !(column.isKey && keyGuaranteesNotNull),
                    isKey: keyOverride.map { $0.contains(column.name) } ?? column.isKey
                )
            )
            plans.append(resolved.plan)
        }
        return (TableSchema(id: id, columns: columns), plans)
    }

    private func unknownRelation(_ oid: UInt32) -> PGOutputDecodingError {
        PGOutputDecodingError(code: .unknownRelation, detail: "no Relation message received for relation oid \(oid)")
    }

    private func streamStateError(_ detail: String, _ payload: ByteBuffer, _ lsn: LSN) -> PGOutputDecodingError {
        PGOutputDecodingError(
            code: .invalidField,
            detail: detail,
            messageType: payload.getInteger(at: payload.readerIndex),
            lsn: lsn,
            byteOffset: 0,
            bytesHex: PGOutputDecodingError.hex(of: payload)
        )
    }
}
