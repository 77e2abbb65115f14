import ArgumentParser
import Dispatch
import Engine
import Foundation
import KafkaSink
import Logging
import PostgresSource
import TributaryConfig
import TributaryCore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Capture changes and publish them, until SIGTERM/SIGINT.",
        discussion: """
            Configuration precedence: --set flags > TRIBUTARY_* environment variables > the YAML file > defaults.
            On SIGTERM/SIGINT the agent stops reading, commits the transaction in flight, confirms the final
            position to the database and exits 0. A second signal stops at once (the open Kafka transaction is
            aborted; nothing is lost).
            """)

    @Option(name: .long, help: "YAML configuration file (Debezium property names).")
    var config: String?

    @Option(name: .customLong("set"), help: "Override one key: --set key=value (repeatable).")
    var overrides: [String] = []

    @Flag(name: .long, help: "Print the effective configuration (secrets redacted) and exit.")
    var printConfig = false

    @Option(
        name: .long,
        help: "Replay from this LSN (e.g. 0/16B3748) instead of the committed offset: transactions committed before it are skipped. The slot must still serve it (LSN >= its confirmed_flush_lsn).")
    var startLSN: String?

    func validate() throws {
        if let startLSN, LSN(string: startLSN) == nil {
            throw ValidationError("--start-lsn must look like 16/B374D848, got '\(startLSN)'")
        }
    }

    func run() async throws {
        let configuration = try loadConfiguration(file: config ?? ProcessInfo.processInfo.environment["TRIBUTARY_CONFIG"], overrides: overrides)
        if printConfig {
            print(configuration.redactedDescription)
            return
        }
        let logger = Logger(label: "tributary")
        MemoryTuning.apply()
        let agent: Agent
        do {
            let start = startLSN.flatMap { LSN(string: $0) }.map { Offset(source: "postgresql", lsn: $0.rawValue) }
            agent = try Agent(configuration: configuration, logger: logger, startOverride: start)
        } catch {
            logger.error("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(ExitCodes.configuration)
        }
        do {
            try await agent.runUntilStopped()
            logger.notice("stopped")
        } catch {
            let code = Agent.exitCode(for: error)
            logger.error("agent failed", metadata: ["error": "\(error)", "exit.code": "\(code)"])
            throw ExitCode(code)
        }
    }
}

/// Loads the configuration and bootstraps logging; configuration errors exit with code 2 naming the key.
func loadConfiguration(file: String?, overrides: [String]) throws -> AgentConfiguration {
    var overrideMap: [String: String] = [:]
    for item in overrides {
        guard let eq = item.firstIndex(of: "=") else {
            throw ValidationError("--set expects key=value, got '\(item)'")
        }
        overrideMap[String(item[..<eq])] = String(item[item.index(after: eq)...])
    }
    do {
        let configuration = try AgentConfiguration.load(
            file: file, environment: ProcessInfo.processInfo.environment, overrides: overrideMap)
        LoggingBootstrap.bootstrap(
            level: LoggingBootstrap.level(configuration.logging.level), json: configuration.logging.format == .json)
        return configuration
    } catch let error as ConfigurationError {
        FileHandle.standardError.write(Data("tributary: invalid configuration: \(error)\n".utf8))
        throw ExitCode(ExitCodes.configuration)
    }
}

extension Duration {
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

/// glibc raises its mmap threshold dynamically after large frees, so the big, short-lived arrays of a
/// snapshot (chunks of events built on worker threads, freed on the engine's) stay in the heap and RSS grows
/// with the table size. Fixed thresholds keep them in mmap and let free memory return to the system
/// (measured: 1M-row snapshot, peak RSS 283 MiB → ~130 MiB). Environment settings (`MALLOC_*_`) win.
enum MemoryTuning {
    /// `<malloc.h>` parameters (Glibc's Swift module does not import that header).
    private static let mTrimThreshold: Int32 = -1
    private static let mMmapThreshold: Int32 = -3

    static func apply() {
        let environment = ProcessInfo.processInfo.environment
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil { _ = glibcMallopt(mMmapThreshold, 256 * 1024) }
        if environment["MALLOC_TRIM_THRESHOLD_"] == nil { _ = glibcMallopt(mTrimThreshold, 1024 * 1024) }
    }
}

/// `int mallopt(int param, int value)` from glibc.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
