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
                                           (["bench", "--config", "z"], "unknown bench config"), (["train", "--lr"], "needs a value"),
                                           (["bench", "--ranks", "1,2", "--overlap", "maybe"], "--overlap expects on and/or off"),
                                           (["bench", "--ranks", "1,2", "--grad-precision", "fp8"], "--grad-precision expects"),
                                           (["bench", "--ranks", "1,2", "--hostfile", "/nonexistent/hosts"], "--hostfile: cannot read"),
                                           (["bench", "--hostfile", "/nonexistent/hosts"], "applies to the scaling benchmark"),
                                           (["bench", "--ranks", "2", "--ranks-per-node", "2"], "--ranks-per-node needs --hostfile"),
                                           (["bench", "--compute-baseline"], "applies to the scaling benchmark")]
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

extension CLITests {
    func writeConfig(_ json: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("spice-config-\(UUID().uuidString).json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testConfigFileErrorsNameTheKey() throws {
        let cases: [(String, String)] = [
            (#"{"data": {"epoch": 3}}"#, "'data.epoch' is not a known key (did you mean 'epochs'?)"),
            (#"{"freeze-bn": 1}"#, "'freeze-bn' must be true or false"),
            (#"{"lr": {"x": 1}, "epochs": [1, {}]}"#, "'epochs' must be a string, a number or a list"),
            (#"[1, 2]"#, "top level must be a JSON object"),
            (#"{"epochs": "#, "not valid JSON"),
            (#"{"batch": -3}"#, "--batch expects an integer >= 1"),
        ]
        for (json, message) in cases {
            let path = try writeConfig(json)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let r = try run(["train", "--config", path])
            XCTAssertEqual(r.status, 2, json)
            XCTAssertTrue(r.err.contains(message), "\(json): \(r.err)")
        }
        let missing = try run(["train", "--config", "/nonexistent/x.json"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("cannot read"), missing.err)
    }

    /// Sections merge, later files and --set override earlier ones, explicit options override all.
    func testConfigLayersAndOverrides() throws {
        let a = try writeConfig(#"{"model": {"width": 2, "size": 16}, "schedule": {"epochs": 5, "samples": 64, "batch": 16}}"#)
        let b = try writeConfig(#"{"cluster": {"threads": 1}, "epochs": 3}"#)
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let r = try run(["train", "--config", a, "--config", b, "--set", "epochs=2", "--batch", "8"])
        XCTAssertEqual(r.status, 0, r.err)
        let epochs = r.out.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
        XCTAssertEqual(epochs.count, 2, r.out)
        XCTAssertTrue(epochs[0].contains("steps 8"), r.out)   // 64 samples / batch 8
        XCTAssertTrue(r.out.contains("width 2"), r.out)
    }
}

extension CLITests {
    /// Annotator and hybrid curricula use the data's ratings (synth writes simulated ones); data
    /// without ratings is refused with a message naming what is missing.
    func testAnnotatorCurriculaUseTheDataRatings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spice-ann-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try run(["synth", "--out", dir.path, "--samples", "96", "--test-samples", "32"]).status, 0)
        let common = ["train", "--train", dir.appendingPathComponent("train.h5").path, "--test", dir.appendingPathComponent("test.h5").path,
                      "--width", "2", "--epochs", "4", "--warmup", "1", "--refresh", "1", "--batch", "8", "--threads", "1"]
        for scores in ["annotator", "hybrid-linear"] {
            let r = try run(common + ["--curriculum", "spice-s", "--scores", scores])
            XCTAssertEqual(r.status, 0, "\(scores): \(r.err)")
            let steps = r.out.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.compactMap { line -> Int? in
                let f = line.split(separator: " "); return f.firstIndex(of: "steps").map { Int(f[$0 + 1])! }
            }
            XCTAssertEqual(steps.count, 4, r.out)
            // Warm-up trains on everything; SPICE-S stage R on the R bin only.
            XCTAssertEqual(steps[0], 12, r.out)
            XCTAssertLessThan(steps[1], steps[0], r.out)
        }
        let bad = try run(["train", "--width", "2", "--size", "16", "--samples", "32", "--epochs", "1", "--curriculum", "spice-e", "--scores", "annotator"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("needs annotator ratings"), bad.err)
        let wrongMethod = try run(common + ["--curriculum", "bss", "--scores", "annotator"])
        XCTAssertEqual(wrongMethod.status, 2)
    }
}

extension CLITests {
    /// Every shipped config uses only known keys with the right types.
    func testShippedClusterConfigsAreValid() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("cluster-configs")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(files.count, 4)
        for f in files {
            let r = try run(["train", "--config", dir.appendingPathComponent(f).path, "--help"])
            XCTAssertEqual(r.status, 0, "\(f): \(r.err)")
        }
    }
}

extension CLITests {
    /// A run's checkpoint evaluates to the metrics training printed, and exports to a safetensors
    /// file that carries its architecture and loads strictly.
    func testEvalAndExportOfARunCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spice-ev-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try run(["synth", "--out", dir.path, "--samples", "64", "--test-samples", "32"]).status, 0)
        let train = dir.appendingPathComponent("train.h5").path, test = dir.appendingPathComponent("test.h5").path
        let runDir = dir.appendingPathComponent("run").path
        let t = try run(["train", "--train", train, "--test", test, "--width", "2", "--epochs", "1", "--batch", "8", "--threads", "1",
                         "--run-dir", runDir])
        XCTAssertEqual(t.status, 0, t.err)
        let e = try run(["eval", "--run-dir", runDir, "--test", test, "--threads", "1"])
        XCTAssertEqual(e.status, 0, e.err)
        // Training prints 3 decimals, eval 4: compare at training's precision.
        let trainLine = t.out.split(separator: "\n").first { $0.hasPrefix("epoch 1") }.map(String.init) ?? ""
        let testAcc = Double(trainLine.components(separatedBy: "test acc ").last?.split(separator: " ").first ?? "") ?? -1
        let evalAcc = Double(e.out.components(separatedBy: ": acc ").last?.split(separator: " ").first ?? "") ?? -2
        XCTAssertEqual(testAcc, evalAcc, accuracy: 0.0006, "train: \(trainLine)\neval: \(e.out)")
        let out = dir.appendingPathComponent("model.safetensors").path
        let x = try run(["export", "--run-dir", runDir, "--out", out])
        XCTAssertEqual(x.status, 0, x.err)
        XCTAssertTrue(x.out.contains("fusion concat"), x.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
        let wrong = try run(["eval", "--run-dir", runDir, "--test", "/nonexistent.h5"])
        XCTAssertEqual(wrong.status, 2)
        let none = try run(["export", "--run-dir", dir.path, "--out", out])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.err.contains("no checkpoint"), none.err)
    }
}

extension CLITests {
    /// A run directory records the resolved options and one metrics line per epoch, and is never
    /// overwritten by a new run.
    func testRunDirectoryLogsAndIsNotOverwritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spice-rd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["train", "--width", "2", "--size", "16", "--samples", "32", "--batch", "8", "--epochs", "2", "--threads", "1",
                    "--run-dir", dir.path]
        XCTAssertEqual(try run(args).status, 0)
        let lines = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        XCTAssertEqual(first?["epoch"] as? Int, 1)
        for key in ["acc", "map", "macro_f1", "modality_acc", "loss", "lr", "phase", "gradient_updates", "samples_per_s", "exposed_comm_s", "data_wait_s"] {
            XCTAssertNotNil(first?[key], key)
        }
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as? [String: Any]
        XCTAssertEqual((config?["arguments"] as? [String])?.contains("--run-dir"), true)
        let again = try run(args)
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.err.contains("already holds a run"), again.err)
    }
}

extension CLITests {
    /// The report is one self-contained HTML file with a line per run in every chart and the final table.
    func testReportComparesRuns() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("spice-rep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        for name in ["a", "b"] {
            let r = try run(["train", "--width", "2", "--size", "16", "--samples", "32", "--batch", "8", "--epochs", "3", "--threads", "1",
                             "--curriculum", name == "a" ? "spice-e" : "conventional", "--warmup", "1", "--refresh", "1",
                             "--run-dir", base.appendingPathComponent(name).path])
            XCTAssertEqual(r.status, 0, r.err)
        }
        let out = base.appendingPathComponent("report.html").path
        let r = try run(["report", base.appendingPathComponent("a").path, base.appendingPathComponent("b").path, "--out", out])
        XCTAssertEqual(r.status, 0, r.err)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 5)   // 4 charts + the SPICE-E run's bins
        XCTAssertEqual(html.components(separatedBy: "<polyline").count - 1, 11)   // 4 charts x 2 runs + 3 bins
        XCTAssertTrue(html.contains("stage U"))
        XCTAssertTrue(html.contains("refresh before epoch 2"))
        XCTAssertFalse(html.contains("<script"))
        let missing = try run(["report", base.appendingPathComponent("nope").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.err.contains("metrics.jsonl: missing"), missing.err)
    }
}

extension CLITests {
    /// An unusable run directory is reported before any training.
    func testUnusableRunDirectoryFailsBeforeTraining() throws {
        let r = try run(["train", "--width", "2", "--size", "16", "--samples", "32", "--epochs", "1", "--run-dir", "/proc/spice-cannot-exist"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.err.contains("cannot create the run directory /proc/spice-cannot-exist"), r.err)
        XCTAssertFalse(r.out.contains("epoch 1"), r.out)
    }
}
