import Yams

/// Turns a YAML configuration document into flat `key → value` settings.
///
/// The document is a mapping whose leaves are scalars. Nested mappings are flattened with dots, so
/// `database.hostname: x` and `database: {hostname: x}` are the same key. A plain `null`/`~`/empty value
/// means "not set". Sequences, aliases to non-scalars and non-scalar keys are rejected, naming the key.
/// Errors quote no values: the document may hold secrets.
enum YAMLSettings {
    static func settings(fromYAML text: String, path: String) throws -> [RawSetting] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError(
                code: .invalidYAML,
                key: nil,
                source: .file(path: path, line: Self.line(of: error)),
                message: "not valid YAML: " + Self.problem(of: error)
            )
        } catch {
            throw ConfigurationError(
                code: .invalidYAML,
                key: nil,
                source: .file(path: path, line: nil),
                message: "not valid YAML"
            )
        }
        guard let root else { return [] }
        guard case .mapping(let mapping) = root else {
            throw ConfigurationError(
                code: .invalidYAML,
                key: nil,
                source: .file(path: path, line: root.mark?.line),
                message: "the document must be a mapping of keys to values (`database.hostname: db1`)"
            )
        }
        var settings: [RawSetting] = []
        try flatten(mapping, prefix: "", path: path, into: &settings)
        return settings
    }

    private static func flatten(
        _ mapping: Node.Mapping,
        prefix: String,
        path: String,
        into settings: inout [RawSetting]
    )
        throws
    {
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode, !keyScalar.string.isEmpty else {
                throw ConfigurationError(
                    code: .invalidYAML,
                    key: prefix.isEmpty ? nil : String(prefix.dropLast()),
                    source: .file(path: path, line: keyNode.mark?.line),
                    message: "keys must be non-empty strings"
                )
            }
            let key = prefix + keyScalar.string
            let source = ConfigurationSource.file(path: path, line: keyNode.mark?.line)
            switch valueNode {
            case .scalar(let scalar):
                if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                    continue
                }
                settings.append(RawSetting(key: key, value: scalar.string, source: source))
            case .mapping(let nested):
                try flatten(nested, prefix: key + ".", path: path, into: &settings)
            case .sequence:
                throw ConfigurationError(
                    code: .invalidYAML,
                    key: key,
                    source: source,
                    message: "expected a scalar value, found a list; write lists as one comma-separated string"
                )
            case .alias:
                throw ConfigurationError(
                    code: .invalidYAML,
                    key: key,
                    source: source,
                    message: "expected a scalar value, found an alias"
                )
            }
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        default:
            return nil
        }
    }

    /// libyaml's problem text (fixed phrases, never document content), or the duplicated key names.
    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, let offset, _, _):
            return problem + (offset.map { " at byte \($0)" } ?? "")
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate keys " + duplicates.sorted().map { "`\($0)`" }.joined(separator: ", ")
        case .dataCouldNotBeDecoded:
            return "the file is not UTF-8"
        default:
            return "unreadable document"
        }
    }
}
