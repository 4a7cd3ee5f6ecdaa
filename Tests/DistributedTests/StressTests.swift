import XCTest
import Foundation

/// The slow reliability suite (`launch/stress`; skipped unless SPICE_STRESS=1): randomized
/// configurations that must all end with equal step counts on every rank or a clear
/// configuration error, and kill -9 of a rank mid-epoch followed by an exact resume.
/// Settings: SPICE_STRESS_SEED (default 1), SPICE_STRESS_CASES (default 60),
/// SPICE_STRESS_KILLS (default 4), SPICE_STRESS_MINUTES (time bound for starting new cases, default 20).
final class StressTests: XCTestCase {
    static let env = ProcessInfo.processInfo.environment
    static func setting(_ name: String, _ fallback: Int) -> Int { env[name].flatMap(Int.init) ?? fallback }
    let seed = UInt64(StressTests.setting("SPICE_STRESS_SEED", 1))
    let caseLimit = StressTests.setting("SPICE_STRESS_CASES", 60)
    let killLimit = StressTests.setting("SPICE_STRESS_KILLS", 4)
    let minutes = Double(StressTests.setting("SPICE_STRESS_MINUTES", 20))
    /// Per-case hard timeout: a case that runs this long counts as a hang.
    let caseTimeout = 120.0
    var directory = ""

