import Tensor
import NN
import Comm

/// Data-parallel gradient averaging, bucketed and overlapped with the backward pass.
///
/// Gradients are packed into buckets (default ~25 MB) in the order the backward pass finishes
/// them; a bucket's non-blocking allreduce starts as soon as its last gradient is ready, so the
/// communication hides behind the backward work that remains. `finish()` waits for every bucket
/// and writes the averaged gradients back. The order is recorded on the first step (that step
/// reduces everything after backward); it is the same on every rank because every rank runs the
/// same code, and the bucket layout is verified across ranks before it is used.
public final class GradientReducer {
    /// What travels on the wire: float32 (exact mean), or bfloat16 (half the bytes, ~3 significant
    /// digits per summand; for slow fabrics).
    public enum Precision: String, Sendable { case float32, bfloat16 }

    public let communicator: Communicator
    public let bucketBytes: Int
    public let precision: Precision
    /// false: no bucket starts during backward; `finish()` starts them all and waits (the
    /// communication is fully exposed). For measuring what the overlap hides.
    public let overlap: Bool
    let parameters: [Parameter]

    final class Bucket {
        let members: [Parameter]
        let buffer: Tensor
        /// bfloat16 copy on the wire; manually allocated so its address stays fixed while MPI owns it.
        var compressed: UnsafeMutableBufferPointer<UInt16>?
        var ready = 0
        var pending: PendingReduction?
        init(_ members: [Parameter]) {
            self.members = members
            buffer = Tensor(shape: [members.reduce(0) { $0 + $1.value.count }])
        }
        deinit { compressed?.deallocate() }
    }

    var buckets: [Bucket] = []
    var bucketOf: [ObjectIdentifier: Int] = [:]
    var recordedOrder: [Parameter] = []
    var recording = true
    /// Seconds spent waiting in `finish()` during the last step: communication not hidden by backward.
    public private(set) var lastExposedSeconds = 0.0

    public init(parameters: [Parameter], communicator: Communicator, bucketBytes: Int = 25 << 20, precision: Precision = .float32,
                overlap: Bool = true) {
        self.parameters = parameters; self.communicator = communicator; self.bucketBytes = max(4, bucketBytes)
        self.precision = precision; self.overlap = overlap
        for p in parameters {
            p.onGradientReady = { [unowned self, unowned p] in self.gradientReady(p) }
        }
    }

    deinit { for p in parameters { p.onGradientReady = nil } }

    public var bucketCount: Int { buckets.count }

    /// Applied to each gradient the moment it is ready, before it is packed (e.g. OGM-GE modulation).
    public var transform: ((Parameter) -> Void)?

    func gradientReady(_ p: Parameter) {
        transform?(p)
        if recording { recordedOrder.append(p); return }
        guard overlap else { return }
        guard let b = bucketOf[ObjectIdentifier(p)] else { return }
        let bucket = buckets[b]
        bucket.ready += 1
        if bucket.ready == bucket.members.count { start(bucket, b) }
        // Drive progress of reductions already in flight.
        for other in buckets where other.pending != nil { other.pending!.test() }
    }

    /// Call after backward, before the optimizer step: every gradient becomes the mean over ranks.
    /// Call once per step before backward when the previous step's result has been read.
    public func beginStep() { firstNonFinite = nil }

    public func finish() {
        if recording { buildBuckets() }
        let t0 = monotonicSeconds()
        if !overlap {
            // Everything after backward: start every bucket, then wait for them in order.
            for (i, bucket) in buckets.enumerated() where bucket.pending == nil { start(bucket, i) }
        }
        for bucket in buckets {
            // Not started during backward: the first step, or a parameter without gradient this step.
            if bucket.pending == nil { start(bucket, -1) }
            bucket.pending!.wait()
            bucket.pending = nil
            if let c = bucket.compressed {
                for i in 0..<bucket.buffer.count { bucket.buffer.data[i] = BFloat16.toFloat(c[i]) }
            }
            let scale = 1 / Float(communicator.size)
            var o = 0
            for m in bucket.members {
                let src = bucket.buffer.data + o, dst = m.grad.data
                for i in 0..<m.grad.count { dst[i] = src[i] * scale }
                o += m.grad.count
            }
            bucket.ready = 0
        }
        lastExposedSeconds = monotonicSeconds() - t0
    }

    /// The first parameter whose local gradient (before averaging) was NaN or Inf in this step.
    public private(set) var firstNonFinite: Parameter?

    /// Packs a bucket's gradients and starts its non-blocking allreduce.
    func start(_ bucket: Bucket, _ index: Int) {
        var o = 0
        for m in bucket.members { (bucket.buffer.data + o).update(from: m.grad.data, count: m.grad.count); o += m.grad.count }
        // A NaN/Inf anywhere makes the sum non-finite; checked while the bucket is still in cache.
        if firstNonFinite == nil && !sum(bucket.buffer.data, bucket.buffer.count).isFinite {
            firstNonFinite = bucket.members.first { !sum($0.grad.data, $0.grad.count).isFinite } ?? bucket.members[0]
        }
        let label = "gradient bucket \(index)"
        switch precision {
        case .float32:
            bucket.pending = communicator.startAllreduce(bucket.buffer.data, count: bucket.buffer.count, label: label)
        case .bfloat16:
            let c = bucket.compressed ?? UnsafeMutableBufferPointer<UInt16>.allocate(capacity: bucket.buffer.count)
            bucket.compressed = c
            for i in 0..<bucket.buffer.count { c[i] = BFloat16.from(bucket.buffer.data[i]) }
            bucket.pending = communicator.startAllreduceBFloat16(c.baseAddress!, count: c.count, label: label)
        }
    }

    /// Buckets in gradient-completion order (parameters never reported go last), then a check
    /// that every rank built the same layout.
    func buildBuckets() {
        recording = false
        var seen = Set<ObjectIdentifier>()
        var order: [Parameter] = []
        for p in recordedOrder + parameters where !seen.contains(ObjectIdentifier(p)) {
            seen.insert(ObjectIdentifier(p)); order.append(p)
        }
        var current: [Parameter] = [], bytes = 0
        for p in order {
            current.append(p); bytes += p.value.count * 4
            if bytes >= bucketBytes { buckets.append(Bucket(current)); current = []; bytes = 0 }
        }
        if !current.isEmpty { buckets.append(Bucket(current)) }
        for (i, b) in buckets.enumerated() { for m in b.members { bucketOf[ObjectIdentifier(m)] = i } }
        var layout: [Int64] = [Int64(buckets.count)] + buckets.map { Int64($0.buffer.count) }
        var h: Int64 = 1469598103934665603
        for x in layout { h = (h ^ x) &* 1099511628211 }
        layout = [h]
        if communicator.allreduce(layout[0], op: .min) != communicator.allreduce(layout[0], op: .max) {
            communicator.fail("gradient buckets differ between ranks (different models or code versions?)")
        }
        recordedOrder = []
    }
}
