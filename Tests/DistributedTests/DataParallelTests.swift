import XCTest
import Foundation

/// Data-parallel training under real mpirun: replicas stay identical, the allreduce computes the
/// mean gradient, step counts never diverge, and failures end the job instead of hanging it.
final class DataParallelTests: XCTestCase {
    /// A model small enough that a run takes about a second.
    let tiny = ["train", "--width", "2", "--size", "16", "--classes", "4", "--epochs", "2", "--threads", "1"]

    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRunner.available, "mpirun not found (run launch/setup)")
    }

    func assertClean(_ r: MPIRun, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.timedOut, "\(what): timed out (hang)", file: file, line: line)
        XCTAssertEqual(r.status, 0, "\(what): \(r.err)", file: file, line: line)
    }

    func testReplicasStayIdenticalForOneTwoAndThreeRanks() throws {
        for np in 1...3 {
            let r = try MPIRunner.run(np: np, tiny + ["--samples", "96", "--batch", "4"])
            assertClean(r, "np=\(np)")
            // The trainer itself verifies identical parameters (allreduce min/max of a checksum)
            // at every epoch end and fails the job otherwise; this line is printed after that.
            XCTAssertTrue(r.out.contains("identical on all \(np) rank(s)"), r.out)
        }
    }

    func testParameterCheckCatchesADivergedReplica() throws {
        let r = try MPIRunner.run(np: 2, tiny + ["--samples", "64", "--batch", "4"], env: ["SPICE_FAULT": "1:2:perturb"])
        XCTAssertFalse(r.timedOut)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("parameters differ between ranks"), r.err)
    }

    /// np=2 with per-rank batch b equals np=1 with batch 2b (BatchNorm frozen, so batch statistics
    /// do not depend on how the batch is split): the allreduce computes the mean gradient.
    func testTwoRanksEqualOneRankWithTheGlobalBatch() throws {
        let dir = FileManager.default.temporaryDirectory
        let one = dir.appendingPathComponent("spice-np1-\(UUID().uuidString).bin"), two = dir.appendingPathComponent("spice-np2-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: one); try? FileManager.default.removeItem(at: two) }
        let common = tiny + ["--samples", "64", "--freeze-bn", "--lr", "0.02"]
        assertClean(try MPIRunner.run(np: 1, common + ["--batch", "8", "--dump-parameters", one.path]), "np=1")
        assertClean(try MPIRunner.run(np: 2, common + ["--batch", "4", "--dump-parameters", two.path]), "np=2")
        let a = try Data(contentsOf: one).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let b = try Data(contentsOf: two).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(a.count, b.count)
        XCTAssertGreaterThan(a.count, 1000)
        var num: Float = 0, den: Float = 0
        for i in 0..<min(a.count, b.count) { num = max(num, abs(a[i] - b[i])); den = max(den, abs(a[i])) }
        XCTAssertLessThan(num / den, 1e-4, "max |np1 - np2| / max |np1|")
        XCTAssertNotEqual(a, [Float](repeating: 0, count: a.count))
    }

    /// Sample counts around the global batch, and a prime: every run ends, with equal steps on all
    /// ranks (checked by the trainer), or with a clear configuration error when no full global batch exists.
    func testAwkwardSampleCountsNeverHang() throws {
        for np in 1...3 {
            for n in [np - 1, np, np + 1, 1009] where n >= 1 {
                let r = try MPIRunner.run(np: np, ["train", "--width", "1", "--size", "8", "--classes", "2", "--epochs", "1", "--threads", "1",
                                                   "--samples", "\(n)", "--batch", "1"], timeout: 90)
                XCTAssertFalse(r.timedOut, "np=\(np) n=\(n) hung")
                if n < np {
                    XCTAssertEqual(r.status, 2, "np=\(np) n=\(n)")
                    XCTAssertTrue(r.err.contains("is larger than the"), r.err)
                    let w = try MPIRunner.run(np: np, ["train", "--width", "1", "--size", "8", "--classes", "2", "--epochs", "1", "--threads", "1",
                                                       "--samples", "\(n)", "--batch", "1", "--remainder", "wrap"], timeout: 90)
                    assertClean(w, "np=\(np) n=\(n) wrap")
                } else {
                    assertClean(r, "np=\(np) n=\(n)")
                    XCTAssertTrue(r.out.contains("steps \(n / np)"), "np=\(np) n=\(n): \(r.out)")
                }
            }
        }
    }

    func testARankThatThrowsEndsTheJobWithinSeconds() throws {
        let r = try MPIRunner.run(np: 3, tiny + ["--samples", "96", "--batch", "4"], env: ["SPICE_FAULT": "2:3:throw"], timeout: 60)
        XCTAssertFalse(r.timedOut)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("rank 2/3: injected fault at step 3"), r.err)
        XCTAssertLessThan(r.seconds, 30)
    }

    func testACrashedRankEndsTheJob() throws {
        let r = try MPIRunner.run(np: 2, tiny + ["--samples", "96", "--batch", "4"], env: ["SPICE_FAULT": "0:3:exit"], timeout: 60)
        XCTAssertFalse(r.timedOut)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertLessThan(r.seconds, 30)
    }

    func testBFloat16GradientsKeepReplicasIdenticalAndTrain() throws {
        let r = try MPIRunner.run(np: 2, tiny + ["--samples", "64", "--batch", "4", "--grad-precision", "bfloat16"])
        assertClean(r, "bf16")
        XCTAssertTrue(r.out.contains("identical on all 2 rank(s)"), r.out)
    }

    func testTCPTransport() throws {
        let r = try MPIRunner.run(np: 2, tiny + ["--samples", "64", "--batch", "4"], mca: ["--mca", "btl", "tcp,self"])
        assertClean(r, "tcp")
        XCTAssertTrue(r.out.contains("identical on all 2 rank(s)"), r.out)
    }
}

