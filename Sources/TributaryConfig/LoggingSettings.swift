/// Logging (`log.level`, `log.format`).
public struct LoggingSettings: Sendable, Hashable {
    /// `log.level`; raw values are swift-log's `Logger.Level` raw values.
    public enum Level: String, Sendable, Hashable, CaseIterable {
        case trace
        case debug
        case info
        case notice
        case warning
        case error
    }

    /// `log.format`.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// Human-readable lines.
        case text
        /// One JSON object per line.
        case json
    }

    /// `log.level`. Default: `info`.
    public var level: Level
    /// `log.format`. Default: `text`.
    public var format: Format

    public init(level: Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }
}
