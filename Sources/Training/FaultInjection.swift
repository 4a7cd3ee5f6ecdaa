import Foundation

/// Test-only faults, switched on by the environment variable SPICE_FAULT="rank:step:kind" so the
/// tests can prove that failures end the job cleanly. `step` counts training steps from 0 over
/// the whole run. Kinds:
///   throw    - the rank throws an error at that step (a bug or bad data on one rank)
///   perturb  - the rank changes one parameter after that step (replicas silently diverge)
///   exit     - the rank exits immediately with status 3, without telling MPI (a crashed rank)
///   nan      - the rank's input batch gets a NaN at that step (a bad sample or a numerical blow-up)
///   stall    - the rank stops responding (sleeps) without exiting (a hung node or file system)
public struct FaultInjection: Sendable {
    public enum Kind: String, Sendable { case `throw`, perturb, exit, nan, stall }
    public let rank: Int, step: Int, kind: Kind

    public static let current: FaultInjection? = {
        guard let spec = ProcessInfo.processInfo.environment["SPICE_FAULT"] else { return nil }
        let parts = spec.split(separator: ":").map(String.init)
        guard parts.count == 3, let r = Int(parts[0]), let s = Int(parts[1]), let k = Kind(rawValue: parts[2]) else {
            FileHandle.standardError.write("spice: ignoring malformed SPICE_FAULT='\(spec)' (want rank:step:kind)\n".data(using: .utf8)!)
            return nil
        }
        return FaultInjection(rank: r, step: s, kind: k)
    }()

    public func fires(rank: Int, step: Int, _ kind: Kind) -> Bool {
        self.rank == rank && self.step == step && self.kind == kind
    }
}

public struct InjectedFault: Error, CustomStringConvertible {
    public let description: String
}

/// Test-only observation: with SPICE_STEP_LOG=DIR every rank appends "epoch steps" lines to
/// DIR/rank-<r>.txt, counted in the training loop itself, so a test can check independently of
/// the trainer's own verification that all ranks ran the same steps.
public enum TestHooks {
    static let stepLogDirectory = ProcessInfo.processInfo.environment["SPICE_STEP_LOG"]

    static func recordSteps(rank: Int, epoch: Int, steps: Int) {
        guard let dir = stepLogDirectory else { return }
        let path = "\(dir)/rank-\(rank).txt"
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        h.seekToEndOfFile()
        h.write(Data("\(epoch) \(steps)\n".utf8))
        h.closeFile()
    }
}
