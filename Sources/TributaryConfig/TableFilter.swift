import TributaryCore

/// Which schemas, tables and columns are captured, from Debezium's `schema.include.list`,
/// `schema.exclude.list`, `table.include.list`, `table.exclude.list`, `column.include.list` and
/// `column.exclude.list`.
///
/// Semantics (Debezium `RelationalTableFilters`): a table is captured when its schema passes the schema
/// filter **and** `schema.table` passes the table filter; an include list admits only what it matches, an
/// exclude list admits everything else; an unset list admits everything. Every regex must match the whole
/// name, ignoring case. PostgreSQL's system schemas (`pg_catalog`, `information_schema`, `pg_toast`) are
/// never captured.
public struct TableFilter: Sendable, Hashable {
    /// Schemas that are never captured, whatever the lists say.
    public static let systemSchemas: Set<String> = ["pg_catalog", "information_schema", "pg_toast"]

    /// Admits every non-system table and every column.
    public static let all = TableFilter()

    /// `schema.include.list`. Default: unset (all schemas).
    public var schemaIncludeList: RegexList?
    /// `schema.exclude.list`. Default: unset.
    public var schemaExcludeList: RegexList?
    /// `table.include.list`, over `schema.table`. Default: unset (all tables).
    public var tableIncludeList: RegexList?
    /// `table.exclude.list`, over `schema.table`. Default: unset.
    public var tableExcludeList: RegexList?
    /// `column.include.list`, over `schema.table.column`. Default: unset (all columns).
    public var columnIncludeList: RegexList?
    /// `column.exclude.list`, over `schema.table.column`. Default: unset.
    public var columnExcludeList: RegexList?

    public init(
        schemaIncludeList: RegexList? = nil,
        schemaExcludeList: RegexList? = nil,
        tableIncludeList: RegexList? = nil,
        tableExcludeList: RegexList? = nil,
        columnIncludeList: RegexList? = nil,
        columnExcludeList: RegexList? = nil
    ) {
        self.schemaIncludeList = schemaIncludeList
        self.schemaExcludeList = schemaExcludeList
        self.tableIncludeList = tableIncludeList
        self.tableExcludeList = tableExcludeList
        self.columnIncludeList = columnIncludeList
        self.columnExcludeList = columnExcludeList
    }

    /// Whether tables of `schema` can be captured.
    public func includesSchema(_ schema: String) -> Bool {
        if Self.systemSchemas.contains(schema) { return false }
        return Self.admits(schema, include: schemaIncludeList, exclude: schemaExcludeList)
    }

    /// Whether `table` is captured.
    public func includes(_ table: TableID) -> Bool {
        includesSchema(table.schema)
            && Self.admits(table.description, include: tableIncludeList, exclude: tableExcludeList)
    }

    /// Whether `column` of `table` is emitted in events (`schema.table.column` against the column lists).
    /// Key columns are subject to the lists too, as in Debezium.
    public func includesColumn(_ column: String, of table: TableID) -> Bool {
        Self.admits("\(table.schema).\(table.name).\(column)", include: columnIncludeList, exclude: columnExcludeList)
    }

    /// Whether any column list is set (when not, `includesColumn` is always true).
    public var filtersColumns: Bool { columnIncludeList != nil || columnExcludeList != nil }

    private static func admits(_ name: String, include: RegexList?, exclude: RegexList?) -> Bool {
        if let include { return include.matches(name) }
        if let exclude { return !exclude.matches(name) }
        return true
    }
}
