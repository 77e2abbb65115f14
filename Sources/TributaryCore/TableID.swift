/// Identifies a captured table: PostgreSQL `schema.table`, MySQL `database.table`.
public struct TableID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// PostgreSQL schema, or MySQL database.
    public var schema: String
    public var name: String

    public init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    /// `schema.table`, the form used by `table.include.list` and Debezium's `data_collection`.
    public var description: String { "\(schema).\(name)" }

    public static func < (lhs: TableID, rhs: TableID) -> Bool {
        (lhs.schema, lhs.name) < (rhs.schema, rhs.name)
    }
}
