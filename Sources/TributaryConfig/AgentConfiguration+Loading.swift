import Foundation
import TributaryCore

extension AgentConfiguration {
    // MARK: - Loading

    /// Loads and validates the configuration: defaults, then the YAML file at `path` (if any), then
    /// `TRIBUTARY_*` variables of `environment`, then `overrides` (keys as in the file, e.g. from CLI flags).
    ///
    /// Throws `ConfigurationError` for an unreadable or malformed file, an unknown key (from any source;
    /// `TRIBUTARY_TEST_*`, `TRIBUTARY_CONFIG` and `TRIBUTARY_RECORD_FIXTURES` are ignored), a bad value,
    /// a missing required key or conflicting keys. The error names the key and its source and never
    /// contains a secret.
    public static func load(
        file path: String?,
        environment: [String: String],
        overrides: [String: String]
    ) throws -> AgentConfiguration {
        var fileSettings: [RawSetting] = []
        if let path {
            fileSettings = try YAMLSettings.settings(fromYAML: try readFile(path), path: path)
        }
        return try resolve(file: fileSettings, environment: environment, overrides: overrides)
    }

    /// Same as `load(file:environment:overrides:)` with the document given as a string; `path` only names
    /// it in errors.
    public static func load(
        yaml: String,
        path: String = "<yaml>",
        environment: [String: String] = [:],
        overrides: [String: String] = [:]
    ) throws -> AgentConfiguration {
        try resolve(
            file: try YAMLSettings.settings(fromYAML: yaml, path: path),
            environment: environment,
            overrides: overrides
        )
    }

    private static func readFile(_ path: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError(
                code: .unreadableFile,
                key: nil,
                source: .file(path: path, line: nil),
                message: "cannot read the configuration file (\(error.localizedDescription))",
                underlying: error
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(
                code: .unreadableFile,
                key: nil,
                source: .file(path: path, line: nil),
                message: "the configuration file is not UTF-8"
            )
        }
        return text
    }

    // MARK: - Layering

    static func resolve(
        file: [RawSetting],
        environment: [String: String],
        overrides: [String: String]
    ) throws -> AgentConfiguration {
        var merged = try layer(file)
        let (environmentSettings, pendingSelectOverrides) = try environmentLayer(environment)
        merged.merge(environmentSettings) { _, new in new }
        let overrideSettings = overrides.sorted { $0.key < $1.key }.map {
            RawSetting(key: $0.key, value: $0.value, source: .override)
        }
        merged.merge(try layer(overrideSettings)) { _, new in new }
        try attachSelectOverrides(pendingSelectOverrides, to: &merged)

        var reader = SettingsReader(values: merged)
        let configuration = try AgentConfiguration(reader: &reader)
        // Keys accepted by name but never read: per-table SELECTs for tables that are not listed.
        for key in reader.allKeys where !reader.consumed.contains(key) {
            let source = merged[key]?.source
            if key.hasPrefix(ConfigurationKeys.selectOverridePrefix) {
                let table = key.dropFirst(ConfigurationKeys.selectOverridePrefix.count)
                throw ConfigurationError(
                    code: .unknownKey,
                    key: key,
                    source: source,
                    message: "`\(table)` is not listed in `snapshot.select.statement.overrides`"
                )
            }
            throw ConfigurationError(
                code: .unknownKey,
                key: key,
                source: source,
                message: ConfigurationKeys.unknownKeyMessage(key)
            )
        }
        return configuration
    }

    /// One source's settings by canonical key. Rejects unknown keys, and one key given twice with
    /// different values (e.g. `name` and `config.name`).
    private static func layer(_ settings: [RawSetting]) throws -> [String: RawSetting] {
        var result: [String: RawSetting] = [:]
        for var setting in settings {
            setting.key = ConfigurationKeys.canonicalKey(setting.key)
            guard ConfigurationKeys.isAccepted(setting.key) else {
                throw ConfigurationError(
                    code: .unknownKey,
                    key: setting.key,
                    source: setting.source,
                    message: ConfigurationKeys.unknownKeyMessage(setting.key)
                )
            }
            if let earlier = result[setting.key] {
                guard earlier.value == setting.value else {
                    throw ConfigurationError(
                        code: .conflictingKeys,
                        key: setting.key,
                        source: setting.source,
                        message: "set twice with different values (also at \(earlier.source))"
                    )
                }
                continue
            }
            result[setting.key] = setting
        }
        return result
    }

    /// `TRIBUTARY_<KEY>` variables by key, and the `TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_*` ones,
    /// which can only be matched once the table list is known.
    private static func environmentLayer(
        _ environment: [String: String]
    ) throws -> (settings: [String: RawSetting], pending: [String: String]) {
        let kafkaVariablePrefix = ConfigurationKeys.environmentVariable(for: ConfigurationKeys.kafkaPrefix)
        let selectVariablePrefix = ConfigurationKeys.environmentVariable(for: ConfigurationKeys.selectOverridePrefix)
        var settings: [String: RawSetting] = [:]
        var pending: [String: String] = [:]
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) {
            guard variable.hasPrefix(ConfigurationKeys.environmentPrefix),
                !variable.hasPrefix(ConfigurationKeys.ignoredEnvironmentPrefix),
                !ConfigurationKeys.ignoredEnvironmentVariables.contains(variable)
            else { continue }
            let source = ConfigurationSource.environment(variable: variable)
            if let key = ConfigurationKeys.byEnvironmentVariable[variable] {
                settings[key] = RawSetting(key: key, value: value, source: source)
            } else if variable.hasPrefix(kafkaVariablePrefix), variable.count > kafkaVariablePrefix.count {
                let property = variable.dropFirst(kafkaVariablePrefix.count).lowercased()
                    .replacingOccurrences(of: "_", with: ".")
                let key = ConfigurationKeys.kafkaPrefix + property
                settings[key] = RawSetting(key: key, value: value, source: source)
            } else if variable.hasPrefix(selectVariablePrefix), variable.count > selectVariablePrefix.count {
                pending[variable] = value
            } else {
                let hint = ConfigurationKeys.closestEnvironmentVariable(to: variable).map { "; did you mean \($0)?" }
                throw ConfigurationError(
                    code: .unknownKey,
                    key: variable,
                    source: source,
                    message: "environment variable does not name a configuration key"
                        + (hint ?? " (TRIBUTARY_ + the key upper-cased with `.` → `_`)")
                )
            }
        }
        return (settings, pending)
    }

    /// Matches `TRIBUTARY_SNAPSHOT_SELECT_STATEMENT_OVERRIDES_<SCHEMA>_<TABLE>` variables to the tables
    /// listed in `snapshot.select.statement.overrides`.
    private static func attachSelectOverrides(_ pending: [String: String], to merged: inout [String: RawSetting]) throws
    {
        guard !pending.isEmpty else { return }
        let listed = RegexList.split(merged["snapshot.select.statement.overrides"]?.value ?? "")
        var unmatched = pending
        for table in listed {
            let key = ConfigurationKeys.selectOverridePrefix + table
            let variable = ConfigurationKeys.environmentVariable(for: key)
            guard let value = unmatched.removeValue(forKey: variable) else { continue }
            let setting = RawSetting(key: key, value: value, source: .environment(variable: variable))
            if (merged[key]?.source.precedence ?? 0) < setting.source.precedence {
                merged[key] = setting
            }
        }
        if let variable = unmatched.keys.sorted().first {
            throw ConfigurationError(
                code: .unknownKey,
                key: variable,
                source: .environment(variable: variable),
                message: "no table listed in `snapshot.select.statement.overrides` has this variable name"
            )
        }
    }
}