    override func setUpWithError() throws {
        try XCTSkipUnless(StressTests.env["SPICE_STRESS"] == "1", "the slow stress suite runs with SPICE_STRESS=1 (launch/stress)")
        try XCTSkipUnless(MPIRunner.available, "mpirun not found (run launch/setup)")
        directory = NSTemporaryDirectory() + "spice-stress-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    /// SplitMix64: the case stream depends only on the seed.
    struct Stream {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
    }

    struct Case: CustomStringConvertible {
        var np = 1, n = 1, batch = 1, epochs = 1, warmup = 0, refresh = 1, classes = 2
        var mode = "conventional", remainder = "drop", harvest = false, skipNonFinite = false
        var description: String {
            "np=\(np) N=\(n) batch=\(batch) mode=\(mode) epochs=\(epochs) warmup=\(warmup) refresh=\(refresh) "
                + "remainder=\(remainder) classes=\(classes)" + (harvest ? " harvest" : "") + (skipNonFinite ? " skip" : "")
        }
        var curriculumArgs: [String] {
            switch mode {
            case "annotator": return ["--curriculum", "spice-e", "--scores", "annotator", "--warmup", "\(warmup)"]
            case "spice-e", "spice-s":
                return ["--curriculum", mode, "--warmup", "\(warmup)", "--refresh", "\(refresh)"] + (harvest ? ["--harvest-scores"] : [])
            default: return ["--curriculum", mode]
            }
        }
        /// Steps every rank must run per epoch when the whole set is used once per epoch.
        var fullEpochSteps: Int {
            let g = np * batch
            return remainder == "drop" ? n / g : (n + g - 1) / g
        }
    }

    static let modes = ["conventional", "spice-e", "spice-s", "annotator", "bss", "ogm-ge"]

    func draw(_ s: inout Stream) -> Case {
        var c = Case()
        c.np = s.int(1...3); c.n = s.int(1...300); c.batch = s.int(1...8)
        c.mode = StressTests.modes[s.int(0...StressTests.modes.count - 1)]
        c.epochs = s.int(1...4); c.warmup = s.int(0...c.epochs); c.refresh = s.int(1...3)
        c.classes = s.int(2...5)
        c.remainder = s.chance(0.25) ? "wrap" : "drop"
        c.harvest = s.chance(0.3)
        c.skipNonFinite = s.chance(0.5)
        return c
    }

    /// "epoch steps" lines of every rank's step log.
    func stepLogs(_ dir: String, ranks: Int) -> [[String]] {
        (0..<ranks).map { r in
            ((try? String(contentsOfFile: "\(dir)/rank-\(r).txt", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
    }

    func testRandomizedConfigurationsNeverHang() throws {
        var stream = Stream(state: seed)
        let t0 = Date()
        var tried = 0, completed = 0, refused = 0, stopped = 0, hangs = 0, failures = 0, steps = 0
        var byMode: [String: Int] = [:]
        for index in 0..<caseLimit {
            if Date().timeIntervalSince(t0) > minutes * 60 { print("stress: time bound reached after \(tried) cases"); break }
            let c = draw(&stream)
            tried += 1
            byMode[c.mode, default: 0] += 1
            let dir = "\(directory)/case-\(index)"
            try FileManager.default.createDirectory(atPath: dir + "/steps", withIntermediateDirectories: true)
            let synth = try MPIRunner.spiceCommand(["synth", "--train", dir + "/train.h5", "--test", dir + "/test.h5",
                                                    "--samples", "\(c.n)", "--test-samples", "12", "--classes", "\(c.classes)",
                                                    "--audio-size", "16", "--visual-size", "16", "--seed", "\(index)"])
            XCTAssertEqual(synth.status, 0, "case \(index) synth: \(synth.err)")
            let args = ["train", "--train", dir + "/train.h5", "--test", dir + "/test.h5", "--width", "1", "--threads", "1",
                        "--epochs", "\(c.epochs)", "--batch", "\(c.batch)", "--remainder", c.remainder, "--eval-batch", "8",
                        "--seed", "\(index)", "--lr", "0.01", "--non-finite", c.skipNonFinite ? "skip" : "stop"] + c.curriculumArgs
            let r = try MPIRunner.run(np: c.np, args, env: ["SPICE_STEP_LOG": dir + "/steps"], timeout: caseTimeout)
            let verdict: String
            defer { print(String(format: "stress case %3d  %-100@ %@ (%.1f s)", index, c.description, verdict, r.seconds)) }
            if r.timedOut {
                hangs += 1
                verdict = "HANG"
                XCTFail("case \(index) (\(c)) hung: \(r.err)")
                continue
            }
            if c.remainder == "drop" && c.n < c.np * c.batch {
                // No full global batch: a configuration error on every rank, before any step.
                refused += 1
                verdict = "refused (exit \(r.status))"
                XCTAssertEqual(r.status, 2, "case \(index) (\(c)): \(r.err)")
                XCTAssertTrue(r.err.contains("is larger than the"), "case \(index) (\(c)): \(r.err)")
                XCTAssertTrue(stepLogs(dir + "/steps", ranks: c.np).allSatisfy(\.isEmpty), "case \(index) ran steps")
                continue
            }
            if r.status == 1 && r.err.contains("is not finite; stopping before the update") {
                // A tiny model at batch 2-3 can diverge (BatchNorm over 1x1 maps): the default
                // policy ends the job on every rank, which is a clean end too.
                stopped += 1
                verdict = "stopped by the non-finite policy"
                continue
            }
            guard r.status == 0 else {
                failures += 1
                verdict = "FAILED (exit \(r.status))"
                XCTFail("case \(index) (\(c)) failed: \(r.err)")
                continue
            }
            completed += 1
            let logs = stepLogs(dir + "/steps", ranks: c.np)
            verdict = "ok, steps per epoch \(logs[0].map { $0.split(separator: " ")[1] }.joined(separator: ","))"
            XCTAssertEqual(logs[0].count, c.epochs, "case \(index) (\(c)): epochs logged \(logs[0])")
            for (rank, log) in logs.enumerated() {
                XCTAssertEqual(log, logs[0], "case \(index) (\(c)): rank \(rank) ran other steps than rank 0")
            }
            for line in logs[0] {
                let s = Int(line.split(separator: " ")[1]) ?? -1
                steps += s
                if c.mode == "spice-s" {
                    // SPICE-S trains on growing bins: at least one global batch, at most the whole set.
                    XCTAssertTrue((1...c.fullEpochSteps).contains(s), "case \(index) (\(c)): \(s) steps")
                } else {
                    XCTAssertEqual(s, c.fullEpochSteps, "case \(index) (\(c)): epoch \(line)")
                }
            }
        }
        print("stress summary: seed \(seed), \(tried) cases (\(completed) completed, \(refused) refused as configuration errors, \(stopped) stopped on non-finite values, "
              + "\(failures) failed), \(hangs) hangs, \(steps) steps checked, modes \(byMode.sorted { $0.key < $1.key }), "
              + String(format: "%.0f s", Date().timeIntervalSince(t0)))
        XCTAssertEqual(hangs, 0)
        XCTAssertGreaterThan(tried, 0)
    }

    /// PIDs of the ranks: mpirun's children running spice.
    func rankPIDs(of job: MPIJob) -> [pid_t] {
        let children = (try? String(contentsOfFile: "/proc/\(job.process.processIdentifier)/task/\(job.process.processIdentifier)/children",
                                    encoding: .utf8)) ?? ""
        return children.split(separator: " ").compactMap { pid_t($0) }.filter {
            ((try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "").contains("spice")
        }
    }

    func latest(_ dir: String) -> String {
        ((try? String(contentsOfFile: dir + "/checkpoints/latest", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// kill -9 of one rank mid-epoch (after the first checkpoint): the job ends non-zero within
    /// 30 s, `latest` names a complete checkpoint, and --resume ends bit-identical to an
    /// uninterrupted run.
    func testKilledRankEndsTheJobAndResumeIsExact() throws {
        var stream = Stream(state: seed ^ 0x5151)
        var kills = 0, lost = 0, hangs = 0
        let t0 = Date()
        for index in 0..<killLimit {
            let np = stream.int(2...3), victim = stream.int(0...np - 1)
            let curriculum = ["conventional", "spice-e", "spice-s"][stream.int(0...2)]
            let args = ["train", "--epochs", "4", "--width", "2", "--size", "16", "--samples", "256", "--batch", "4", "--threads", "1",
                        "--curriculum", curriculum, "--seed", "\(index)"]
            let clean = try MPIRunner.run(np: np, args + ["--run-dir", "\(directory)/clean-\(index)"], timeout: caseTimeout)
            XCTAssertEqual(clean.status, 0, clean.err)
            let dir = "\(directory)/killed-\(index)"
            let job = try MPIRunner.start(np: np, args + ["--run-dir", dir])
            // Wait for the first checkpoint, then kill a rank a little into the next epoch.
            while latest(dir).isEmpty && job.process.isRunning && Date().timeIntervalSince(job.started) < caseTimeout {
                Thread.sleep(forTimeInterval: 0.02)
            }
            Thread.sleep(forTimeInterval: 0.3)
            let pids = rankPIDs(of: job)
            guard pids.count == np, job.process.isRunning else {
                XCTFail("case \(index): job not running with \(np) ranks when the kill was due (pids \(pids))")
                _ = job.wait(timeout: 1)
                continue
            }
            let killedAt = Date()
            kill(pids[victim], SIGKILL)
            kills += 1
            let r = job.wait(timeout: caseTimeout)
            let ended = Date().timeIntervalSince(killedAt)
            if r.timedOut { hangs += 1 }
            XCTAssertFalse(r.timedOut, "case \(index): the job hung after kill -9")
            XCTAssertNotEqual(r.status, 0, "case \(index)")
            XCTAssertLessThan(ended, 30, "case \(index): the job took \(ended) s to end after kill -9")
            let checkpoint = latest(dir)
            let resumed = try MPIRunner.run(np: np, args + ["--run-dir", dir, "--resume"], timeout: caseTimeout)
            if resumed.status != 0 { lost += 1 }
            XCTAssertEqual(resumed.status, 0, "case \(index): resume from \(checkpoint): \(resumed.err)")
            let sum = { (r: MPIRun) in r.out.split(separator: "\n").first { $0.hasPrefix("final parameter checksum") } }
            XCTAssertNotNil(sum(clean))
            XCTAssertEqual(sum(resumed), sum(clean), "case \(index): resumed run differs from the uninterrupted one")
            print(String(format: "stress kill %d  np=%d kill -9 rank %d (%@) after %@: job ended in %.1f s, exit %d; resumed from %@: %@",
                         index, np, victim, curriculum, checkpoint, ended, r.status, checkpoint,
                         sum(resumed) == sum(clean) ? "identical final parameters" : "DIFFERENT"))
        }
        print("stress kill summary: seed \(seed), \(kills) ranks killed, \(hangs) hangs, \(lost) lost checkpoints, "
              + String(format: "%.0f s", Date().timeIntervalSince(t0)))
        XCTAssertEqual(hangs, 0)
        XCTAssertEqual(lost, 0)
    }
}
