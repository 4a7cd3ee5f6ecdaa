import Foundation
import Synchronization
import COpenBLAS

/// Fork-join parallelism for the kernels: `workers` threads (the calling thread is worker 0, the
/// others are persistent threads of a small pool) each run one part of a kernel.
///
/// Every parallel kernel splits its work by a rule that depends only on the problem shape and the
/// worker count, and each part computes exactly what the serial loop computes for it; where a sum
/// is split (the im2col weight gradients: one partial per worker, added in worker order) the
/// result depends on the worker count but never on thread timing. With 1 worker everything runs
/// inline on the calling thread.
///
/// Threads and OpenBLAS: `configure(threads:)` gives the pool that many workers and runs OpenBLAS
/// with 1 thread; the kernels split their GEMMs between the workers themselves (whole images,
/// batch halves or the 16 Winograd tile positions), so the transforms, im2col / col2im and the
/// element-wise passes are parallel too, and OpenBLAS's own threads never spin against ours.
public enum Parallel {
    nonisolated(unsafe) private static var pool: WorkerPool?

    /// Worker threads the kernels use (1 = serial).
    public static var workers: Int { pool?.count ?? 1 }

    /// When set, every parallel region records the CPU time of each part (for
    /// `criticalPathSeconds`). Set by the benchmark; off by default.
    nonisolated(unsafe) public static var accounting = false
    /// Sum over parallel regions of (slowest part's CPU time - the calling thread's CPU time in the
    /// region, its part plus waiting).
    nonisolated(unsafe) static var criticalPathAdjustment = 0.0

    /// CPU time of the calling thread, in seconds.
    @inline(__always) public static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// A clock that advances by the calling thread's CPU time outside parallel regions and by the
    /// slowest part's CPU time inside them (with `accounting` on): the wall time the work would take
    /// with every worker on a core of its own. On a shared machine, where other processes take
    /// turns on the cores, it shows what the kernels' split achieves, unlike the wall clock.
    public static func criticalPathSeconds() -> Double { threadCPUSeconds() + criticalPathAdjustment }

    /// The thread setting of a process: `threads` kernel workers, OpenBLAS single-threaded (see above).
    public static func configure(threads: Int) {
        setWorkers(threads)
        BLASInfo.setThreads(1)
    }

    /// Replaces the pool with one of `n` workers (n - 1 helper threads). Not to be called while a
    /// kernel runs.
    public static func setWorkers(_ n: Int) {
        let n = max(1, n)
        if n == workers { return }
        pool?.stop()
        pool = n > 1 ? WorkerPool(count: n) : nil
    }

    /// Runs body(w) for every worker w in 0 ..< workers, concurrently, and returns when all are done.
    /// Called from inside a parallel region (or from a second thread while one runs), the parts run
    /// one after another on the calling thread.
    public static func run(_ body: (Int) -> Void) {
        if let pool { pool.run(body) } else { body(0) }
    }

    /// Part `w` of `parts` contiguous, near-equal pieces of 0 ..< n.
    @inline(__always)
    public static func piece(_ n: Int, _ w: Int, of parts: Int) -> Range<Int> {
        (n * w / parts) ..< (n * (w + 1) / parts)
    }

    /// Splits 0 ..< n into contiguous pieces, one per worker (fewer when a piece would hold less
    /// than `minPerWorker` items), and runs body(worker, piece) for each, concurrently.
    public static func forEach(_ n: Int, minPerWorker: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        let parts = min(workers, max(1, n / max(1, minPerWorker)))
        if parts <= 1 { if n > 0 { body(0, 0 ..< n) }; return }
        run { w in if w < parts { body(w, piece(n, w, of: parts)) } }
    }

    /// `forEach` over 0 ..< n with piece boundaries at multiples of `block` (vector-friendly splits
    /// of element-wise loops). Small n (< minPerWorker per worker) runs serially.
    public static func forEachBlock(_ n: Int, block: Int = 64, minPerWorker: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let blocks = (n + block - 1) / block
        forEach(blocks, minPerWorker: max(1, minPerWorker / block)) { _, r in
            body((r.lowerBound * block) ..< min(n, r.upperBound * block))
        }
    }
}

