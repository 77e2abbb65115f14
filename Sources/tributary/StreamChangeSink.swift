import EventFormat
import Foundation
import Logging
import TributaryCore

/// A non-Kafka sink for the quick start and debugging: one JSON line per record
/// (`{"topic":…,"key":…,"value":…}`) to stdout or a file. Offsets go to a local file replaced atomically
/// after the output was flushed: at-least-once, every event carries its position for deduplication.
actor StreamChangeSink: ChangeSink {
    let output: FileHandle
    let offsetFile: String
    let heartbeatsEnabled: Bool
    private var formatter: DebeziumJSONFormatter
    private var buffer: [FormattedRecord] = []
    private var pending: [UInt8] = []

    init(outputPath: String?, offsetFile: String, formatter: DebeziumJSONFormatter, heartbeatsEnabled: Bool) throws {
        if let outputPath {
            if !FileManager.default.fileExists(atPath: outputPath) {
                FileManager.default.createFile(atPath: outputPath, contents: nil)
            }
            guard let handle = FileHandle(forWritingAtPath: outputPath) else {
                throw SinkFileError(message: "cannot open sink.file.path '\(outputPath)' for writing")
            }
            handle.seekToEndOfFile()
            self.output = handle
        } else {
            self.output = FileHandle.standardOutput
        }
        self.offsetFile = offsetFile
        self.formatter = formatter
        self.heartbeatsEnabled = heartbeatsEnabled
    }

    func loadOffset() async throws -> Offset? {
        guard let data = FileManager.default.contents(atPath: offsetFile) else { return nil }
        return try OffsetCodec.decode(Array(data))
    }

    func beginUnit(id: String) async throws {
        pending.removeAll(keepingCapacity: true)
    }

    func write(_ records: [SourceRecord]) async throws {
        for record in records {
            try formatter.format(record, heartbeats: heartbeatsEnabled, into: &buffer)
        }
        for r in buffer {
            pending.append(contentsOf: Array("{\"topic\":".utf8))
            JSONText.appendString(r.topic, to: &pending)
            pending.append(contentsOf: Array(",\"key\":".utf8))
            pending.append(contentsOf: r.key ?? Array("null".utf8))
            pending.append(contentsOf: Array(",\"value\":".utf8))
            pending.append(contentsOf: r.value ?? Array("null".utf8))
            pending.append(contentsOf: Array("}\n".utf8))
        }
        buffer.removeAll(keepingCapacity: true)
        if pending.count > 1 << 20 { flushPending() }
    }

    private func flushPending() {
        output.write(Data(pending))
        pending.removeAll(keepingCapacity: true)
    }

    func commitUnit(offset: Offset) async throws {
        flushPending()
        var offset = offset
        offset.time = WallClock.nowMillis()
        try OffsetFile.write(try OffsetCodec.encode(offset), to: offsetFile)
    }

    func abortUnit() async {
        pending.removeAll()
    }
}

struct SinkFileError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Atomic replacement of the local offset file: write a temporary file, fsync, rename.
enum OffsetFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SinkFileError(message: "cannot write offset file '\(temporary)': errno \(errno)") }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else {
            throw SinkFileError(message: "cannot write offset file '\(temporary)': errno \(errno)")
        }
        guard rename(temporary, path) == 0 else {
            throw SinkFileError(message: "cannot rename offset file to '\(path)': errno \(errno)")
        }
    }
}

/// Minimal JSON string escaping for the stream sink's envelope.
enum JSONText {
    static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
