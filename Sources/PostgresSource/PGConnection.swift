internal import CLibPQ
import Glibc
import NIOCore
import TributaryCore

/// Connection parameters for libpq (`PQconnectdbParams` keywords). TLS options pass through unchanged.
public struct PostgresConnectionSettings: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var database: String
    /// `sslmode`: disable, allow, prefer, require, verify-ca, verify-full.
    public var sslMode: String
    public var sslRootCert: String?
    public var sslCert: String?
    public var sslKey: String?
    public var connectTimeoutSeconds: Int
    public var applicationName: String

    public init(
        host: String = "127.0.0.1", port: Int = 5432, user: String = "postgres", password: String = "",
        database: String, sslMode: String = "prefer", sslRootCert: String? = nil, sslCert: String? = nil,
        sslKey: String? = nil, connectTimeoutSeconds: Int = 10, applicationName: String = "tributary"
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
        self.sslRootCert = sslRootCert
        self.sslCert = sslCert
        self.sslKey = sslKey
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.applicationName = applicationName
    }

    func keywords(replication: Bool) -> [(String, String)] {
        var pairs: [(String, String)] = [
            ("host", host), ("port", String(port)), ("user", user), ("dbname", database),
            ("sslmode", sslMode), ("connect_timeout", String(max(1, connectTimeoutSeconds))),
            ("application_name", applicationName), ("client_encoding", "UTF8"),
            // Value text formats the decoders parse, whatever the server's defaults are.
            ("options", "-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3 -c bytea_output=hex -c timezone=UTC -c lc_monetary=C"),
        ]
        if !password.isEmpty { pairs.append(("password", password)) }
        if let sslRootCert { pairs.append(("sslrootcert", sslRootCert)) }
        if let sslCert { pairs.append(("sslcert", sslCert)) }
        if let sslKey { pairs.append(("sslkey", sslKey)) }
        if replication { pairs.append(("replication", "database")) }
        return pairs
    }
}

/// One libpq connection. Not thread-safe: owned by a single actor, freed in `deinit`.
/// Wraps `PQconnectdbParams`, `PQexec`/`PQexecParams`, `PQgetCopyData` (async mode), `PQputCopyData`.
final class PGConnection {
    private let conn: OpaquePointer

