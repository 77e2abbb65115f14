import TributaryCore

/// Errors of the PostgreSQL source. `isRetriable` separates connection trouble (retried with backoff)
/// from permanent problems (authentication, missing slot or publication, configuration, corrupt data).
public struct PostgresSourceError: Error, RetriableError, OffsetConflictError, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed, queryFailed, replicationFailed, authenticationFailed, slotMissing,
                slotInvalidated, slotInUse, publicationMissing, configuration, decoding, protocolViolation,
                positionUnavailable
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        public static let connectionFailed = Code(.connectionFailed)
        public static let queryFailed = Code(.queryFailed)
        public static let replicationFailed = Code(.replicationFailed)
        public static let authenticationFailed = Code(.authenticationFailed)
        public static let slotMissing = Code(.slotMissing)
        public static let slotInvalidated = Code(.slotInvalidated)
        public static let slotInUse = Code(.slotInUse)
        public static let publicationMissing = Code(.publicationMissing)
        public static let configuration = Code(.configuration)
        public static let decoding = Code(.decoding)
        public static let protocolViolation = Code(.protocolViolation)
        public static let positionUnavailable = Code(.positionUnavailable)
    }

    public var code: Code
    public var message: String
    /// SQLSTATE of the server error, when there is one.
    public var sqlState: String?
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    public init(
        _ code: Code, _ message: String, sqlState: String? = nil, underlying: (any Error)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var isRetriable: Bool {
        switch code {
        case .connectionFailed, .replicationFailed, .slotInUse:
            // SQLSTATE class 28: invalid authorization, never retried.
            if let sqlState, sqlState.hasPrefix("28") { return false }
            return true
        case .queryFailed:
            // Class 08 connection exception, 57P01 admin shutdown, 53 insufficient resources.
            guard let sqlState else { return true }
            return sqlState.hasPrefix("08") || sqlState.hasPrefix("57") || sqlState.hasPrefix("53")
        default:
            return false
        }
    }

    /// The stored offset is behind the slot: possibly stale (see `OffsetConflictError`).
    public var isOffsetConflict: Bool { code == .positionUnavailable }

    public var description: String {
        var text = "PostgreSQL source error (\(code)): \(message)"
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        if let underlying { text += " — \(underlying)" }
        return text
    }
}
