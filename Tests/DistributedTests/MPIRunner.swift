import Foundation
import XCTest

/// Runs `spice` under mpirun from a test, with a hard timeout so a hang fails fast.
struct MPIRun {
    let status: Int32, out: String, err: String, seconds: Double, timedOut: Bool
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

    /// `mpirun -np N [mca...] spice ARGS`; OMPI_*/PMIX_* of this process are not passed on (a
    /// process that initialised MPI would otherwise make the child mpirun exit silently).
    static func run(np: Int, _ args: [String], mca: [String] = [], env extra: [String: String] = [:],
                    timeout: Double = 120) throws -> MPIRun {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
        for (k, v) in extra { env[k] = v }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mpirun", "-np", "\(np)"] + mca + [spice] + args
        p.environment = env
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("spice-test-\(UUID().uuidString).out")
        let errURL = outURL.appendingPathExtension("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: outURL); try? FileManager.default.removeItem(at: errURL) }
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        let t0 = Date()
        try p.run()
        var timedOut = false
        while p.isRunning {
            if Date().timeIntervalSince(t0) > timeout {
                timedOut = true
                p.terminate()
                Thread.sleep(forTimeInterval: 2)
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.waitUntilExit()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return MPIRun(status: p.terminationStatus, out: out, err: err, seconds: Date().timeIntervalSince(t0), timedOut: timedOut)
    }
}
