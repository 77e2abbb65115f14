import TributaryCore

/// Maps PostgreSQL type OIDs (with their type modifier) to Tributary `ColumnType`s and to the way their
/// values are converted.
///
/// Resolution order for an OID:
/// 1. PostgreSQL's built-in types (fixed OIDs below 10000, `PGBuiltinTypes`), arrays of them included;
/// 2. types the source registered from the catalog (``register(oid:name:kind:)``): enums, domains, arrays of
///    user types, others;
/// 3. names announced by pgoutput Type messages (``learn(_:)``). For a domain PostgreSQL announces the
///    domain's OID with its base type's name, so a `pg_catalog` name resolves to that built-in type (without
///    the domain's type modifier, which only the catalog knows);
/// 4. otherwise `.unknown` named `oid:<n>`, values passed through as text.
public struct PGTypeRegistry: Sendable, Hashable {
    /// What the catalog says about a non-built-in type (`pg_type.typtype` and friends).
    public enum TypeKind: Sendable, Hashable {
        /// `typtype = 'e'`, labels in `enumsortorder`.
        case enumeration(labels: [String])
        /// `typtype = 'd'`: values decode as the base type (`typbasetype`, `typtypmod`).
        case domain(baseOID: UInt32, baseTypmod: Int32)
        /// An array type (`typelem`), e.g. `_mood`.
        case array(elementOID: UInt32)
        /// Anything else (composite, range, extension type such as `citext` or `hstore`): passed through as text.
        case other
    }

    struct Registered: Sendable, Hashable {
        var name: String
        var kind: TypeKind
    }

    struct Announced: Sendable, Hashable {
        var namespace: String
        var name: String
    }

    private(set) var registered: [UInt32: Registered] = [:]
    private(set) var announced: [UInt32: Announced] = [:]

    /// A registry that knows the built-in types only.
    public init() {}

    /// Registers a user type read from the catalog; replaces an earlier registration of that OID.
    public mutating func register(oid: UInt32, name: String, kind: TypeKind) {
        registered[oid] = Registered(name: name, kind: kind)
    }

    /// Records the name a pgoutput Type message announced for `type.oid`.
    public mutating func learn(_ type: PGOutputMessage.TypeMessage) {
        announced[type.oid] = Announced(namespace: type.namespace, name: type.name)
    }

    /// The column type of `oid` with modifier `typmod` (`atttypmod`, -1 when none).
    public func columnType(oid: UInt32, typmod: Int32) -> ColumnType {
        resolve(oid: oid, typmod: typmod).type
    }

    /// The type's name as PostgreSQL spells it (`int4`, `_text`, `mood`), or `oid:<n>` when unknown.
    public func typeName(oid: UInt32) -> String {
        resolve(oid: oid, typmod: -1).type.typeName
    }

    /// Resolves a type: its `ColumnType` and how to convert its values. Cycles (a domain over itself through
    /// bad registrations) end as pass-through after a few levels instead of recursing forever.
    func resolve(oid: UInt32, typmod: Int32, depth: Int = 0) -> (type: ColumnType, plan: PGValuePlan) {
        guard depth < 8 else { return (ColumnType(.unknown, typeName: "oid:\(oid)"), .passThrough) }
        if let scalar = PGBuiltinTypes.scalars[oid] {
            return (
                ColumnType(PGBuiltinTypes.kind(of: scalar.plan, typmod: typmod), typeName: scalar.name), scalar.plan
            )
        }
        if let element = PGBuiltinTypes.arrays[oid] {
            let resolved = resolve(oid: element, typmod: typmod, depth: depth + 1)
            return (
                ColumnType(.array(resolved.type.kind), typeName: "_" + resolved.type.typeName),
                .array(element: resolved.plan, delimiter: element == 603 ? UInt8(ascii: ";") : UInt8(ascii: ","))
            )
        }
        if let user = registered[oid] {
            switch user.kind {
            case .enumeration(let labels):
                return (ColumnType(.enumeration(labels: labels), typeName: user.name), .text)
            case .domain(let baseOID, let baseTypmod):
                let base = resolve(oid: baseOID, typmod: typmod >= 0 ? typmod : baseTypmod, depth: depth + 1)
                return (ColumnType(base.type.kind, typeName: user.name), base.plan)
            case .array(let elementOID):
                let element = resolve(oid: elementOID, typmod: typmod, depth: depth + 1)
                return (
                    ColumnType(.array(element.type.kind), typeName: user.name),
                    .array(element: element.plan, delimiter: UInt8(ascii: ","))
                )
            case .other:
                return (ColumnType(.unknown, typeName: user.name), .passThrough)
            }
        }
        if let announced = announced[oid] {
            if announced.namespace.isEmpty, let builtin = PGBuiltinTypes.oidByName[announced.name], builtin != oid {
                return resolve(oid: builtin, typmod: typmod, depth: depth + 1)
            }
            return (ColumnType(.unknown, typeName: announced.name), .passThrough)
        }
        return (ColumnType(.unknown, typeName: "oid:\(oid)"), .passThrough)
    }
}
