/// One key's raw value from one source.
struct RawSetting: Sendable, Hashable {
    var key: String
    var value: String
    var source: ConfigurationSource
}

/// Reads typed values out of the merged settings, validating each one and naming the key (and its source)
/// in errors. Records every key it reads, with the effective value and source, for `effectiveSettings`,
/// and which raw keys were consumed, so that leftovers can be rejected.
struct SettingsReader {
    private let values: [String: RawSetting]
    private(set) var consumed: Set<String> = []
    private(set) var effective: [String: EffectiveSetting] = [:]

    init(values: [String: RawSetting]) {
        self.values = values
    }

    /// Merged keys starting with `prefix`, sorted.
    func keys(withPrefix prefix: String) -> [String] {
        values.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// Every merged key, sorted.
    var allKeys: [String] { values.keys.sorted() }

    /// The raw setting of `key`, marking it consumed; nil when unset.
    mutating func raw(_ key: String) -> RawSetting? {
        consumed.insert(key)
        return values[key]
    }

    /// Records the effective value of `key`.
    mutating func record(_ key: String, _ value: String, _ source: ConfigurationSource) {
        effective[key] = EffectiveSetting(
            key: key,
            value: value,
            source: source,
            isSecret: ConfigurationKeys.isSecret(key)
        )
    }

    // MARK: - Typed reads

    /// A string; `validate` returns what was expected when the value is not acceptable.
    mutating func string(
        _ key: String,
        default defaultValue: String,
        validate: ((String) -> String?)? = nil
    ) throws -> String {
        guard let setting = raw(key) else {
            record(key, defaultValue, .defaultValue)
            return defaultValue
        }
        if let validate, let expected = validate(setting.value) {
            throw invalid(setting, expected: expected)
        }
        record(key, setting.value, setting.source)
        return setting.value
    }

    /// A string that must be set and non-empty.
    mutating func requiredString(
        _ key: String,
        because reason: String? = nil,
        validate: ((String) -> String?)? = nil
    ) throws -> String {
        guard let setting = raw(key), !setting.value.isEmpty else {
            throw missing(key, source: values[key]?.source, because: reason)
        }
        if let validate, let expected = validate(setting.value) {
            throw invalid(setting, expected: expected)
        }
        record(key, setting.value, setting.source)
        return setting.value
    }

    /// An optional string: unset or empty is nil.
    mutating func optionalString(_ key: String, validate: ((String) -> String?)? = nil) throws -> String? {
        guard let setting = raw(key), !setting.value.isEmpty else {
            record(key, "", values[key]?.source ?? .defaultValue)
            return nil
        }
        if let validate, let expected = validate(setting.value) {
            throw invalid(setting, expected: expected)
        }
        record(key, setting.value, setting.source)
        return setting.value
    }

    /// A decimal integer in `range`.
    mutating func int(
        _ key: String,
        default defaultValue: Int,
        range: ClosedRange<Int>,
        expected: String? = nil
    ) throws -> Int {
        guard let setting = raw(key) else {
            record(key, String(defaultValue), .defaultValue)
            return defaultValue
        }
        guard let value = Int(setting.value.trimmedWhitespace), range.contains(value) else {
            throw invalid(setting, expected: expected ?? Self.describe(range))
        }
        record(key, String(value), setting.source)
        return value
    }

    /// A duration given in milliseconds (`*.ms` keys).
    mutating func milliseconds(_ key: String, default defaultValue: Int, minimum: Int) throws -> Duration {
        .milliseconds(try int(key, default: defaultValue, range: minimum...Int.max))
    }

    /// `true` or `false` (any case). With a `shorthand` key (`schemas.enable`), the shorthand's value
    /// applies when it comes from a higher-precedence source than `key`, or `key` is unset.
    mutating func bool(_ key: String, default defaultValue: Bool, shorthand: String? = nil) throws -> Bool {
        let specific = raw(key)
        let general = shorthand.flatMap { raw($0) }
        let chosen: RawSetting?
        switch (specific, general) {
        case (let specific?, let general?):
            chosen = general.source.precedence > specific.source.precedence ? general : specific
        case (let specific?, nil):
            chosen = specific
        case (nil, let general):
            chosen = general
        }
        guard let setting = chosen else {
            record(key, String(defaultValue), .defaultValue)
            return defaultValue
        }
        let value: Bool
        switch setting.value.trimmedWhitespace.lowercased() {
        case "true": value = true
        case "false": value = false
        default: throw invalid(setting, expected: "`true` or `false`")
        }
        record(key, String(value), setting.source)
        return value
    }

    /// One of an enum's raw values (any case), or one of `aliases`.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ key: String,
        default defaultValue: Choice,
        aliases: [String: Choice] = [:]
    ) throws -> Choice where Choice.RawValue == String {
        guard let setting = raw(key) else {
            record(key, defaultValue.rawValue, .defaultValue)
            return defaultValue
        }
        let written = setting.value.trimmedWhitespace.lowercased()
        let match =
            Choice.allCases.first { $0.rawValue.lowercased() == written }
            ?? aliases.first { $0.key.lowercased() == written }?.value
        guard let match else {
            let accepted = Choice.allCases.map(\.rawValue) + aliases.keys.sorted()
            throw invalid(setting, expected: "one of " + accepted.map { "`\($0)`" }.joined(separator: ", "))
        }
        record(key, match.rawValue, setting.source)
        return match
    }

    /// A comma-separated regex list; nil when unset or empty.
    mutating func regexList(_ key: String) throws -> RegexList? {
        guard let text = try optionalString(key) else { return nil }
        do {
            let list = try RegexList(parsing: text)
            return list.isEmpty ? nil : list
        } catch let error as ConfigurationError {
            throw rekeyed(error, key)
        }
    }

    // MARK: - Errors

    /// `expected …, got "value"`; the value is left out for secrets.
    func invalid(_ setting: RawSetting, expected: String) -> ConfigurationError {
        var message = "expected \(expected)"
        if !ConfigurationKeys.isSecret(setting.key) {
            let shown = setting.value.count > 200 ? String(setting.value.prefix(200)) + "…" : setting.value
            message += ", got " + YAMLQuoting.quoted(shown)
        }
        return ConfigurationError(code: .invalidValue, key: setting.key, source: setting.source, message: message)
    }

    /// A required key is unset or empty.
    func missing(_ key: String, source: ConfigurationSource? = nil, because reason: String? = nil) -> ConfigurationError
    {
        let variable = ConfigurationKeys.environmentVariable(for: key)
        let message = "required\(reason.map { " \($0)" } ?? ""): set `\(key)` in the configuration file or \(variable)"
        return ConfigurationError(code: .missingValue, key: key, source: source, message: message)
    }

    /// `error` (from a parser that does not know the key) attributed to `key` and its source.
    func rekeyed(_ error: ConfigurationError, _ key: String) -> ConfigurationError {
        var error = error
        error.key = key
        error.source = values[key]?.source
        return error
    }

    /// The source of `key`, if set.
    func source(of key: String) -> ConfigurationSource? { values[key]?.source }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max { return "an integer ≥ \(range.lowerBound)" }
        if range.lowerBound == range.upperBound { return "\(range.lowerBound)" }
        return "an integer in \(range.lowerBound)...\(range.upperBound)"
    }
}
