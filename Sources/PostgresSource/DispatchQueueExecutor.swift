import Dispatch

/// A `SerialExecutor` over a private serial `DispatchQueue`, so the actor that owns a libpq connection runs
/// its blocking calls off Swift's cooperative thread pool (Linux has no `DispatchSerialQueue` executor).
final class DispatchQueueExecutor: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: the only state is an immutable DispatchQueue, which is thread-safe.
    private let queue: DispatchQueue

    init(label: String) {
        self.queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async {
            job.runSynchronously(on: self.asUnownedSerialExecutor())
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
