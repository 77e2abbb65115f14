import TributaryCore

/// A configuration problem found at start-up: an unreadable or malformed file, an unknown key, a bad or
/// missing value. It names the key and where it came from, and never contains the value of a secret.
///
/// Configuration errors are permanent (`isRetriable == false`): retrying cannot fix them.
public struct ConfigurationError: Error, CustomStringConvertible, RetriableError {
    /// What kind of problem this is. Extensible: new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadableFile
            case invalidYAML
            case unknownKey
            case invalidValue
            case missingValue
            case conflictingKeys
            case reservedKey
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The configuration file cannot be read (missing, permissions, not UTF-8).
        public static let unreadableFile = Code(.unreadableFile)
        /// The file is not YAML, or not a mapping of scalar values.
        public static let invalidYAML = Code(.invalidYAML)
        /// A key (or `TRIBUTARY_*` environment variable) that Tributary does not know.
        public static let unknownKey = Code(.unknownKey)
        /// A value of the wrong type or outside its allowed set or range.
        public static let invalidValue = Code(.invalidValue)
        /// A required key is missing or empty.
        public static let missingValue = Code(.missingValue)
        /// Keys that cannot be combined (`table.include.list` with `table.exclude.list`, …), or one key
        /// given twice with different values in the same source.
        public static let conflictingKeys = Code(.conflictingKeys)
        /// A key the agent sets itself (`kafka.transactional.id`, `kafka.enable.idempotence`, …).
        public static let reservedKey = Code(.reservedKey)

        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public var code: Code
    /// The offending key (`database.port`, `kafka.transactional.id`), nil for file-level problems.
    public var key: String?
    /// Where the offending value came from, when known.
    public var source: ConfigurationSource?
    /// What was expected. Never contains a secret value.
    public var message: String
    /// The error that caused this one (file-system errors). YAML parser errors are not kept: their text
    /// quotes the document, which may hold secrets.
    public var underlying: (any Error)?
    /// Where in Tributary the error was raised.
    public var file: String
    public var line: Int

    public init(
        code: Code,
        key: String?,
        source: ConfigurationSource?,
        message: String,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.key = key
        self.source = source
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Configuration cannot be fixed by retrying.
    public var isRetriable: Bool { false }

    /// `configuration error (invalidValue): database.port (from environment variable
    /// TRIBUTARY_DATABASE_PORT): expected an integer in 1...65535, got "x"`.
    public var description: String {
        var text = "configuration error (\(code))"
        if let key {
            text += ": \(key)"
        }
        if let source {
            text += " (from \(source))"
        }
        return text + ": " + message
    }
}
