import XCTest
import Foundation

/// Runs the built `spice` executable as a user would and checks exit codes and output.
final class CLITests: XCTestCase {
    /// The test bundle and the executable are built side by side.
    var spice: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("spice")
    }

    func run(_ args: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = spice
        p.arguments = args
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testVersionNamesTheBLASCoreAndAvoidsWeakKernels() throws {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = nil
        env["SPICE_BLAS_REEXEC"] = nil
        let r = try run(["--version"], environment: env)
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.out.contains("OpenBLAS"), r.out)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains("avx2") {
            // On an AVX2/AVX-512 CPU the program must never run the SSE3 kernels.
            XCTAssertFalse(r.out.contains("Prescott"), r.out)
        }
    }

    func testUsageErrorsExitWithTwoAndNameTheProblem() throws {
        let cases: [([String], String)] = [(["frobnicate"], "unknown command"), (["train", "--bacth", "4"], "--bacth"),
                                           (["train", "--batch", "0"], "--batch"), (["train", "--samples", "8", "--batch", "16"], "larger than"),
                                           (["bench", "--config", "z"], "unknown bench config"), (["train", "--lr"], "needs a value")]
        for (args, message) in cases {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, "\(args)")
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
        }
    }

    func testShortTrainingRunLearns() throws {
        let r = try run(["train", "--samples", "256", "--epochs", "3", "--width", "4", "--size", "16", "--batch", "32", "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n").filter { $0.hasPrefix("epoch") }
        XCTAssertEqual(lines.count, 3, r.out)
        func loss(_ l: Substring) -> Double { Double(l.split(separator: " ").drop { $0 != "loss" }.dropFirst().first ?? "") ?? .nan }
        XCTAssertLessThan(loss(lines[2]), loss(lines[0]), r.out)
    }
}

extension CLITests {
    /// The user's own OPENBLAS_CORETYPE always wins (no re-exec over it).
    func testUserChosenCoreIsRespected() throws {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = "Haswell"
        let r = try run(["--version"], environment: env)
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.out.contains("Haswell"), r.out)
    }
}
