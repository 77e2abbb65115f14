import Dispatch
import Engine
import EventFormat
import Foundation
import KafkaSink
import Logging
import PostgresSource
import TributaryConfig
import TributaryCore

/// The composition root: builds source, formatter, sink and engine from the configuration, and runs them
/// with signal handling (first SIGTERM/SIGINT: graceful stop; second, or the shutdown timeout: abort).
struct Agent {
    let configuration: AgentConfiguration
    let logger: Logger
    let engine: Engine

    init(configuration: AgentConfiguration, logger: Logger, startOverride: Offset? = nil) throws {
        self.configuration = configuration
        self.logger = logger
        if let binary = configuration.postgres.streamParameters.first(where: { $0.name.lowercased() == "binary" }),
            ["true", "on", "1"].contains(binary.value.lowercased())
        {
            // pgoutput's binary format has no conversion for inet/cidr/macaddr/ranges and extension types.
            throw ConfigurationError(
                code: .invalidValue, key: "slot.stream.params", source: nil,
                message: "binary=true is not supported: values are decoded from pgoutput's text format (remove binary)")
        }
        let source = PostgresSource(configuration: Self.sourceConfiguration(configuration), logger: logger)
        let sink = try Self.makeSink(configuration, logger: logger)
        let e = configuration.engine
        let engineConfiguration = EngineConfiguration(
            maxEvents: e.commitMaxEvents, maxBytes: e.commitMaxBytes, maxIntervalMilliseconds: e.commitInterval.milliseconds,
            queueCapacity: e.maxQueueSize, maxRetries: e.maxRetries ?? -1,
            initialRetryDelayMilliseconds: e.retryInitialDelay.milliseconds, maxRetryDelayMilliseconds: e.retryMaxDelay.milliseconds)
        self.engine = Engine(
            source: source, sink: sink, configuration: engineConfiguration, logger: logger, startOverride: startOverride)
    }

    static func sourceConfiguration(_ c: AgentConfiguration) -> PostgresSourceConfiguration {
        let pg = c.postgres
        let connection = PostgresConnectionSettings(
            host: pg.hostname, port: pg.port, user: pg.user, password: pg.password.exposedValue,
            database: pg.databaseName, sslMode: pg.sslMode.rawValue, sslRootCert: pg.sslRootCert, sslCert: pg.sslCert,
            sslKey: pg.sslKey, connectTimeoutSeconds: max(1, pg.connectTimeout.milliseconds / 1000),
            applicationName: "tributary-\(c.name)")
        let filter = c.filter
        let keys = c.keyColumns
        var params: [String: String] = [:]
        for p in pg.streamParameters { params[p.name] = p.value }
        let snapshotFilter = c.snapshot
        return PostgresSourceConfiguration(
            connection: connection, slotName: pg.slotName, publicationName: pg.publicationName,
            publicationAutocreate: PostgresSourceConfiguration.PublicationAutocreate(rawValue: pg.publicationAutocreateMode.rawValue) ?? .allTables,
            captureTable: { filter.includes($0) },
            excludeColumn: { table, column in !filter.includesColumn(column, of: table) },
            keyColumns: { table, columns in keys.keyColumns(for: table, columns: columns) },
            statusIntervalMilliseconds: pg.statusUpdateInterval.milliseconds,
            heartbeatIntervalMilliseconds: c.heartbeat.interval?.milliseconds ?? 0,
            heartbeatActionQuery: c.heartbeat.actionQuery, streamParameters: params,
            maxBatchSize: c.engine.maxBatchSize, dropSlotOnStop: pg.dropSlotOnStop,
            shutdownTimeoutMilliseconds: c.engine.shutdownTimeout.milliseconds,
            snapshot: .init(
                mode: .init(rawValue: c.snapshot.mode.rawValue) ?? .initial, maxThreads: c.snapshot.maxThreads,
                fetchSize: c.snapshot.fetchSize, chunkSize: c.snapshot.chunkSize,
                includeTable: { snapshotFilter.includes($0) }, selectOverrides: c.snapshot.selectStatementOverrides,
                progressIntervalMilliseconds: c.snapshot.progressInterval.milliseconds))
    }

