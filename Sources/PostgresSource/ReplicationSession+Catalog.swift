import Logging
import PGOutput
import TributaryCore

/// Catalog work done on the ordinary (non-replication) connection: server checks, publication and slot
/// management, and the lookups pgoutput does not carry (nullability, primary keys, user types).
extension ReplicationSession {
    func checkServer(_ catalog: PGConnection) throws {
        let walLevel = try catalog.query("SHOW wal_level").rows.first?.first ?? nil
        guard walLevel == "logical" else {
            throw PostgresSourceError(
                .configuration,
                "wal_level is '\(walLevel ?? "?")' on \(configuration.connection.host):\(configuration.connection.port); logical decoding needs wal_level=logical (set it in postgresql.conf and restart the server)")
        }
    }

    /// Captured tables: ordinary and partitioned tables outside system schemas that pass the filters.
    func capturedTables(_ catalog: PGConnection) throws -> [(id: TableID, oid: UInt32, identity: String, hasPrimaryKey: Bool)] {
        let result = try catalog.query("""
            SELECT n.nspname, c.relname, c.oid, c.relreplident,
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY 1, 2
            """)
        return result.rows.compactMap { row in
            guard let schema = row[0], let name = row[1], let oidText = row[2], let oid = UInt32(oidText) else { return nil }
            let id = TableID(schema: schema, name: name)
            guard configuration.captureTable(id) else { return nil }
            return (id, oid, row[3] ?? "d", row[4] == "t")
        }
    }

    func preparePublication(_ catalog: PGConnection) throws {
        let name = configuration.publicationName
        let tables = try capturedTables(catalog)
        let existing = try catalog.query("SELECT puballtables FROM pg_publication WHERE pubname = $1", [name])
        let quotedTables = tables.map { "\(quoteIdentifier($0.id.schema)).\(quoteIdentifier($0.id.name))" }
        if existing.rows.isEmpty {
            switch configuration.publicationAutocreate {
            case .disabled:
                throw PostgresSourceError(
                    .publicationMissing,
                    "publication '\(name)' does not exist and publication.autocreate.mode is disabled: create it (CREATE PUBLICATION \(quoteIdentifier(name)) FOR TABLE …) or change the mode")
            case .allTables:
                try catalog.query("CREATE PUBLICATION \(quoteIdentifier(name)) FOR ALL TABLES")
                logger.notice("created publication for all tables", metadata: [LoggingKeys.publication: "\(name)"])
            case .filtered:
                if quotedTables.isEmpty {
                    try catalog.query("CREATE PUBLICATION \(quoteIdentifier(name))")
                } else {
                    try catalog.query("CREATE PUBLICATION \(quoteIdentifier(name)) FOR TABLE \(quotedTables.joined(separator: ", "))")
                }
                logger.notice(
                    "created publication for the captured tables",
                    metadata: [LoggingKeys.publication: "\(name)", "pg.tables": "\(tables.count)"])
            }
        } else if configuration.publicationAutocreate == .filtered, existing.value(0, "puballtables") == "f",
            !quotedTables.isEmpty
        {
            // Keep a filtered publication in step with the configured tables, as Debezium does.
            try catalog.query("ALTER PUBLICATION \(quoteIdentifier(name)) SET TABLE \(quotedTables.joined(separator: ", "))")
        }

        // Warn about captured tables the publication misses, and about before-images.
        let published = try catalog.query(
            "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", [name])
        let publishedSet = Set(published.rows.compactMap { row -> TableID? in
            guard let s = row[0], let t = row[1] else { return nil }
            return TableID(schema: s, name: t)
        })
        for table in tables {
            if !publishedSet.contains(table.id) {
                logger.warning(
                    "captured table is not in the publication: its changes will not be seen",
                    metadata: [LoggingKeys.table: "\(table.id)", LoggingKeys.publication: "\(name)"])
                continue
            }
            switch table.identity {
            case "f":
                break
            case "n":
                logger.warning(
                    "REPLICA IDENTITY NOTHING: updates and deletes of this table fail on the server and have no before image; use REPLICA IDENTITY FULL",
                    metadata: [LoggingKeys.table: "\(table.id)"])
            case "d" where !table.hasPrimaryKey:
                logger.warning(
                    "table has no primary key and REPLICA IDENTITY DEFAULT: updates and deletes fail on the server; set REPLICA IDENTITY FULL",
                    metadata: [LoggingKeys.table: "\(table.id)"])
            default:
                logger.warning(
                    "REPLICA IDENTITY \(table.identity == "i" ? "USING INDEX" : "DEFAULT"): updates carry no before image and deletes only the key; set REPLICA IDENTITY FULL for full before images",
                    metadata: [LoggingKeys.table: "\(table.id)"])
            }
        }
        if tables.isEmpty {
            logger.warning("no table matches the table filters: nothing will be captured")
        }
    }

