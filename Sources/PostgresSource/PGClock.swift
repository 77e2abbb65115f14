import Glibc

/// Wall-clock helpers (the source stamps non-transactional messages and status updates with the local time).
enum PGClock {
    /// Microseconds since the Unix epoch.
    static func nowUnixMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }
}

/// Writes text straight to a file descriptor (no shared `FILE*` state, so it is concurrency-safe).
enum FileDescriptorWriter {
    static func standardError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
