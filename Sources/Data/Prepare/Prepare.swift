import Dispatch
import Foundation

/// One input that could not be converted: its name (file or sample id) and why.
public struct PrepareFailure: Sendable, Equatable, CustomStringConvertible {
    public var input: String
    public var reason: String
    public init(input: String, reason: String) { self.input = input; self.reason = reason }
    public var description: String { "\(input) (\(reason))" }

    /// From an error about `input`: a `DataError` naming the same file gives just its message.
    public init(input: String, error: Error) {
        self.input = input
        if let e = error as? DataError {
            reason = e.file == input && e.dataset == nil && e.sample == nil ? e.message : e.description
        } else {
            reason = "\(error)"
        }
    }
}

/// Thrown when inputs failed and bad inputs were not to be skipped; nothing was written.
public struct PrepareError: Error, CustomStringConvertible, Sendable {
    public var failures: [PrepareFailure]
    public var total: Int
    public init(failures: [PrepareFailure], total: Int) { self.failures = failures; self.total = total }
    public var description: String {
        PrepareReport.summarize(failures) + " of \(total); no output written (--skip-bad writes the others)"
    }
}

/// What one conversion produced.
public struct PrepareReport: Sendable {
    public var path: String
    public var written: Int
    public var failures: [PrepareFailure]
    public var seconds: Double
    public init(path: String, written: Int, failures: [PrepareFailure], seconds: Double) {
        self.path = path; self.written = written; self.failures = failures; self.seconds = seconds
    }

    /// "3 inputs failed: a.wav (not a RIFF file), b.png (...), ..." (at most `limit` listed);
    /// with `skipped`, "3 inputs failed and were skipped: ...".
    public static func summarize(_ failures: [PrepareFailure], limit: Int = 20, skipped: Bool = false) -> String {
        let shown = failures.prefix(limit).map(\.description).joined(separator: ", ")
        let more = failures.count > limit ? ", ... (\(failures.count - limit) more)" : ""
        let verb = failures.count == 1 ? (skipped ? "input failed and was skipped" : "input failed")
                                         : (skipped ? "inputs failed and were skipped" : "inputs failed")
        return "\(failures.count) \(verb): \(shown)\(more)"
    }
}

/// Progress lines for long conversions, every `every` samples and at the end.
/// Called on the converting thread (never concurrently).
public struct PrepareProgress {
    public var every: Int
    public var report: (String) -> Void
    public init(every: Int = 500, report: @escaping (String) -> Void) { self.every = every; self.report = report }
    public static var silent: PrepareProgress { PrepareProgress(every: 0) { _ in } }
}

/// The shared conversion loop: computes samples in parallel blocks (all cores) and appends them
/// to the writer in input order, counting failures by name. Without `skipBad` any failure aborts
/// the writer (no output file) and throws a `PrepareError` listing every failed input.
enum PrepareRunner {
    /// The computed values of one sample, or why it failed.
    enum Outcome: Sendable {
        case sample(label: Int, values: [SampleValues], id: String?, ratings: [Float]?, kind: UInt8? = nil)
        case failure(PrepareFailure)
    }

    final class Slots: @unchecked Sendable {
        var items: [Outcome?]
        init(_ n: Int) { items = [Outcome?](repeating: nil, count: n) }
    }

    static func run(count: Int, writer: HDF5Writer, what: String, skipBad: Bool, progress: PrepareProgress,
                    block: Int = 32, compute: @escaping @Sendable (Int) -> Outcome) throws -> PrepareReport {
        guard count > 0 else {
            writer.abort()
            throw DataError(file: writer.path, "no samples to convert")
        }
        let start = Date()
        var failures: [PrepareFailure] = []
        var lastReported = 0
        var i = 0
        while i < count {
            let n = min(block, count - i)
            let slots = Slots(n)
            let base = i
            slots.items.withUnsafeMutableBufferPointer { buf in
                let p = UnsafeMutableSendablePointer(buf.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: n) { k in p.pointer[k] = compute(base + k) }
            }
            for k in 0..<n {
                switch slots.items[k]! {
                case .failure(let f): failures.append(f)
                case .sample(let label, let values, let id, let ratings, let kind):
                    // Once something failed without --skip-bad nothing will be published; keep scanning for the report.
                    if skipBad || failures.isEmpty {
                        do {
                            try writer.append(label: label, values: values, id: id, kind: kind, ratings: ratings)
                        } catch {
                            failures.append(PrepareFailure(input: id ?? "sample \(base + k)", error: error))
                        }
                    }
                }
            }
            i += n
            if progress.every > 0 && (i - lastReported >= progress.every || i == count) {
                lastReported = i
                let dt = Date().timeIntervalSince(start)
                let rate = Double(i) / max(dt, 1e-9)
                let eta = Double(count - i) / max(rate, 1e-9)
                let failed = failures.isEmpty ? "" : ", \(failures.count) failed"
                progress.report(String(format: "%@: %d/%d (%.0f samples/s, %.0f s left%@)", what, i, count, rate, eta, failed))
            }
        }
        if !failures.isEmpty && !skipBad {
            writer.abort()
            throw PrepareError(failures: failures, total: count)
        }
        if writer.count == 0 {
            writer.abort()
            throw PrepareError(failures: failures, total: count)
        }
        try writer.finish()
        return PrepareReport(path: writer.path, written: writer.count, failures: failures, seconds: Date().timeIntervalSince(start))
    }
}

/// The bytes of an input file; a `DataError` naming it says "no such file", "is a directory" or why
/// it could not be read.
func readInputFile(_ path: String, mapped: Bool = false) throws -> Data {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw DataError(file: path, "no such file") }
    guard !isDir.boolValue else { throw DataError(file: path, "is a directory, not a file") }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path), options: mapped ? .alwaysMapped : [])
    } catch {
        let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? (error as NSError).localizedDescription
        throw DataError(file: path, "cannot read: \(reason)")
    }
}

/// A pointer handed to `concurrentPerform` workers, each writing its own index.
struct UnsafeMutableSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}
