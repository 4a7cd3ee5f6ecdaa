import XCTest
import Foundation

/// The distributed curriculum plan under mpirun: rank 0's global order does not depend on the
/// number of ranks, and every rank receives exactly its slice of every global batch.
final class CurriculumPlanTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(MPIRunner.available, "mpirun not found (run launch/setup)")
    }

    func read(_ url: URL) -> [Int] {
        ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0) }
    }

    func testPlanIsIndependentOfRankCountAndSlicesAreExact() throws {
        for method in ["spice-e", "spice-s", "bss"] {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("spice-plan-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            // lr 0 and frozen BatchNorm: the model (hence the scores) is the same whatever the rank count.
            let args = ["train", "--width", "2", "--size", "16", "--classes", "4", "--samples", "96", "--curriculum", method,
                        "--warmup", "1", "--epochs", "4", "--refresh", "1", "--threads", "1", "--freeze-bn", "--lr", "0"]
            let one = base.appendingPathComponent("np1"), two = base.appendingPathComponent("np2")
            let r1 = try MPIRunner.run(np: 1, args + ["--batch", "8", "--dump-plan", one.path])
            let r2 = try MPIRunner.run(np: 2, args + ["--batch", "4", "--dump-plan", two.path])
            XCTAssertEqual(r1.status, 0, r1.err)
            XCTAssertEqual(r2.status, 0, r2.err)
            for e in 0..<4 {
                let g1 = read(one.appendingPathComponent("global-epoch-\(e).txt"))
                let g2 = read(two.appendingPathComponent("global-epoch-\(e).txt"))
                XCTAssertFalse(g1.isEmpty, "\(method) epoch \(e)")
                XCTAssertEqual(g1, g2, "\(method) epoch \(e): global order depends on the rank count")
                let mine = (0..<2).map { read(two.appendingPathComponent("rank-\($0)-epoch-\(e).txt")) }
                XCTAssertEqual(mine[0].count, mine[1].count, "\(method) epoch \(e): unequal step counts")
                let steps = mine[0].count / 4
                XCTAssertEqual(steps, g2.count / 8, "\(method) epoch \(e)")
                for s in 0..<steps {
                    for r in 0..<2 {
                        XCTAssertEqual(Array(mine[r][(s * 4)..<(s * 4 + 4)]), Array(g2[(s * 8 + r * 4)..<(s * 8 + r * 4 + 4)]),
                                       "\(method) epoch \(e) step \(s) rank \(r)")
                    }
                }
            }
        }
    }
}

extension CurriculumPlanTests {
    /// Harvested scores come from every rank's batches (gathered to rank 0); the comparison mode
    /// reports the scoring pass's cost and the rank agreement with it.
    func testHarvestedScoresUnderMPI() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spice-harvest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try MPIRunner.run(np: 1, ["synth", "--out", dir.path, "--samples", "96", "--test-samples", "32"]).status, 0)
        let r = try MPIRunner.run(np: 2, ["train", "--train", dir.appendingPathComponent("train.h5").path,
                                          "--test", dir.appendingPathComponent("test.h5").path, "--width", "2", "--batch", "8",
                                          "--curriculum", "spice-e", "--warmup", "1", "--epochs", "3", "--refresh", "1", "--threads", "1",
                                          "--harvest-scores", "--compare-harvest"])
        XCTAssertEqual(r.status, 0, r.err)
        // Warm-up epoch: 96 samples / global batch 16 = 6 steps, every sample seen once.
        XCTAssertTrue(r.out.contains("from harvested scores: 96 of 96 samples seen"), r.out)
        XCTAssertTrue(r.out.contains("harvest vs scoring pass"), r.out)
        XCTAssertTrue(r.out.contains("Spearman R"), r.out)
    }
}
