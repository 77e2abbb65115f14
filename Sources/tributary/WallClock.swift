import Foundation

/// Wall-clock time for offset records (`time`) and heartbeat records (`ts_ms`).
enum WallClock {
    /// Milliseconds since the Unix epoch.
    static func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
