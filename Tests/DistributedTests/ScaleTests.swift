import XCTest
import Foundation

/// The scale measurements measure the real thing: `spice bench --refresh` delivers exactly the
/// plans the trainer delivers, and collective (MPI-IO) HDF5 reads return the same bytes as
/// independent reads.
final class ScaleTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRunner.available, "mpirun not found (run launch/setup)")
    }

    func read(_ url: URL) -> [Int] {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0) }
    }

    func synth(_ dir: URL, samples: Int = 150, extra: [String] = []) throws {
        let r = try MPIRunner.run(np: 1, ["synth", "--out", dir.path, "--samples", "\(samples)", "--test-samples", "20", "--classes", "5",
                                          "--audio-size", "16", "--visual-size", "12"] + extra)
        XCTAssertEqual(r.status, 0, r.err)
    }

    func testTimedRefreshDeliversTheTrainersPlans() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spice-refresh-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try synth(dir)
        let train = dir.appendingPathComponent("train.h5").path, test = dir.appendingPathComponent("test.h5").path
        let common = ["--width", "2", "--batch", "4", "--warmup", "0", "--epochs", "3", "--refresh", "1", "--threads", "1", "--seed", "3"]
        for np in [2, 3] {
            let bench = dir.appendingPathComponent("bench-\(np)"), other = dir.appendingPathComponent("bench-seed-\(np)")
            let b = try MPIRunner.run(np: np, ["bench", "--refresh", "--train", train, "--dump-plan", bench.path] + common)
            XCTAssertEqual(b.status, 0, b.err)
            XCTAssertTrue(b.out.contains("| spice-e: Scatterv of the index lists | collective |"), b.out)
            XCTAssertTrue(b.out.contains("| Gatherv R,U,S + BSS to rank 0 | collective |"), b.out)
            // A different model seed must change the plan (the comparison below can fail).
            let c = try MPIRunner.run(np: np, ["bench", "--refresh", "--train", train, "--dump-plan", other.path, "--curriculum", "spice-e"]
                                      + common.map { $0 == "3" ? "4" : $0 })
            XCTAssertEqual(c.status, 0, c.err)
            XCTAssertNotEqual(read(bench.appendingPathComponent("spice-e/global-epoch-0.txt")),
                              read(other.appendingPathComponent("spice-e/global-epoch-0.txt")))
            for method in ["spice-e", "spice-s"] {
                let trained = dir.appendingPathComponent("train-\(method)-\(np)")
                let t = try MPIRunner.run(np: np, ["train", "--train", train, "--test", test, "--curriculum", method,
                                                   "--dump-plan", trained.path] + common, timeout: 300)
                XCTAssertEqual(t.status, 0, t.err)
                let global = read(trained.appendingPathComponent("global-epoch-0.txt"))
                XCTAssertFalse(global.isEmpty, "\(method) np=\(np)")
                XCTAssertEqual(read(bench.appendingPathComponent("\(method)/global-epoch-0.txt")), global, "\(method) np=\(np): global order")
                for r in 0..<np {
                    let mine = read(trained.appendingPathComponent("rank-\(r)-epoch-0.txt"))
                    XCTAssertFalse(mine.isEmpty)
                    XCTAssertEqual(read(bench.appendingPathComponent("\(method)/rank-\(r)-epoch-0.txt")), mine, "\(method) np=\(np) rank \(r)")
                }
            }
        }
    }

    func checksum(_ r: MPIRun) -> String? {
        r.out.split(separator: "\n").first { $0.hasPrefix("CHECKSUM ") }.map { String($0.dropFirst(9)) }
    }

    func testCollectiveReadsReturnTheSameSamplesAsIndependentReads() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spice-mpio-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try synth(dir, samples: 301, extra: ["--chunk-samples", "4", "--audio-dtype", "float16"])
        let file = dir.appendingPathComponent("train.h5").path
        for np in [2, 3] {
            for pattern in ["shard", "batches", "samples"] {
                let args = ["bench", "--hdf5-read", file, "--pattern", pattern, "--block", "7", "--limit", "60", "--checksum"]
                let ind = try MPIRunner.run(np: np, args + ["--io", "independent"])
                let col = try MPIRunner.run(np: np, args + ["--io", "collective"])
                XCTAssertEqual(ind.status, 0, ind.err)
                XCTAssertEqual(col.status, 0, col.err)
                let a = checksum(ind), b = checksum(col)
                XCTAssertNotNil(a, ind.out)
                XCTAssertEqual(a, b, "np=\(np) \(pattern): collective reads differ from independent reads")
                XCTAssertEqual(a?.split(separator: ",").count, np)
                if pattern != "shard" {
                    let other = try MPIRunner.run(np: np, args + ["--io", "collective", "--seed", "9"])
                    XCTAssertNotEqual(checksum(other), b, "the checksum must see which samples were read")
                }
            }
        }
    }

    func testUnreadableFileFailsOnEveryRankWithoutHanging() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spice-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.h5")
        try Data("not hdf5".utf8).write(to: bad)
        for io in ["independent", "collective"] {
            let r = try MPIRunner.run(np: 2, ["bench", "--hdf5-read", bad.path, "--io", io], timeout: 60)
            XCTAssertFalse(r.timedOut)
            XCTAssertEqual(r.status, 2, r.err)
            XCTAssertTrue(r.err.contains("not an HDF5 file"), r.err)
        }
        // A file only rank 0 can see (MPMD: rank 1 gets a missing path): the collective open is
        // never entered, both ranks exit 2 naming rank 1.
        let good = dir.appendingPathComponent("good")
        try synth(good, samples: 20)
        let goodFile = good.appendingPathComponent("train.h5").path
        let m = try MPIRunner.run(np: 1, ["bench", "--hdf5-read", goodFile, "--io", "collective", ":", "-np", "1", MPIRunner.spice,
                                          "bench", "--hdf5-read", dir.appendingPathComponent("missing/train.h5").path, "--io", "collective"],
                                  timeout: 60)
        XCTAssertFalse(m.timedOut)
        XCTAssertEqual(m.status, 2, m.err)
        XCTAssertTrue(m.err.contains("rank 1/2") && m.err.contains("no such file"), m.err)
        let r = try MPIRunner.run(np: 2, ["bench", "--refresh", "--train", bad.path], timeout: 60)
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("not an HDF5 file"), r.err)
    }
}
