import Synchronization

/// A comma-separated list of regular expressions as Debezium reads `*.include.list` / `*.exclude.list`:
/// items are split on `,` (write `\,` for a literal comma), trimmed, empty items dropped; a string
/// matches when one regex matches the **whole** string, ignoring case (Debezium `Strings.setOfRegex`
/// with `Pattern.CASE_INSENSITIVE` and `Matcher.matches()`).
public struct RegexList: Sendable, Hashable, CustomStringConvertible {
    /// The regexes as written.
    public let patterns: [String]
    private let compiled: [CompiledRegex]

    /// Compiles `patterns`. Throws `ConfigurationError.invalidValue` (without a key) naming the first
    /// pattern that is not a valid regex.
    public init(patterns: [String]) throws {
        var compiled: [CompiledRegex] = []
        for pattern in patterns {
            compiled.append(try CompiledRegex(pattern))
        }
        self.patterns = patterns
        self.compiled = compiled
    }

    /// Splits and compiles a comma-separated list.
    public init(parsing list: String) throws {
        try self.init(patterns: Self.split(list))
    }

    /// Splits a comma-separated list: `\,` is a literal comma, items are trimmed, empty items dropped.
    public static func split(_ list: String) -> [String] {
        var items: [String] = []
        var current = ""
        var iterator = list.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\\":
                if let next = iterator.next() {
                    if next == "," {
                        current.append(",")
                    } else {
                        current.append(character)
                        current.append(next)
                    }
                } else {
                    current.append(character)
                }
            case ",":
                items.append(current)
                current = ""
            default:
                current.append(character)
            }
        }
        items.append(current)
        return items.map(\.trimmedWhitespace).filter { !$0.isEmpty }
    }

    /// Whether any regex matches the whole of `string`, ignoring case.
    public func matches(_ string: String) -> Bool {
        compiled.contains { $0.wholeMatches(string) }
    }

    public var isEmpty: Bool { patterns.isEmpty }

    /// The list as written (comma-separated).
    public var description: String { patterns.joined(separator: ",") }

    public static func == (lhs: RegexList, rhs: RegexList) -> Bool { lhs.patterns == rhs.patterns }
    public func hash(into hasher: inout Hasher) { hasher.combine(patterns) }
}

/// One case-insensitive regex. `Regex` is not `Sendable`, so matches run under a lock (filters are
/// evaluated once per table or column, not per row).
final class CompiledRegex: Sendable {
    let pattern: String
    private let regex: Mutex<Regex<AnyRegexOutput>>

    init(_ pattern: String) throws {
        do {
            self.regex = Mutex(try Regex(pattern).ignoresCase())
        } catch {
            throw ConfigurationError(
                code: .invalidValue,
                key: nil,
                source: nil,
                message: "`\(pattern)` is not a valid regular expression (\(error))"
            )
        }
        self.pattern = pattern
    }

    func wholeMatches(_ string: String) -> Bool {
        regex.withLock { string.wholeMatch(of: $0) != nil }
    }
}

extension StringProtocol {
    /// The string without leading and trailing whitespace and newlines.
    var trimmedWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
            let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