extension DataParallelTests {
    /// A NaN on one rank is caught collectively before the update: by default the job stops with
    /// a message from the rank that produced it (epoch, step, tensor); with `skip` every rank drops
    /// the step and the replicas stay identical.
    func testNonFiniteValuesStopOrSkipCollectively() throws {
        let stop = try MPIRunner.run(np: 2, tiny + ["--samples", "64", "--batch", "4"], env: ["SPICE_FAULT": "1:3:nan"], timeout: 60)
        XCTAssertFalse(stop.timedOut)
        XCTAssertNotEqual(stop.status, 0)
        XCTAssertTrue(stop.err.contains("rank 1/2: epoch 1, step 3: the "), stop.err)
        XCTAssertTrue(stop.err.contains("is not finite; stopping before the update"), stop.err)
        let skip = try MPIRunner.run(np: 2, tiny + ["--samples", "64", "--batch", "4", "--non-finite", "skip"], env: ["SPICE_FAULT": "1:3:nan"])
        assertClean(skip, "skip")
        XCTAssertTrue(skip.err.contains("step 3: non-finite values (from rank 1); step skipped"), skip.err)
        XCTAssertTrue(skip.out.contains("identical on all 2 rank(s)"), skip.out)
        XCTAssertFalse(skip.out.contains("nan"), skip.out)
    }
}

extension DataParallelTests {
    /// A rank that stops responding (without exiting) would leave its peers waiting in a
    /// collective forever; the watchdog names the call and the step and ends the job.
    func testStalledRankIsCaughtByTheWatchdog() throws {
        let r = try MPIRunner.run(np: 2, tiny + ["--samples", "64", "--batch", "4", "--watchdog-seconds", "3"],
                                  env: ["SPICE_FAULT": "1:3:stall"], timeout: 60)
        XCTAssertFalse(r.timedOut, "the job hung")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("rank 0/2: stalled"), r.err)
        XCTAssertTrue(r.err.contains("at training step 3"), r.err)
        XCTAssertLessThan(r.seconds, 30)
    }
}

extension DataParallelTests {
    /// `--overlap off` (every bucket reduced after backward, for measuring what the overlap hides)
    /// computes exactly what the overlapped reduction computes.
    func testGradientOverlapOffGivesIdenticalParameters() throws {
        let dir = FileManager.default.temporaryDirectory
        let on = dir.appendingPathComponent("spice-overlap-on-\(UUID().uuidString).bin")
        let off = dir.appendingPathComponent("spice-overlap-off-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: on); try? FileManager.default.removeItem(at: off) }
        // Small buckets, so that several are in flight during backward when overlapping.
        let common = tiny + ["--samples", "64", "--batch", "4", "--bucket-mb", "0.02"]
        assertClean(try MPIRunner.run(np: 2, common + ["--dump-parameters", on.path]), "overlap on")
        assertClean(try MPIRunner.run(np: 2, common + ["--overlap", "off", "--dump-parameters", off.path]), "overlap off")
        let a = try Data(contentsOf: on), b = try Data(contentsOf: off)
        XCTAssertGreaterThan(a.count, 4000)
        XCTAssertEqual(a, b, "parameters differ between overlapped and after-backward gradient reduction")
        let bad = try MPIRunner.run(np: 2, common + ["--overlap", "later"], timeout: 60)
        XCTAssertFalse(bad.timedOut)
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.err.contains("--overlap must be on or off"), bad.err)
    }
}