    /// Wraps `PQconnectdbParams` (blocking; bounded by `connect_timeout`).
    init(_ settings: PostgresConnectionSettings, replication: Bool) throws {
        let pairs = settings.keywords(replication: replication)
        var keys = pairs.map { strdup($0.0) }
        var values = pairs.map { strdup($0.1) }
        keys.append(nil)
        values.append(nil)
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        let handle: OpaquePointer? = keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                k.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: k.count) { kp in
                    v.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: v.count) { vp in
                        PQconnectdbParams(kp, vp, 0)
                    }
                }
            }
        }
        guard let handle else {
            throw PostgresSourceError(.connectionFailed, "out of memory creating a libpq connection")
        }
        if PQstatus(handle) != CONNECTION_OK {
            let message = Self.errorMessage(handle)
            PQfinish(handle)
            // libpq reports authentication failures only in the text.
            let auth = message.contains("password authentication failed") || message.contains("no pg_hba.conf entry")
            throw PostgresSourceError(
                .connectionFailed,
                "cannot connect to \(settings.host):\(settings.port)/\(settings.database) as \(settings.user): \(message)",
                sqlState: auth ? "28000" : nil)
        }
        self.conn = handle
    }

    deinit {
        PQfinish(conn)
    }

    static func errorMessage(_ conn: OpaquePointer?) -> String {
        guard let conn, let text = PQerrorMessage(conn) else { return "unknown error" }
        // libpq's messages span lines ("…\n\tIs the server running…"): keep log lines single.
        return String(cString: text).trimmingTrailingWhitespace()
            .split(whereSeparator: \.isNewline).map { $0.drop(while: \.isWhitespace) }.joined(separator: " ")
    }

    var errorMessage: String { Self.errorMessage(conn) }

    /// Server version number, e.g. 150020.
    var serverVersion: Int { Int(PQserverVersion(conn)) }

    var socket: Int32 { PQsocket(conn) }

    // MARK: - Queries

    /// Result of a query: text cells, nil for NULL.
    struct QueryResult {
        var columns: [String]
        var rows: [[String?]]

        func column(_ name: String) -> Int? { columns.firstIndex(of: name) }

        func value(_ row: Int, _ name: String) -> String? {
            guard let c = column(name), row < rows.count else { return nil }
            return rows[row][c]
        }
    }

    /// Wraps `PQexecParams` (text parameters, text results). Use `$1…` placeholders for values; identifiers
    /// must be quoted with `quoteIdentifier`.
    @discardableResult
    func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let result: OpaquePointer?
        if parameters.isEmpty {
            result = PQexec(conn, sql)
        } else {
            var cParams = parameters.map { $0.map { strdup($0) } ?? nil }
            defer { cParams.forEach { free($0) } }
            result = cParams.withUnsafeBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: p.count) { pp in
                    PQexecParams(conn, sql, Int32(parameters.count), nil, pp, nil, nil, 0)
                }
            }
        }
        guard let result else {
            throw PostgresSourceError(.connectionFailed, "query failed: \(errorMessage)")
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? errorMessage
            let lost = PQstatus(conn) != CONNECTION_OK
            throw PostgresSourceError(
                lost ? .connectionFailed : .queryFailed,
                "\(Self.summary(sql)) failed: \(message.trimmingTrailingWhitespace())", sqlState: sqlState ?? (lost ? "08006" : nil))
        }
        let nFields = Int(PQnfields(result))
        let nRows = Int(PQntuples(result))
        var columns: [String] = []
        columns.reserveCapacity(nFields)
        for f in 0..<nFields { columns.append(String(cString: PQfname(result, Int32(f)))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(nRows)
        for r in 0..<nRows {
            var row: [String?] = []
            row.reserveCapacity(nFields)
            for f in 0..<nFields {
                if PQgetisnull(result, Int32(r), Int32(f)) == 1 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(f))))
                }
            }
            rows.append(row)
        }
        return QueryResult(columns: columns, rows: rows)
    }

    /// The statement's first words, for error messages (never values).
    private static func summary(_ sql: String) -> String {
        let words = sql.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true).prefix(3)
        return words.joined(separator: " ")
    }

    // MARK: - COPY OUT (snapshot)

    /// Runs `COPY (…) TO STDOUT` and hands every row (text format) to `row`. Wraps `PQgetCopyData` in
    /// blocking mode; the row buffer is freed right after the callback.
    func copyOut(_ sql: String, row: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let start = PQexec(conn, sql) else {
            throw PostgresSourceError(.connectionFailed, "COPY failed: \(errorMessage)", sqlState: "08006")
        }
        let status = PQresultStatus(start)
        if status != PGRES_COPY_OUT {
            let sqlState = PQresultErrorField(start, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = PQresultErrorMessage(start).map { String(cString: $0) } ?? errorMessage
            PQclear(start)
            throw PostgresSourceError(
                .queryFailed, "COPY failed: \(message.trimmingTrailingWhitespace())", sqlState: sqlState)
        }
        PQclear(start)
        var failure: (any Error)?
        while true {
            var pointer: UnsafeMutablePointer<CChar>? = nil
            let length = PQgetCopyData(conn, &pointer, 0)
            if length > 0, let pointer {
                defer { PQfreemem(pointer) }
                // After a callback failure keep draining so the connection stays usable.
                if failure == nil {
                    do {
                        try row(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
                    } catch {
                        failure = error
                    }
                }
                continue
            }
            if length == -1 { break }
            throw PostgresSourceError(.connectionFailed, "COPY interrupted: \(errorMessage)", sqlState: "08006")
        }
        var message: String?
        var sqlState: String?
        while let result = PQgetResult(conn) {
            if PQresultStatus(result) == PGRES_FATAL_ERROR {
                message = PQresultErrorMessage(result).map { String(cString: $0).trimmingTrailingWhitespace() }
                sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            }
            PQclear(result)
        }
        if let message { throw PostgresSourceError(.queryFailed, "COPY failed: \(message)", sqlState: sqlState) }
        if let failure { throw failure }
    }

    // MARK: - COPY BOTH (replication)

    /// Starts a COPY BOTH stream (`START_REPLICATION …`) and switches to non-blocking mode.
    func startCopyBoth(_ command: String) throws {
        guard let result = PQexec(conn, command) else {
            throw PostgresSourceError(.replicationFailed, "START_REPLICATION failed: \(errorMessage)")
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_BOTH else {
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = PQresultErrorMessage(result).map { String(cString: $0) } ?? errorMessage
            throw PostgresSourceError(
                .replicationFailed, "START_REPLICATION failed: \(message.trimmingTrailingWhitespace())",
                sqlState: sqlState)
        }
        PQsetnonblocking(conn, 1)
    }

    enum CopyRead {
        case data(ByteBuffer)
        case wouldBlock
        case done
    }

    /// Wraps `PQgetCopyData(conn, &buf, 1)` (async mode): copies the C buffer into a `ByteBuffer` and
    /// frees it at once.
    func readCopyData(allocator: ByteBufferAllocator) throws -> CopyRead {
        var pointer: UnsafeMutablePointer<CChar>? = nil
        let length = PQgetCopyData(conn, &pointer, 1)
        if length > 0, let pointer {
            defer { PQfreemem(pointer) }
            var buffer = allocator.buffer(capacity: Int(length))
            buffer.writeBytes(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
            return .data(buffer)
        }
        switch length {
        case 0:
            return .wouldBlock
        case -1:
            // COPY finished by the server: read the final result.
            var message = ""
            while let result = PQgetResult(conn) {
                if PQresultStatus(result) == PGRES_FATAL_ERROR, let m = PQresultErrorMessage(result) {
                    message = String(cString: m).trimmingTrailingWhitespace()
                }
                PQclear(result)
            }
            if !message.isEmpty {
                throw PostgresSourceError(.replicationFailed, "replication stream ended: \(message)")
            }
            return .done
        default:
            throw PostgresSourceError(.connectionFailed, "replication connection lost: \(errorMessage)", sqlState: "08006")
        }
    }

    /// Wraps `PQconsumeInput`: reads what the socket has.
    func consumeInput() throws {
        if PQconsumeInput(conn) == 0 {
            throw PostgresSourceError(.connectionFailed, "replication connection lost: \(errorMessage)", sqlState: "08006")
        }
    }

    /// Wraps `PQputCopyData` + `PQflush`.
    func sendCopyData(_ bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { PQputCopyData(conn, $0, Int32(p.count)) }
        }
        guard rc == 1 else {
            throw PostgresSourceError(.connectionFailed, "cannot send standby status: \(errorMessage)", sqlState: "08006")
        }
        var flushed = PQflush(conn)
        var attempts = 0
        while flushed == 1 && attempts < 100 {
            var pfd = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pfd, 1, 10)
            flushed = PQflush(conn)
            attempts += 1
        }
        if flushed == -1 {
            throw PostgresSourceError(.connectionFailed, "cannot flush standby status: \(errorMessage)", sqlState: "08006")
        }
    }

    /// Waits up to `milliseconds` (0: just checks) for the socket to become readable.
    @discardableResult
    func waitReadable(milliseconds: Int32) -> Bool {
        var pfd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, milliseconds) > 0
    }

    /// Ends COPY BOTH from the client side (`PQputCopyEnd`) for a clean shutdown.
    func endCopy() {
        _ = PQputCopyEnd(conn, nil)
        _ = PQflush(conn)
    }
}

/// Quotes an SQL identifier (`"a""b"`), as `quote_ident` does, for every identifier in generated SQL.
func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Quotes an SQL string literal (`'it''s'`).
func quoteLiteral(_ value: String) -> String {
    "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }

    /// Foundation-free replacement.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return self.split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
