import Foundation
import Tensor

/// Assembles the batches of one epoch on one background thread, up to `depth` batches ahead of
/// the caller, so reading and augmentation overlap training.
///
///     let loader = PrefetchingLoader(source: train, batches: plan, epoch: e, training: true)
///     while let labels = try loader.next(into: inputs) { ... }
///     log(loader.waitSeconds)                                  // "data wait"
///
/// The thread fills `depth` slots of reused tensors (no per-batch tensor allocation once warm);
/// `next` copies the next slot into the caller's tensors. A `gather` error is rethrown by `next`
/// for the batch where it happened (and again by any later call); the thread stops there. The
/// source must not be gathered from elsewhere meanwhile unless it serialises `gather` itself
/// (`HDF5Dataset` does). Dropping the loader or calling `cancel` stops the thread after its
/// current batch. Use a loader from one thread.
public final class PrefetchingLoader {
    public let batchCount: Int
    /// Total seconds the caller spent in `next`: waiting for the background thread plus copying
    /// the batch out (the "data wait" on the training critical path).
    public private(set) var waitSeconds: Double = 0
    /// Seconds the last `next` call took.
    public private(set) var lastWaitSeconds: Double = 0

    private let state: State
    private var failure: Error?

    private final class Slot {
        let inputs: [Tensor]
        var labels: [Int32] = []
        var error: Error?
        init(modalities: Int) { inputs = (0..<modalities).map { _ in Tensor(shape: [0]) } }
    }

    /// Shared with the thread; every field but the slots' contents is guarded by `condition`.
    /// A slot is written by the thread only while it is not yet produced and read by the caller
    /// only once produced and not yet consumed, so the slots need no lock of their own.
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        /// Dropped by the thread as it exits, so once `cancel` returns the source is the caller's alone
        /// (and, e.g., an HDF5 file is closed on the caller's thread, not at some later point).
        var source: SampleSource?
        let batches: [[Int]]
        let epoch: Int, training: Bool
        let slots: [Slot]
        var produced = 0, consumed = 0
        var cancelled = false, exited = false

        init(source: SampleSource, batches: [[Int]], epoch: Int, training: Bool, depth: Int) {
            self.source = source; self.batches = batches; self.epoch = epoch; self.training = training
            slots = (0..<depth).map { _ in Slot(modalities: source.shapes.count) }
        }

        func run() {
            condition.lock()
            while true {
                while !cancelled && produced < batches.count && produced - consumed >= slots.count { condition.wait() }
                if cancelled || produced >= batches.count { break }
                let k = produced
                condition.unlock()
                let slot = slots[k % slots.count]
                do {
                    slot.labels = try source!.gather(batches[k][...], into: slot.inputs, epoch: epoch, training: training)
                    slot.error = nil
                } catch {
                    slot.error = error
                }
                condition.lock()
                produced += 1
                condition.broadcast()
                if slot.error != nil { break }
            }
            source = nil
            exited = true
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Starts the thread at once. `depth` (>= 1) is how many batches it may assemble ahead.
    public init(source: SampleSource, batches: [[Int]], epoch: Int, training: Bool, depth: Int = 2) {
        precondition(depth >= 1, "prefetch depth must be >= 1")
        batchCount = batches.count
        state = State(source: source, batches: batches, epoch: epoch, training: training, depth: depth)
        let s = state
        let thread = Thread { s.run() }
        thread.name = "spice-prefetch"
        thread.start()
    }

    deinit { cancel() }

    /// Copies the next batch into `inputs` (one tensor per modality, resized as needed) and
    /// returns its labels; nil after the last batch. Rethrows the error of a failed batch.
    public func next(into inputs: [Tensor]) throws -> [Int32]? {
        if let failure { throw failure }
        let s = state
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            lastWaitSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            waitSeconds += lastWaitSeconds
        }
        s.condition.lock()
        while s.produced <= s.consumed && !s.exited { s.condition.wait() }
        let ready = s.produced > s.consumed
        let k = s.consumed
        s.condition.unlock()
        guard ready else { return nil }   // all batches delivered (or cancelled)

        let slot = s.slots[k % s.slots.count]
        if let error = slot.error {
            failure = error
            throw error
        }
        precondition(inputs.count == slot.inputs.count, "next(into:) needs \(slot.inputs.count) tensors, got \(inputs.count)")
        for (dst, src) in zip(inputs, slot.inputs) { dst.copy(from: src) }
        let labels = slot.labels
        s.condition.lock()
        s.consumed += 1
        s.condition.broadcast()
        s.condition.unlock()
        return labels
    }

    /// Stops the thread after the batch it is assembling and waits for it to exit.
    public func cancel() {
        let s = state
        s.condition.lock()
        s.cancelled = true
        s.condition.broadcast()
        while !s.exited { s.condition.wait() }
        s.condition.unlock()
    }
}
