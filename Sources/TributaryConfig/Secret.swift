/// A secret configuration value (a password). Its description, debug description and mirror are
/// redacted so that printing, logging or `dump`ing a configuration never shows it; read `exposedValue`
/// only where the secret is handed to a client library.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable,
    ExpressibleByStringLiteral
{
    /// What descriptions show instead of a non-empty secret.
    public static let redactionMarker = "<redacted>"

    /// The secret itself. Pass it to the client library; never log it.
    public let exposedValue: String

    public init(_ value: String) { self.exposedValue = value }
    public init(stringLiteral value: String) { self.exposedValue = value }

    /// Whether the secret is empty (no password configured).
    public var isEmpty: Bool { exposedValue.isEmpty }

    /// `<redacted>`, or the empty string when no secret is set.
    public var description: String { isEmpty ? "" : Self.redactionMarker }
    public var debugDescription: String { "Secret(\(description))" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
