import Foundation
import Logging
import TributaryConfig

/// Bootstraps swift-log once for the process: text or JSON lines on stderr.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false

    static func bootstrap(level: Logger.Level, json: Bool) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func level(_ setting: LoggingSettings.Level) -> Logger.Level {
        Logger.Level(rawValue: setting.rawValue) ?? .info
    }
}

/// One JSON object per line on stderr: `{"ts":…,"level":…,"label":…,"message":…,<metadata>}`.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = [
            "ts": ISO8601DateFormatter().string(from: Date()), "level": event.level.rawValue, "label": label,
            "message": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = value.description
        }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            FileHandle.standardError.write(data + Data([0x0A]))
        }
    }
}
