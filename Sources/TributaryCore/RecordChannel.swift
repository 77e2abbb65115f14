import Synchronization

/// A bounded single-consumer channel of record batches between a source and the engine.
///
/// `send` suspends while `capacity` batches are queued (backpressure reaches the source, so a huge source
/// transaction streams through in bounded memory); `next` suspends while it is empty. `finish` ends the
/// stream after the queued batches.
public final class RecordChannel: Sendable {
    private struct State {
        var buffer: [[SourceRecord]] = []
        var head = 0
        var finished = false
        var failure: (any Error)?
        var waitingConsumer: CheckedContinuation<Void, Never>?
        var waitingProducers: [CheckedContinuation<Void, Never>] = []
        var count: Int { buffer.count - head }
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 16) {
        self.capacity = max(1, capacity)
    }

    /// Enqueues a batch, suspending while the channel is full. Throws `CancellationError` when the
    /// channel was finished by the consumer side.
    public func send(_ batch: [SourceRecord]) async throws {
        guard !batch.isEmpty else { return }
        while true {
            let outcome: Int = state.withLock { s in
                if s.finished { return 2 }
                if s.count < capacity {
                    s.buffer.append(batch)
                    return 0
                }
                return 1
            }
            switch outcome {
            case 0:
                let consumer = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    defer { s.waitingConsumer = nil }
                    return s.waitingConsumer
                }
                consumer?.resume()
                return
            case 2:
                throw CancellationError()
            default:
                try Task.checkCancellation()
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.finished || s.count < capacity { return true }
                        s.waitingProducers.append(c)
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            }
        }
    }

    /// Dequeues the next batch; nil once finished and drained. Rethrows a failure passed to `finish`.
    public func next() async throws -> [SourceRecord]? {
        while true {
            let (batch, producers, done, failure): ([SourceRecord]?, [CheckedContinuation<Void, Never>], Bool, (any Error)?) =
                state.withLock { s in
                    if s.count > 0 {
                        let b = s.buffer[s.head]
                        s.buffer[s.head] = []  // release the records now, not at the next compaction
                        s.head += 1
                        if s.head > 64 && s.head * 2 > s.buffer.count {
                            s.buffer.removeFirst(s.head)
                            s.head = 0
                        }
                        let p = s.waitingProducers
                        s.waitingProducers = []
                        return (b, p, false, nil)
                    }
                    return (nil, [], s.finished, s.failure)
                }
            for p in producers { p.resume() }
            if let batch { return batch }
            if done {
                if let failure { throw failure }
                return nil
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.count > 0 || s.finished { return true }
                    s.waitingConsumer = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        }
    }

    /// Whether no batch is queued right now.
    public var isEmpty: Bool { state.withLock { $0.count == 0 } }

    /// Ends the channel: queued batches are still delivered, then `next` returns nil (or throws `error`).
    /// Wakes every waiter; later `send`s throw.
    public func finish(throwing error: (any Error)? = nil) {
        let (consumer, producers) = state.withLock { s -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            s.finished = true
            if s.failure == nil { s.failure = error }
            defer {
                s.waitingConsumer = nil
                s.waitingProducers = []
            }
            return (s.waitingConsumer, s.waitingProducers)
        }
        consumer?.resume()
        for p in producers { p.resume() }
    }
}
