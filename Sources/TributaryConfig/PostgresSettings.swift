/// The PostgreSQL source: connection (`database.*`), replication slot and publication (`slot.*`,
/// `publication.*`, `plugin.name`) and feedback interval.
public struct PostgresSettings: Sendable, Hashable {
    /// libpq `sslmode` values.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable
        case allow
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// Debezium `publication.autocreate.mode`.
    public enum PublicationAutocreateMode: String, Sendable, Hashable, CaseIterable {
        /// Create the publication `FOR ALL TABLES` when it is missing.
        case allTables = "all_tables"
        /// Create it (or set its table list) for the tables the filters select.
        case filtered
        /// Never create it: a missing publication is an error.
        case disabled
    }

    /// One `name=value` pgoutput option from `slot.stream.params`.
    public struct StreamParameter: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `database.hostname`. Default: `127.0.0.1`.
    public var hostname: String
    /// `database.port`. Default: `5432`.
    public var port: Int
    /// `database.user`. Default: `postgres`.
    public var user: String
    /// `database.password` (secret). Default: empty.
    public var password: Secret
    /// `database.dbname`. Default: none (required).
    public var databaseName: String
    /// `database.sslmode`. Default: `prefer`.
    public var sslMode: SSLMode
    /// `database.sslrootcert`. Default: nil.
    public var sslRootCert: String?
    /// `database.sslcert`. Default: nil.
    public var sslCert: String?
    /// `database.sslkey`. Default: nil.
    public var sslKey: String?
    /// `database.connect.timeout.ms`. Default: 10 s.
    public var connectTimeout: Duration
    /// `plugin.name`. Default: `pgoutput` (the only accepted value).
    public var pluginName: String
    /// `slot.name`. Default: `tributary`.
    public var slotName: String
    /// `slot.drop.on.stop`. Default: `false`.
    public var dropSlotOnStop: Bool
    /// `slot.stream.params`, in the order written. Default: empty.
    public var streamParameters: [StreamParameter]
    /// `publication.name`. Default: `tributary_publication`.
    public var publicationName: String
    /// `publication.autocreate.mode`. Default: `all_tables`.
    public var publicationAutocreateMode: PublicationAutocreateMode
    /// `status.update.interval.ms`. Default: 10 s.
    public var statusUpdateInterval: Duration

    public init(
        hostname: String = "127.0.0.1",
        port: Int = 5432,
        user: String = "postgres",
        password: Secret = "",
        databaseName: String,
        sslMode: SSLMode = .prefer,
        sslRootCert: String? = nil,
        sslCert: String? = nil,
        sslKey: String? = nil,
        connectTimeout: Duration = .seconds(10),
        pluginName: String = "pgoutput",
        slotName: String = "tributary",
        dropSlotOnStop: Bool = false,
        streamParameters: [StreamParameter] = [],
        publicationName: String = "tributary_publication",
        publicationAutocreateMode: PublicationAutocreateMode = .allTables,
        statusUpdateInterval: Duration = .seconds(10)
    ) {
        self.hostname = hostname
        self.port = port
        self.user = user
        self.password = password
        self.databaseName = databaseName
        self.sslMode = sslMode
        self.sslRootCert = sslRootCert
        self.sslCert = sslCert
        self.sslKey = sslKey
        self.connectTimeout = connectTimeout
        self.pluginName = pluginName
        self.slotName = slotName
        self.dropSlotOnStop = dropSlotOnStop
        self.streamParameters = streamParameters
        self.publicationName = publicationName
        self.publicationAutocreateMode = publicationAutocreateMode
        self.statusUpdateInterval = statusUpdateInterval
    }

    /// libpq connection keywords for `PQconnectdbParams` (without `replication`), in a fixed order. The
    /// password is included in clear: hand this only to libpq, never print it.
    public var libpqParameters: [(keyword: String, value: String)] {
        let millis =
            connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000
        // libpq's connect_timeout is whole seconds and treats 1 as 2; round up so that the timeout is never shorter.
        let seconds = max(2, (millis + 999) / 1000)
        var parameters: [(keyword: String, value: String)] = [
            ("host", hostname), ("port", String(port)), ("user", user), ("dbname", databaseName),
            ("sslmode", sslMode.rawValue), ("connect_timeout", String(seconds)),
        ]
        if !password.isEmpty { parameters.append(("password", password.exposedValue)) }
        if let sslRootCert { parameters.append(("sslrootcert", sslRootCert)) }
        if let sslCert { parameters.append(("sslcert", sslCert)) }
        if let sslKey { parameters.append(("sslkey", sslKey)) }
        return parameters
    }
}
