/// Where a configuration value came from. Precedence, lowest to highest:
/// defaults < file < environment < overrides (command-line flags).
public enum ConfigurationSource: Sendable, Hashable, CustomStringConvertible {
    /// The built-in default (or a default derived from other keys, such as `offset.storage.topic`).
    case defaultValue
    /// The YAML configuration file; `line` is 1-based when known.
    case file(path: String, line: Int?)
    /// An environment variable `TRIBUTARY_<KEY>`.
    case environment(variable: String)
    /// An explicit override passed by the command line.
    case override

    /// Higher wins when the same key is set in several places.
    var precedence: Int {
        switch self {
        case .defaultValue: 0
        case .file: 1
        case .environment: 2
        case .override: 3
        }
    }

    public var description: String {
        switch self {
        case .defaultValue:
            "default"
        case .file(let path, let line?):
            "file \(path):\(line)"
        case .file(let path, nil):
            "file \(path)"
        case .environment(let variable):
            "environment variable \(variable)"
        case .override:
            "command-line override"
        }
    }
}