    struct SlotState {
        var confirmedFlush: UInt64
        var lost: Bool
    }

    /// Looks up the slot: nil when it does not exist. Throws when it cannot be used at all (other plugin or
    /// database, in use by another connection).
    func inspectSlot(_ catalog: PGConnection) throws -> SlotState? {
        let result = try catalog.query("""
            SELECT plugin, database, confirmed_flush_lsn, wal_status, active_pid
            FROM pg_replication_slots WHERE slot_name = $1
            """, [configuration.slotName])
        let slot = configuration.slotName
        guard !result.rows.isEmpty else { return nil }
        if let plugin = result.value(0, "plugin"), plugin != "pgoutput" {
            throw PostgresSourceError(.configuration, "replication slot '\(slot)' uses plugin '\(plugin)'; Tributary needs pgoutput: choose another slot.name")
        }
        if let database = result.value(0, "database"), database != configuration.connection.database {
            throw PostgresSourceError(.configuration, "replication slot '\(slot)' belongs to database '\(database)', not '\(configuration.connection.database)': choose another slot.name")
        }
        if let active = result.value(0, "active_pid") {
            throw PostgresSourceError(.slotInUse, "replication slot '\(slot)' is in use by server process \(active) (another agent, or the connection of a run that just died); retrying")
        }
        let confirmed = result.value(0, "confirmed_flush_lsn").flatMap { LSN(string: $0) }?.rawValue ?? 0
        return SlotState(confirmedFlush: confirmed, lost: result.value(0, "wal_status") == "lost")
    }

    enum StartPlan: Equatable {
        /// Stream from the offset (or the slot's position when there is none).
        case stream
        /// Take a new snapshot from a (re)created slot's exported snapshot, then stream.
        case freshSnapshot
        /// Continue an interrupted snapshot (its progress is in the offset), then stream.
        case resumeSnapshot
    }

    /// Reconciles the stored offset with the slot and the snapshot mode (issue: start-up reconciliation).
    /// Every case either has a plan or is refused with a message naming the fix.
    func decideStart(offset: Offset?, slot: SlotState?) throws -> StartPlan {
        let mode = configuration.snapshot.mode
        let name = configuration.slotName
        let canResnapshot = mode == .whenNeeded || mode == .always
        if mode == .always { return .freshSnapshot }
        guard let offset else {
            return mode == .noData ? .stream : .freshSnapshot
        }
        if let slot, slot.lost {
            if canResnapshot { return .freshSnapshot }
            throw PostgresSourceError(
                .slotInvalidated,
                "replication slot '\(name)' was invalidated (max_slot_wal_keep_size): the WAL it needed is gone. Set snapshot.mode: when_needed to re-snapshot automatically, or drop the slot and run `tributary offsets reset`")
        }
        guard let slot else {
            if canResnapshot { return .freshSnapshot }
            throw PostgresSourceError(
                .slotMissing,
                "replication slot '\(name)' does not exist, but the stored offset is at \(LSN(offset.lsn ?? 0)): changes after it cannot be re-read. Set snapshot.mode: when_needed to re-snapshot, or run `tributary offsets reset` to start over")
        }
        if offset.snapshot != nil {
            return mode == .noData ? .stream : .resumeSnapshot
        }
        if let lsn = offset.lsn, lsn < slot.confirmedFlush {
            if canResnapshot { return .freshSnapshot }
            throw PostgresSourceError(
                .positionUnavailable,
                "the stored offset \(LSN(lsn)) is behind slot '\(name)' (confirmed_flush_lsn \(LSN(slot.confirmedFlush))): the slot cannot re-send changes in between. Accept the gap with `tributary offsets set --lsn \(LSN(slot.confirmedFlush))`, or re-snapshot (snapshot.mode: when_needed)")
        }
        return .stream
    }

    // MARK: - Relations and types

    static let primaryKeyQuery = """
        SELECT a.attname FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1 AND i.indisprimary
        ORDER BY array_position(i.indkey::int2[], a.attnum)
        """

