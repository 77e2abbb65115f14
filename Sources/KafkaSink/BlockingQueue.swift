import Dispatch
import Synchronization

/// Runs blocking librdkafka calls (`rd_kafka_commit_transaction`, `rd_kafka_flush`, `rd_kafka_metadata`,
/// `rd_kafka_consume_batch_queue`, …) on a private serial `DispatchQueue`, never on Swift's cooperative
/// pool (STYLE §5). Each call bounds its own wait; long operations loop in slices of at most 1 s and check
/// `CancellationFlag` between slices.
struct BlockingQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        self.queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue and resumes with its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs `body` on the queue with a flag that is raised when the calling task is cancelled.
    func runCancellable<T: Sendable>(_ body: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await run { try body(flag) }
        } onCancel: {
            flag.cancel()
        }
    }
}

/// A cancellation signal that blocking loops poll between bounded waits.
final class CancellationFlag: Sendable {
    private let value = Atomic<Bool>(false)

    init() {}

    func cancel() { value.store(true, ordering: .relaxed) }

    var isCancelled: Bool { value.load(ordering: .relaxed) }

    /// Throws `CancellationError` once cancelled.
    func check() throws {
        if isCancelled { throw CancellationError() }
    }
}