    static func makeSink(_ c: AgentConfiguration, logger: Logger) throws -> any ChangeSink {
        let formatter = DebeziumJSONFormatter(options: formatOptions(c))
        switch (c.sink.kind, c.offsets.storage) {
        case (.kafka, .kafka(let topic)):
            return try KafkaChangeSink(
                kafka: KafkaConfiguration(c.kafka), agentName: c.name, offsetTopic: topic, formatter: formatter,
                heartbeatsEnabled: c.heartbeat.isEnabled, logger: logger)
        case (.stdout, .file(let path)):
            return try StreamChangeSink(outputPath: nil, offsetFile: path, formatter: formatter, heartbeatsEnabled: c.heartbeat.isEnabled)
        case (.file(let out), .file(let path)):
            return try StreamChangeSink(outputPath: out, offsetFile: path, formatter: formatter, heartbeatsEnabled: c.heartbeat.isEnabled)
        case (.kafka, .file):
            throw ConfigurationError(
                code: .conflictingKeys, key: "offset.storage", source: nil,
                message: "sink.type kafka keeps its offsets in Kafka, in the same transaction as the events: use offset.storage: kafka")
        default:
            throw ConfigurationError(
                code: .conflictingKeys, key: "offset.storage", source: nil,
                message: "sink.type stdout/file keeps its offsets in a local file: set offset.storage: file and offset.storage.file.filename")
        }
    }

    static func formatOptions(_ c: AgentConfiguration) -> FormatOptions {
        var o = FormatOptions(topicPrefix: c.topicPrefix, databaseName: c.postgres.databaseName)
        let f = c.format
        o.topicDelimiter = c.topicDelimiter
        o.connector = "postgresql"
        o.schemasEnable = f.valueSchemasEnabled
        o.keySchemasEnable = f.keySchemasEnabled
        o.decimalHandling = FormatOptions.DecimalHandling(rawValue: f.decimalHandlingMode.rawValue) ?? .precise
        o.timePrecision = FormatOptions.TimePrecision(rawValue: f.timePrecisionMode.rawValue) ?? .adaptive
        o.binaryHandling = FormatOptions.BinaryHandling(rawValue: f.binaryHandlingMode.rawValue) ?? .bytes
        o.intervalHandling = FormatOptions.IntervalHandling(rawValue: f.intervalHandlingMode.rawValue) ?? .numeric
        o.tombstonesOnDelete = f.tombstonesOnDelete
        o.provideTransactionMetadata = f.provideTransactionMetadata
        o.transactionTopic = c.transactionTopic
        o.heartbeatTopicPrefix = c.heartbeat.topicPrefix
        o.unavailableValuePlaceholder = f.unavailableValuePlaceholder
        o.schemaNameAdjustment = FormatOptions.SchemaNameAdjustment(rawValue: f.schemaNameAdjustmentMode.rawValue) ?? .avro
        o.moneyFractionDigits = f.moneyFractionDigits
        return o
    }

    /// Runs the engine; SIGTERM/SIGINT request a graceful stop (bounded by `shutdown.timeout.ms` in the
    /// source), a second signal cancels at once.
    func runUntilStopped() async throws {
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT])
        let engine = engine
        let logger = logger
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await engine.run() }
            group.addTask {
                var received = 0
                for await signal in signals.stream {
                    received += 1
                    if received == 1 {
                        logger.notice("signal received: stopping gracefully", metadata: ["signal": "\(signal)"])
                        engine.requestStop()
                    } else {
                        logger.warning("second signal: stopping at once")
                        throw CancellationError()
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    static func exitCode(for error: any Error) -> Int32 {
        switch error {
        case is ConfigurationError: return ExitCodes.configuration
        case is PostgresSourceError: return ExitCodes.source
        case let e as KafkaSinkError: return e.code == .fenced ? ExitCodes.fenced : ExitCodes.sink
        case is CancellationError: return 130
        default: return ExitCodes.failure
        }
    }
}

/// Delivers POSIX signals as an async sequence (Dispatch signal sources; the default action is disabled).
final class SignalWatcher: @unchecked Sendable {
    // @unchecked Sendable: `sources` is immutable after init and only kept alive here, never touched again.
    let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream(bufferingPolicy: .bufferingNewest(8))
        self.stream = stream
        self.sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }
}
