import XCTest
import Foundation

/// Checkpoints under mpirun: exact resume after a crashed rank, crash-safe writes, clear errors.
final class CheckpointResumeTests: XCTestCase {
    let args = ["train", "--epochs", "4", "--width", "2", "--size", "16", "--samples", "128", "--batch", "8", "--threads", "1"]
    var dirs: [URL] = []

    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRunner.available, "mpirun not found (run launch/setup)")
    }

    override func tearDown() { for d in dirs { try? FileManager.default.removeItem(at: d) } }

    func runDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("spice-run-\(UUID().uuidString)")
        dirs.append(d)
        return d
    }

    func checksum(_ r: MPIRun) -> String? {
        r.out.split(separator: "\n").first { $0.hasPrefix("final parameter checksum") }.map(String.init)
    }

    func latest(_ d: URL) -> String {
        ((try? String(contentsOf: d.appendingPathComponent("checkpoints/latest"), encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A rank dies mid-epoch 3 (global step 20 of 8 per epoch); resuming from the last checkpoint
    /// ends with bit-identical parameters to an uninterrupted run.
    func testResumeAfterACrashedRankIsBitIdentical() throws {
        let clean = try MPIRunner.run(np: 2, args + ["--run-dir", runDir().path])
        XCTAssertEqual(clean.status, 0, clean.err)
        let d = runDir()
        let crashed = try MPIRunner.run(np: 2, args + ["--run-dir", d.path], env: ["SPICE_FAULT": "1:20:exit"])
        XCTAssertNotEqual(crashed.status, 0)
        XCTAssertFalse(crashed.timedOut)
        XCTAssertEqual(latest(d), "epoch-000002")
        let resumed = try MPIRunner.run(np: 2, args + ["--run-dir", d.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.out.contains("epoch 3 "), resumed.out)
        XCTAssertFalse(resumed.out.contains("epoch 1 "), resumed.out)
        XCTAssertNotNil(checksum(clean))
        XCTAssertEqual(checksum(resumed), checksum(clean))
    }

    /// A crash between writing a checkpoint and renaming it, or before updating `latest`, leaves
    /// `latest` on a complete checkpoint that resumes.
    func testCrashesInsideCheckpointWritingLoseNothing() throws {
        for point in ["before-rename", "before-latest"] {
            let d = runDir()
            // The crash fires at the first checkpoint write (after epoch 1), so there is no earlier one:
            // take one good checkpoint first by running 1 epoch, then crash while writing epoch 2's.
            let first = try MPIRunner.run(np: 2, args.map { $0 == "4" ? "4" : $0 } + ["--run-dir", d.path, "--checkpoint-every", "1"],
                                          env: ["SPICE_FAULT": "0:8:exit"])
            XCTAssertNotEqual(first.status, 0)
            XCTAssertEqual(latest(d), "epoch-000001")
            let crash = try MPIRunner.run(np: 2, args + ["--run-dir", d.path, "--resume"], env: ["SPICE_CHECKPOINT_CRASH": point])
            XCTAssertNotEqual(crash.status, 0, point)
            XCTAssertFalse(crash.timedOut, point)
            let l = latest(d)
            XCTAssertTrue(l == "epoch-000001" || l == "epoch-000002", "\(point): latest = \(l)")
            let resumed = try MPIRunner.run(np: 2, args + ["--run-dir", d.path, "--resume"])
            XCTAssertEqual(resumed.status, 0, "\(point): \(resumed.err)")
        }
    }

    func testCorruptedCheckpointAndWrongWorldSizeAreRefusedClearly() throws {
        let d = runDir()
        XCTAssertEqual(try MPIRunner.run(np: 2, args + ["--run-dir", d.path, "--epochs", "1"]).status, 0)
        let wrongNP = try MPIRunner.run(np: 1, args + ["--run-dir", d.path, "--epochs", "1", "--resume"])
        XCTAssertNotEqual(wrongNP.status, 0)
        XCTAssertTrue(wrongNP.err.contains("written by 2 ranks"), wrongNP.err)
        let otherConfig = try MPIRunner.run(np: 2, args + ["--run-dir", d.path, "--epochs", "1", "--width", "4", "--resume"])
        XCTAssertNotEqual(otherConfig.status, 0)
        XCTAssertTrue(otherConfig.err.contains("different configuration"), otherConfig.err)
        let model = d.appendingPathComponent("checkpoints/epoch-000001/model.safetensors")
        var bytes = try Data(contentsOf: model)
        bytes[bytes.count - 5] ^= 0xFF
        try bytes.write(to: model)
        let corrupt = try MPIRunner.run(np: 2, args + ["--run-dir", d.path, "--epochs", "1", "--resume"])
        XCTAssertNotEqual(corrupt.status, 0)
        XCTAssertFalse(corrupt.timedOut)
        XCTAssertTrue(corrupt.err.contains("corrupted or truncated"), corrupt.err)
    }
}

extension CheckpointResumeTests {
    /// SPICE-E across a refresh boundary: the crash lands between two refreshes, so the resumed
    /// run must plan from the checkpointed scores; the result is bit-identical to an uninterrupted run.
    func testCurriculumResumeBetweenRefreshesIsBitIdentical() throws {
        let data = runDir()
        XCTAssertEqual(try MPIRunner.run(np: 1, ["synth", "--out", data.path, "--samples", "96", "--test-samples", "32"]).status, 0)
        let curriculumArgs = ["train", "--train", data.appendingPathComponent("train.h5").path, "--test", data.appendingPathComponent("test.h5").path,
                              "--width", "2", "--batch", "8", "--threads", "1", "--curriculum", "spice-e", "--epochs", "6",
                              "--warmup", "1", "--refresh", "2"]
        let clean = try MPIRunner.run(np: 2, curriculumArgs + ["--run-dir", runDir().path])
        XCTAssertEqual(clean.status, 0, clean.err)
        let d = runDir()
        // 6 steps per epoch; refreshes before epochs 2, 4, 6 (1-based). Step 27 is in epoch 5.
        let crashed = try MPIRunner.run(np: 2, curriculumArgs + ["--run-dir", d.path], env: ["SPICE_FAULT": "1:27:exit"])
        XCTAssertNotEqual(crashed.status, 0)
        XCTAssertEqual(latest(d), "epoch-000004")
        XCTAssertTrue(FileManager.default.fileExists(atPath: d.appendingPathComponent("checkpoints/epoch-000004/curriculum.safetensors").path))
        let resumed = try MPIRunner.run(np: 2, curriculumArgs + ["--run-dir", d.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertNotNil(checksum(clean))
        XCTAssertEqual(checksum(resumed), checksum(clean))
    }
}
