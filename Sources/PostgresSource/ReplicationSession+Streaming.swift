import Glibc
import NIOCore
import PGOutput
import TributaryCore

/// pgoutput protocol v2 streaming of in-progress transactions (`slot.stream.params: streaming=on`).
///
/// The server sends a large transaction in chunks (Stream Start … Stop) before it commits, interleaved with
/// other transactions, so it never has to spill it itself. Tributary appends each chunk's raw messages to a
/// per-transaction spill file and replays the file through the normal path at Stream Commit: memory stays
/// bounded, and only committed transactions reach the engine (a Stream Abort deletes the file, or marks the
/// aborted subtransaction's records to be skipped).
extension ReplicationSession {
    var streamingEnabled: Bool {
        guard let value = configuration.streamParameters["streaming"]?.lowercased() else { return false }
        return value == "on" || value == "true" || value == "1"
    }

    var spillDirectory: String {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        return base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    func spillPath(_ xid: UInt32) -> String {
        "\(spillDirectory)/tributary-\(configuration.slotName)-\(xid).spill"
    }

    /// Deletes spill files of an earlier run of this slot: the server re-streams those transactions.
    func removeStaleSpillFiles() {
        guard let dir = opendir(spillDirectory) else { return }
        defer { closedir(dir) }
        let prefix = "tributary-\(configuration.slotName)-"
        // `dirent` records are variable-length: read `d_name` in place as a C string, never copy the
        // fixed-size tuple (that reads past the record).
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19
        while let entry = readdir(dir) {
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name.hasPrefix(prefix), name.hasSuffix(".spill") { unlink("\(spillDirectory)/\(name)") }
        }
    }

    /// Inside a stream block, appends every message but Stream Stop to the transaction's spill file, without
    /// applying it: Relation and Type messages of a streamed transaction describe the table as that transaction
    /// sees it, so they take effect when the transaction is replayed, in stream order. Returns true when spilled.
    func spillIfStreamed(payload: ByteBuffer, lsn: LSN) throws -> Bool {
        guard let xid = currentStreamXID else { return false }
        if payload.getInteger(at: payload.readerIndex, as: UInt8.self) == PGOutputMessage.ID.streamStop.rawValue {
            return false
        }
        // Decoded without the decoder's state only to learn the subtransaction of row changes.
        var copy = payload
        let subxid: UInt32?
        switch try PGOutputMessage.decode(from: &copy, inStream: true, lsn: lsn) {
        case .insert(let m): subxid = m.xid
        case .update(let m): subxid = m.xid
        case .delete(let m): subxid = m.xid
        case .truncate(let m): subxid = m.xid
        case .message(let m): subxid = m.xid
        case .relation, .type: subxid = nil
        default:
            throw PostgresSourceError(.protocolViolation, "unexpected message inside the stream block of xid \(xid) at \(lsn)")
        }
        guard let spill = spills[xid] else {
            throw PostgresSourceError(.protocolViolation, "streamed change at \(lsn) for xid \(xid) without Stream Start")
        }
        try spill.append(lsn: lsn, xid: subxid ?? xid, payload: payload)
        return true
    }

    func handleStream(
        _ message: PGOutputMessage, lsn: LSN, into batch: inout [SourceRecord], output: RecordChannel
    ) async throws {
        switch message {
        case .streamStart(let start):
            currentStreamXID = start.xid
            if spills[start.xid] == nil {
                spills[start.xid] = try SpillFile(path: spillPath(start.xid))
            }
        case .streamStop:
            currentStreamXID = nil
        case .streamAbort(let abort):
            if abort.subtransactionXID == abort.xid || abort.subtransactionXID == 0 {
                spills.removeValue(forKey: abort.xid)?.remove()
            } else {
                spills[abort.xid]?.abortedSubtransactions.insert(abort.subtransactionXID)
            }
        case .streamCommit(let commit):
            guard let spill = spills.removeValue(forKey: commit.xid) else {
                throw PostgresSourceError(.protocolViolation, "Stream Commit at \(lsn) for unknown xid \(commit.xid)")
            }
            defer { spill.remove() }
            let commitMicros = PGEpoch.unixMicros(fromPostgresMicros: commit.commitTime)
            let skip = commit.commitLSN.rawValue < resumeLSN
            transaction = OpenTransaction(
                xid: commit.xid, commitLSN: commit.commitLSN, commitTimeMicros: commitMicros, skip: skip)
            if !skip {
                batch.append(.begin(TransactionBoundary(
                    id: "\(commit.xid):\(lsn.rawValue)", timestampMicros: commitMicros,
                    offset: Offset(source: "postgresql", lsn: lastEmittedLSN), xid: commit.xid, lsn: lsn)))
                try spill.finishWriting()
                var reader = try spill.reader()
                // Replay through the stateful decoder inside a synthetic stream block, so the spilled
                // Relation/Type messages are applied in order and the xid fields are read.
                _ = try decoder.decode(Self.syntheticStreamStart(xid: commit.xid), at: lsn)
                defer { _ = try? decoder.decode(Self.syntheticStreamStop, at: lsn) }
                while let record = try reader.next() {
                    if spill.abortedSubtransactions.contains(record.xid) { continue }
                    let replayed = try decoder.decode(record.payload, at: record.lsn)
                    try process(replayed, lsn: record.lsn, into: &batch)
                    if batch.count >= configuration.maxBatchSize {
                        try await output.send(batch)
                        batch.removeAll(keepingCapacity: true)
                        // A long replay must still talk to the server, or wal_sender_timeout drops us.
                        try keepConnectionAlive()
                    }
                }
            }
            try process(
                .commit(PGOutputMessage.Commit(
                    flags: commit.flags, commitLSN: commit.commitLSN, endLSN: commit.endLSN, commitTime: commit.commitTime)),
                lsn: lsn, into: &batch)
        default:
            break
        }
    }
}

extension ReplicationSession {
    /// `S` xid first-segment: puts the decoder into a stream block for a replay.
    static func syntheticStreamStart(xid: UInt32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(PGOutputMessage.ID.streamStart.rawValue)
        buffer.writeInteger(xid)
        buffer.writeInteger(UInt8(0))
        return buffer
    }