/// `count - 1` persistent helper threads plus the calling thread. A dispatch publishes the job and
/// bumps `generation`; helpers spin briefly on it, then sleep on a condition variable. The caller
/// runs part 0, spins briefly until `pending` reaches zero, then sleeps until the last helper
/// signals. Short spins keep back-to-back dispatches cheap (~1 us); sleeping keeps a waiting thread
/// from burning a core that a descheduled worker (on a shared machine) needs to finish its part.
final class WorkerPool: @unchecked Sendable {
    let count: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private var job: ((Int) -> Void)?
    private var fpMode: UInt32 = 0
    private var accounting = false
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private let finished: UnsafeMutablePointer<pthread_cond_t>
    private var sleepers = 0
    /// CPU seconds of each part of the current region (with `Parallel.accounting`).
    private let partCPU: UnsafeMutablePointer<Double>
    /// PAUSE iterations a waiting thread spins before sleeping (~50-100 us).
    private let spinLimit = 2048

    init(count: Int) {
        self.count = count
        mutex = .allocate(capacity: 1); pthread_mutex_init(mutex, nil)
        wake = .allocate(capacity: 1); pthread_cond_init(wake, nil)
        finished = .allocate(capacity: 1); pthread_cond_init(finished, nil)
        partCPU = .allocate(capacity: 8 * count); partCPU.initialize(repeating: 0, count: 8 * count)
        for i in 1 ..< count {
            let t = Thread { [self] in self.loop(i) }
            t.name = "spice-worker-\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Ends the helper threads (they exit at their next wake-up); the pool must be idle.
    func stop() {
        stopping.store(true, ordering: .releasing)
        generation.add(1, ordering: .releasing)
        pthread_mutex_lock(mutex); pthread_cond_broadcast(wake); pthread_mutex_unlock(mutex)
    }

    private func loop(_ index: Int) {
        var seen = 0
        var mode = spice_get_fp_mode()
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                if spins < spinLimit { spice_cpu_relax(); spins += 1; continue }
                pthread_mutex_lock(mutex)
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, mutex) }
                sleepers -= 1
                pthread_mutex_unlock(mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            if fpMode != mode { mode = fpMode; spice_set_fp_mode(mode) }
            if accounting {
                let t0 = Parallel.threadCPUSeconds()
                job?(index)
                partCPU[8 * index] = Parallel.threadCPUSeconds() - t0
            } else {
                job?(index)
            }
            if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                pthread_mutex_lock(mutex); pthread_cond_signal(finished); pthread_mutex_unlock(mutex)
            }
        }
    }

    func run(_ body: (Int) -> Void) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for w in 0 ..< count { body(w) }
            return
        }
        let accounting = Parallel.accounting
        let c0 = accounting ? Parallel.threadCPUSeconds() : 0
        withoutActuallyEscaping(body) { body in
            job = body
            self.accounting = accounting
            fpMode = spice_get_fp_mode()
            pending.store(count - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            pthread_mutex_lock(mutex)
            if sleepers > 0 { pthread_cond_broadcast(wake) }
            pthread_mutex_unlock(mutex)
            body(0)
            if accounting { partCPU[0] = Parallel.threadCPUSeconds() - c0 }
            var spins = 0
            while pending.load(ordering: .acquiring) != 0 && spins < spinLimit { spice_cpu_relax(); spins += 1 }
            if pending.load(ordering: .acquiring) != 0 {
                pthread_mutex_lock(mutex)
                while pending.load(ordering: .acquiring) != 0 { pthread_cond_wait(finished, mutex) }
                pthread_mutex_unlock(mutex)
            }
            job = nil
        }
        if accounting {
            var slowest = 0.0
            for w in 0..<count { slowest = max(slowest, partCPU[8 * w]) }
            Parallel.criticalPathAdjustment += slowest - (Parallel.threadCPUSeconds() - c0)
        }
        busy.store(false, ordering: .releasing)
    }
}
