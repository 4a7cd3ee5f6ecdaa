import Foundation

/// Stall watchdog: if a blocking MPI call on this rank does not return within `timeout`
/// seconds, a background thread prints which call it waits in and at which training step, and
/// ends this process with status 1 — mpirun then ends the whole job — instead of letting the job
/// hang for the rest of its reservation. Off when the timeout is 0.
public final class Watchdog: @unchecked Sendable {
    public static let shared = Watchdog()
    private let lock = NSLock()
    private var since = 0.0
    private var what = ""
    private var timeout = 0.0
    private var started = false
    /// The training step, set by the trainer (for the message).
    public var step = -1
    var label = "spice"

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Starts watching (once per process); `seconds` <= 0 disables it.
    public func start(seconds: Double, rank: Int, size: Int) {
        lock.lock(); defer { lock.unlock() }
        timeout = seconds
        label = "spice: rank \(rank)/\(size)"
        guard seconds > 0, !started else { return }
        started = true
        let t = Thread { [unowned self] in self.watch() }
        t.name = "spice-watchdog"
        t.start()
    }

    func enter(_ call: String) {
        lock.lock(); since = Watchdog.now(); what = call; lock.unlock()
    }

    func leave() {
        lock.lock(); since = 0; lock.unlock()
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: min(1, max(0.05, timeout / 10)))
            lock.lock()
            let waited = since > 0 ? Watchdog.now() - since : 0, call = what, limit = timeout
            lock.unlock()
            if limit > 0 && waited > limit {
                FileHandle.standardError.write(("\(label): stalled \(Int(waited)) s in \(call) at training step \(step) "
                    + "(watchdog limit \(Int(limit)) s, --watchdog-seconds); a peer rank is probably stuck or gone. Ending the job.\n")
                    .data(using: .utf8)!)
                _exit(1)
            }
        }
    }
}

extension Communicator {
    /// Runs a blocking MPI call under the watchdog.
    @inline(__always)
    func guarded(_ call: String, _ body: @autoclosure () -> Int32) -> Int32 {
        Watchdog.shared.enter(call)
        defer { Watchdog.shared.leave() }
        return body()
    }
}
