import TributaryCore

/// Custom message key columns from Debezium's `message.key.columns`:
/// `<table regex>:<column>,<column>;<table regex>:<column>` (e.g.
/// `inventory.customers:pk1,pk2;(.*).purchaseorders:pk3,pk4`).
///
/// Semantics (Debezium `Key.CustomKeyMapper`): the table part is a regex over `schema.table` and each
/// column a regex over the column name, both matched whole and ignoring case. A table's key is the
/// columns matched by every entry whose table regex matches, in entry order, then column order within the
/// table; a table no entry matches (or whose entries match no column) keeps its default key.
public struct KeyColumnOverrides: Sendable, Hashable {
    /// One `<table regex>:<columns>` entry.
    public struct Entry: Sendable, Hashable {
        /// Regex over `schema.table`.
        public let table: String
        /// Column regexes, in key order.
        public let columns: [String]

        public init(table: String, columns: [String]) {
            self.table = table
            self.columns = columns
        }
    }

    /// No overrides: every table keeps its primary key / replica identity.
    public static let none = KeyColumnOverrides(entries: [], compiled: [])

    /// The entries, in the order written.
    public let entries: [Entry]
    private let compiled: [(table: CompiledRegex, columns: [CompiledRegex])]

    private init(entries: [Entry], compiled: [(table: CompiledRegex, columns: [CompiledRegex])]) {
        self.entries = entries
        self.compiled = compiled
    }

    /// Parses the `message.key.columns` syntax. Throws `ConfigurationError.invalidValue` (key
    /// `message.key.columns`) naming the malformed entry or regex.
    public init(parsing text: String) throws {
        var entries: [Entry] = []
        var compiled: [(table: CompiledRegex, columns: [CompiledRegex])] = []
        for rawEntry in text.split(separator: ";", omittingEmptySubsequences: false) {
            let entry = rawEntry.trimmedWhitespace
            if entry.isEmpty { continue }
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            let table = parts.first.map(\.trimmedWhitespace) ?? ""
            let columns =
                parts.count == 2
                ? parts[1].split(separator: ",", omittingEmptySubsequences: false).map(\.trimmedWhitespace) : []
            guard parts.count == 2, !table.isEmpty, !table.contains(where: \.isWhitespace),
                !columns.isEmpty, columns.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) })
            else {
                throw Self.error("entry `\(entry)` is not `<schema.table regex>:<column>,<column>`")
            }
            do {
                compiled.append((try CompiledRegex(table), try columns.map(CompiledRegex.init)))
            } catch let error as ConfigurationError {
                throw Self.error(error.message)
            }
            entries.append(Entry(table: table, columns: columns))
        }
        self.init(entries: entries, compiled: compiled)
    }

    /// Whether no override is configured.
    public var isEmpty: Bool { entries.isEmpty }

    /// The key columns for `table`, given its column names in table order; nil when the table keeps its
    /// default key.
    public func keyColumns(for table: TableID, columns: [String]) -> [String]? {
        let tableName = table.description
        var key: [String] = []
        for entry in compiled where entry.table.wholeMatches(tableName) {
            for columnRegex in entry.columns {
                for column in columns where columnRegex.wholeMatches(column) && !key.contains(column) {
                    key.append(column)
                }
            }
        }
        return key.isEmpty ? nil : key
    }

    public static func == (lhs: KeyColumnOverrides, rhs: KeyColumnOverrides) -> Bool { lhs.entries == rhs.entries }
    public func hash(into hasher: inout Hasher) { hasher.combine(entries) }

    private static func error(_ message: String) -> ConfigurationError {
        ConfigurationError(code: .invalidValue, key: "message.key.columns", source: nil, message: message)
    }
}
