import Foundation
import XCTest

/// Runs `spice` under mpirun from a test, with a hard timeout so a hang fails fast.
struct MPIRun {
    let status: Int32, out: String, err: String, seconds: Double, timedOut: Bool
}

/// A job started in the background (for tests that act on it while it runs, e.g. kill a rank).
final class MPIJob {
    let process = Process()
    let outURL: URL, errURL: URL
    let started = Date()

    init(arguments: [String], environment: [String: String]) throws {
        outURL = FileManager.default.temporaryDirectory.appendingPathComponent("spice-test-\(UUID().uuidString).out")
        errURL = outURL.appendingPathExtension("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    /// Waits for the end, killing the job (mpirun and so its ranks) after `timeout` seconds.
    func wait(timeout: Double) -> MPIRun {
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(started) > timeout {
                timedOut = true
                process.terminate()
                Thread.sleep(forTimeInterval: 2)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
        return MPIRun(status: process.terminationStatus, out: out, err: err, seconds: Date().timeIntervalSince(started), timedOut: timedOut)
    }
}

enum MPIRunner {
    static var spice: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("spice").path
    }

    static var available: Bool {
        ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/mpirun")
        } ?? false
    }

    /// `mpirun -np N [mca...] spice ARGS` in the background; OMPI_*/PMIX_* of this process are not
    /// passed on (a process that initialised MPI would otherwise make the child mpirun exit silently).
    static func start(np: Int, _ args: [String], mca: [String] = [], env extra: [String: String] = [:]) throws -> MPIJob {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        for (k, v) in extra { env[k] = v }
        return try MPIJob(arguments: ["mpirun", "-np", "\(np)"] + mca + [spice] + args, environment: env)
    }

    /// `start`, then wait for the end with a hard timeout.
    static func run(np: Int, _ args: [String], mca: [String] = [], env extra: [String: String] = [:],
                    timeout: Double = 120) throws -> MPIRun {
        try start(np: np, args, mca: mca, env: extra).wait(timeout: timeout)
    }

    /// A plain (non-MPI) `spice` invocation, e.g. `synth`.
    static func spiceCommand(_ args: [String]) throws -> MPIRun {
        let env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        return try MPIJob(arguments: [spice] + args, environment: env).wait(timeout: 120)
    }
}