    /// Rebuilds the captured schema of a relation after a RELATION message: nullability and primary key
    /// from the catalog, `message.key.columns`, excluded columns; bumps the version when the shape changed.
    func refreshSchema(relationOID oid: UInt32) throws {
        for column in decoder.relation(forOID: oid)?.columns.map(\.typeOID) ?? [] {
            try lookUpType(oid: column, force: false)
        }
        let decoded = try decoder.tableSchema(forRelation: oid)
        let captured = configuration.captureTable(decoded.id)
        var notNull: Set<String> = []
        var primaryKey: [String] = []
        if captured, let catalog {
            let attributes = try catalog.query(
                "SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attnotnull",
                [String(oid)])
            notNull = Set(attributes.rows.compactMap { $0[0] })
            primaryKey = try catalog.query(Self.primaryKeyQuery, [String(oid)]).rows.compactMap { $0[0] }
        }
        var (schema, sourceIndices) = applyCaptureRules(decoded, notNull: notNull, primaryKey: primaryKey, pgoutputKeys: true)
        let previous = schemas[oid]
        if let previous, previous.schema.columns == schema.columns, previous.schema.keyOrder == schema.keyOrder {
            schema.version = previous.schema.version
        } else {
            schema.version = (previous?.schema.version ?? -1) + 1
        }
        schemas[oid] = CapturedSchema(schema: schema, sourceIndices: sourceIndices, captured: captured, relationOID: oid)
    }

    /// The rules that turn a table's columns into the captured schema, shared by streaming and snapshot:
    /// nullability, key = `message.key.columns` override, else the primary key (in key order), else (streaming
    /// only) pgoutput's replica-identity key flags unless every column is flagged (REPLICA IDENTITY FULL
    /// without a key: Debezium's null key); `column.exclude.list` drops columns.
    /// Returns the schema and, per kept column, its index among the table's columns.
    func applyCaptureRules(
        _ table: TableSchema, notNull: Set<String>, primaryKey: [String], pgoutputKeys: Bool
    ) -> (TableSchema, [Int]) {
        let id = table.id
        let overrides = configuration.keyColumns(id, table.columns.map(\.name))
        let allFlagged = !table.columns.isEmpty && table.columns.allSatisfy(\.isKey)
        var sourceIndices: [Int] = []
        var columns: [Column] = []
        for (index, var column) in table.columns.enumerated() {
            if configuration.excludeColumn(id, column.name) { continue }
            column.isOptional = !notNull.contains(column.name)
            if let overrides {
                column.isKey = overrides.contains(column.name)
            } else if !primaryKey.isEmpty {
                column.isKey = primaryKey.contains(column.name)
            } else {
                column.isKey = pgoutputKeys && column.isKey && !allFlagged
            }
            sourceIndices.append(index)
            columns.append(column)
        }
        let keyNames = overrides ?? primaryKey
        let keyOrder = keyNames.compactMap { name in columns.firstIndex { $0.name == name } }
        var schema = table
        schema.columns = columns
        schema.keyOrder = keyOrder.isEmpty ? nil : keyOrder
        return (schema, sourceIndices)
    }

    /// Registers a user-defined type (enum, domain, array of one, other) with the decoder's type registry.
    func lookUpType(oid: UInt32, force: Bool) throws {
        guard oid >= 16384, let catalog else { return }
        if !force, lookedUpTypes.contains(oid) { return }
        lookedUpTypes.insert(oid)
        let result = try catalog.query("""
            SELECT t.typname, t.typtype, t.typbasetype, t.typtypmod, t.typelem, t.typcategory,
                   (SELECT string_agg(e.enumlabel, E'\\x01' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
            FROM pg_type t WHERE t.oid = $1
            """, [String(oid)])
        guard let row = result.rows.first, let name = row[0] else { return }
        let typtype = row[1] ?? ""
        let base = UInt32(row[2] ?? "0") ?? 0
        let typmod = Int32(row[3] ?? "-1") ?? -1
        let element = UInt32(row[4] ?? "0") ?? 0
        let category = row[5] ?? ""
        if typtype == "e" {
            let labels = (row[6] ?? "").split(separator: "\u{01}").map(String.init)
            decoder.typeRegistry.register(oid: oid, name: name, kind: .enumeration(labels: labels))
        } else if typtype == "d" {
            try lookUpType(oid: base, force: false)
            decoder.typeRegistry.register(oid: oid, name: name, kind: .domain(baseOID: base, baseTypmod: typmod))
        } else if category == "A", element != 0 {
            try lookUpType(oid: element, force: false)
            decoder.typeRegistry.register(oid: oid, name: name, kind: .array(elementOID: element))
        } else {
            decoder.typeRegistry.register(oid: oid, name: name, kind: .other)
        }
    }
}
