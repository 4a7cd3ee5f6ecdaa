import XCTest
import Foundation

/// `spice analyze` on a tiny planted run: checkpoint mode (all synergy forms, per-kind accuracy),
/// dump mode (per refresh), data without planted truth, and clear errors.
extension CLITests {
    func testAnalyzeReportsPlantedScoresOfARun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spice-an-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(try run(["synth", "--out", dir.path, "--samples", "64", "--test-samples", "32", "--classes", "4"]).status, 0)
        let train = dir.appendingPathComponent("train.h5").path, test = dir.appendingPathComponent("test.h5").path
        let runDir = dir.appendingPathComponent("run").path, dumps = dir.appendingPathComponent("scores").path
        let t = try run(["train", "--train", train, "--test", test, "--width", "2", "--epochs", "3", "--warmup", "1", "--refresh", "1",
                         "--curriculum", "spice-s", "--synergy", "positive", "--batch", "8", "--threads", "1",
                         "--run-dir", runDir, "--dump-scores", dumps])
        XCTAssertEqual(t.status, 0, t.err)
        let json = dir.appendingPathComponent("analyze.json").path
        let a = try run(["analyze", "--run-dir", runDir, "--data", train, "--test", test, "--scores", dumps, "--planted",
                         "--threads", "1", "--json", json])
        XCTAssertEqual(a.status, 0, a.err)
        XCTAssertTrue(a.out.contains("synergy positive: AUC R(redundant)"), a.out)
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let checkpoint = try XCTUnwrap(root["checkpoint"] as? [String: Any])
        XCTAssertEqual(checkpoint["samples"] as? Int, 64)
        XCTAssertEqual(checkpoint["planted"] as? Bool, true)
        let forms = try XCTUnwrap(checkpoint["forms"] as? [String: [String: Any]])
        XCTAssertEqual(Set(forms.keys), ["paper", "reference", "positive"])
        for (name, f) in forms {
            let auc = try XCTUnwrap(f["auc"] as? [String: Double], name)
            XCTAssertEqual(Set(auc.keys), ["R", "U", "S"])
            XCTAssertTrue(auc.values.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(name): \(auc)")
            let bins = try XCTUnwrap(f["bins"] as? [String: Int])
            XCTAssertEqual(bins.values.reduce(0, +), 64)
            // 64 samples at 40/20/20/20: 25 redundant, 13 + 13 unique, 13 synergistic (largest remainder).
            XCTAssertEqual(f["kind_counts"] as? [String: Int], ["R": 25, "U": 26, "S": 13])
        }
        // R and U do not depend on the synergy form; the S ranking of paper and positive agree on
        // every sample with a positive fusion gain, so only R/U AUCs are compared exactly.
        let aucs = forms.mapValues { $0["auc"] as! [String: Double] }
        XCTAssertEqual(aucs["paper"]!["R"], aucs["positive"]!["R"]); XCTAssertEqual(aucs["paper"]!["U"], aucs["reference"]!["U"])
        // Accuracy on the test file agrees with spice eval of the same checkpoint.
        let testAcc = try XCTUnwrap((checkpoint["test_accuracy"] as? [String: Double])?["all"])
        let e = try run(["eval", "--run-dir", runDir, "--test", test, "--threads", "1"])
        XCTAssertEqual(e.status, 0, e.err)
        let evalAcc = Double(e.out.components(separatedBy: ": acc ").last?.split(separator: " ").first ?? "") ?? -1
        XCTAssertEqual(testAcc, evalAcc, accuracy: 0.00005)
        let perKind = try XCTUnwrap(checkpoint["test_accuracy"] as? [String: Double])
        XCTAssertTrue(["redundant", "unique-audio", "unique-visual", "synergistic"].allSatisfy { perKind[$0] != nil && perKind["fused:" + $0] != nil },
                      "\(perKind)")
        // Dump mode: one entry per refresh (before epochs 2 and 3), bins from the dumps.
        let refreshes = try XCTUnwrap(root["refreshes"] as? [[String: Any]])
        XCTAssertEqual(refreshes.map { $0["epoch"] as? Int }, [2, 3])
        for r in refreshes { XCTAssertEqual((r["bins"] as? [String: Int])?.values.reduce(0, +), 64) }

        // A dump without the kind column: distributions and bin sizes, or an error with --planted.
        let noTruth = dir.appendingPathComponent("no-truth").path
        try FileManager.default.createDirectory(atPath: noTruth, withIntermediateDirectories: true)
        let csv = try String(contentsOfFile: dumps + "/scores-epoch-3.csv", encoding: .utf8)
        let stripped = csv.split(separator: "\n").map { line in line.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
        XCTAssertTrue(csv.hasPrefix("id,") && csv.split(separator: "\n")[0].hasSuffix(",kind"))
        try (stripped.joined(separator: "\n") + "\n").write(toFile: noTruth + "/scores-epoch-3.csv", atomically: true, encoding: .utf8)
        let d = try run(["analyze", "--scores", noTruth])
        XCTAssertEqual(d.status, 0, d.err)
        XCTAssertTrue(d.out.contains("S^ mean") && d.out.contains("bins R/U/S"), d.out)
        let p = try run(["analyze", "--scores", noTruth, "--planted"])
        XCTAssertEqual(p.status, 2)
        XCTAssertTrue(p.err.contains("no planted truth"), p.err)

        // Clear errors, exit 2, for missing or unusable inputs.
        let cases: [([String], String)] = [
            (["analyze"], "needs --run-dir"),
            (["analyze", "--run-dir", dir.appendingPathComponent("nope").path, "--data", train], "no such directory"),
            (["analyze", "--run-dir", dir.path, "--data", train], "no checkpoint"),
            (["analyze", "--run-dir", runDir, "--data", dir.appendingPathComponent("nope.h5").path], "no such file"),
            (["analyze", "--run-dir", runDir], "needs --data"),
            (["analyze", "--scores", dir.path], "no scores-epoch-N.csv"),
            (["analyze", "--run-dir", runDir, "--data", train, "--synergy", "paper,bogus"], "--synergy"),
            (["train", "--synergy", "bogus"], "'positive'"),
        ]
        for (args, message) in cases {
            let r = try run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.err)")
            XCTAssertTrue(r.err.contains(message), "\(args): \(r.err)")
        }
    }
}