    /// `E`: ends the synthetic stream block.
    static var syntheticStreamStop: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(PGOutputMessage.ID.streamStop.rawValue)
        return buffer
    }
}

/// An append-only file of `[lsn u64][xid u32][length u32][payload]` records for one streamed transaction.
final class SpillFile {
    let path: String
    private var fd: Int32
    private var pending: [UInt8] = []
    var abortedSubtransactions: Set<UInt32> = []

    init(path: String) throws {
        self.path = path
        fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0o600)
        guard fd >= 0 else {
            throw PostgresSourceError(.configuration, "cannot create spill file \(path): errno \(errno) (set TMPDIR to a writable directory)")
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    func append(lsn: LSN, xid: UInt32, payload: ByteBuffer) throws {
        withUnsafeBytes(of: lsn.rawValue.littleEndian) { pending.append(contentsOf: $0) }
        withUnsafeBytes(of: xid.littleEndian) { pending.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(payload.readableBytes).littleEndian) { pending.append(contentsOf: $0) }
        pending.append(contentsOf: payload.readableBytesView)
        if pending.count >= 1 << 20 { try finishWriting() }
    }

    func finishWriting() throws {
        guard !pending.isEmpty else { return }
        let written = pending.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == pending.count else {
            throw PostgresSourceError(.configuration, "cannot write spill file \(path): errno \(errno) (disk full?)")
        }
        pending.removeAll(keepingCapacity: true)
    }

    func reader() throws -> Reader {
        lseek(fd, 0, SEEK_SET)
        return Reader(fd: fd)
    }

    func remove() {
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(path)
    }

    struct Reader {
        let fd: Int32
        var buffer = ByteBuffer()
        var eof = false

        init(fd: Int32) { self.fd = fd }

        mutating func fill(_ count: Int) throws -> Bool {
            guard buffer.readableBytes < count else { return true }
            // Compact only when refilling (not per record): read records are dropped in one move.
            buffer.discardReadBytes()
            while buffer.readableBytes < count && !eof {
                let want = max(1 << 20, count - buffer.readableBytes)
                let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { raw -> Int in
                    let n = read(fd, raw.baseAddress, raw.count)
                    if n < 0 { throw PostgresSourceError(.configuration, "cannot read spill file: errno \(errno)") }
                    return n
                }
                if n == 0 { eof = true }
            }
            return buffer.readableBytes >= count
        }

        mutating func next() throws -> (lsn: LSN, xid: UInt32, payload: ByteBuffer)? {
            guard try fill(16) else { return nil }
            guard let lsn = buffer.readInteger(endianness: .little, as: UInt64.self),
                let xid = buffer.readInteger(endianness: .little, as: UInt32.self),
                let length = buffer.readInteger(endianness: .little, as: UInt32.self)
            else { return nil }
            guard try fill(Int(length)), let payload = buffer.readSlice(length: Int(length)) else {
                throw PostgresSourceError(.decoding, "spill file truncated")
            }
            return (LSN(lsn), xid, payload)
        }
    }
}
