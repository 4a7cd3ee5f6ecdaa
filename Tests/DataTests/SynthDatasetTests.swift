import XCTest
import Foundation
import Tensor
@testable import Data

final class SynthDatasetTests: TemporaryDirectoryTestCase {
    func testCountsKindsAndLabels() throws {
        let p = path("train.h5")
        let config = SynthDataset.Config(classes: 5, modalities: [.spectrogram("audio", height: 8, width: 8), .frames("visual", frames: 2, height: 8, width: 8)])
        let summary = try SynthDataset.generate(to: p, count: 250, split: "train", config: config)
        // 40% redundant, 20% unique per modality, 20% synergistic, exactly.
        XCTAssertEqual(summary, SynthDataset.Summary(count: 250, kindCounts: [100, 50, 50, 50]))
        let d = try HDF5Dataset(path: p)
        XCTAssertEqual(d.count, 250)
        XCTAssertEqual(d.classes, 5)
        XCTAssertEqual(d.modalities.map(\.spec), config.modalities)
        let kinds = try XCTUnwrap(d.kinds)
        XCTAssertEqual((0..<4).map { k in kinds.filter { $0 == k }.count }, [100, 50, 50, 50])
        XCTAssertTrue(d.labels.allSatisfy { $0 >= 0 && $0 < 5 })
        for k in 0..<4 {   // labels balanced within each kind
            let perClass = (0..<5).map { c in zip(kinds, d.labels).filter { $0.0 == k && $0.1 == c }.count }
            XCTAssertLessThanOrEqual(perClass.max()! - perClass.min()!, 1, "kind \(k): \(perClass)")
        }
        XCTAssertEqual(try d.ids()?.prefix(2), ["train-000", "train-001"])
        XCTAssertEqual(d.ratings?.count, 500)
        XCTAssertTrue(d.preprocessing.contains("synth"))
        XCTAssertEqual(SynthDataset.defaultProportions(modalities: 3), [0.4, 0.4 / 3, 0.4 / 3, 0.4 / 3, 0.2])
    }

    func testSameSeedSameFileAndSplitsDiffer() throws {
        let config = SynthDataset.Config(classes: 3, modalities: [.spectrogram("audio", height: 4, width: 4), .frames("visual", height: 4, width: 4)],
                                         proportions: [1, 2, 3, 4], seed: 9)
        let (a, b, c) = (path("a.h5"), path("b.h5"), path("c.h5"))
        XCTAssertEqual(try SynthDataset.generate(to: a, count: 20, split: "train", config: config).kindCounts, [2, 4, 6, 8])
        try SynthDataset.generate(to: b, count: 20, split: "train", config: config)
        try SynthDataset.generate(to: c, count: 20, split: "test", config: config)
        let (da, db, dc) = (try HDF5Dataset(path: a), try HDF5Dataset(path: b), try HDF5Dataset(path: c))
        XCTAssertEqual(da.labels, db.labels)
        XCTAssertEqual(da.kinds, db.kinds)
        XCTAssertEqual(try da.storedSample(7, modality: 0), try db.storedSample(7, modality: 0))
        XCTAssertEqual(try da.storedSample(7, modality: 1), try db.storedSample(7, modality: 1))
        XCTAssertNotEqual(try da.storedSample(7, modality: 0), try dc.storedSample(7, modality: 0))
        assertDataError(try SynthDataset.generate(to: path("x.h5"), count: 5, config: .init(proportions: [1, 1])), mentions: ["proportions"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.h5")))
    }

    /// Nearest-class-pattern decoding of each modality alone: it recovers the label on redundant
    /// samples and on the unique modality, is at chance on synergistic samples, while the joint
    /// codes give the label there: label = (sum of decoded codes) mod C.
    func testPlantedStructureIsReal() throws {
        let p = path("stats.h5")
        let C = 4
        let config = SynthDataset.Config(classes: C, modalities: [.spectrogram("audio", height: 12, width: 12), .frames("visual", height: 12, width: 12)],
                                         noise: 1.0, seed: 21)
        try SynthDataset.generate(to: p, count: 600, config: config)
        let d = try HDF5Dataset(path: p)
        let patterns = (0..<2).map { SynthDataset.patterns(config: config, modality: $0) }
        func decode(_ i: Int, _ m: Int) throws -> Int {
            var x = try d.storedSample(i, modality: m)
            if m == 1 { x = x.map { ($0 - SynthDataset.frameOffset) / SynthDataset.frameScale } }
            let scores = patterns[m].map { pat in zip(pat, x).reduce(Float(0)) { $0 + $1.0 * $1.1 } }
            return scores.indices.max { scores[$0] < scores[$1] }!
        }
        var hits = [[Int]](repeating: [0, 0, 0], count: 4), totals = [Int](repeating: 0, count: 4)   // [audio, visual, joint]
        let kinds = try XCTUnwrap(d.kinds)
        for i in 0..<d.count {
            let k = Int(kinds[i]), y = Int(d.labels[i])
            let a = try decode(i, 0), v = try decode(i, 1)
            totals[k] += 1
            if a == y { hits[k][0] += 1 }
            if v == y { hits[k][1] += 1 }
            if (a + v) % C == y { hits[k][2] += 1 }
        }
        func rate(_ k: Int, _ j: Int) -> Double { Double(hits[k][j]) / Double(totals[k]) }
        // chance = 0.25
        XCTAssertGreaterThan(rate(0, 0), 0.85, "redundant, audio alone")
        XCTAssertGreaterThan(rate(0, 1), 0.85, "redundant, visual alone")
        XCTAssertGreaterThan(rate(1, 0), 0.85, "unique-audio, audio")
        XCTAssertLessThan(rate(1, 1), 0.42, "unique-audio, visual")
        XCTAssertLessThan(rate(2, 0), 0.42, "unique-visual, audio")
        XCTAssertGreaterThan(rate(2, 1), 0.85, "unique-visual, visual")
        XCTAssertLessThan(rate(3, 0), 0.42, "synergistic, audio alone")
        XCTAssertLessThan(rate(3, 1), 0.42, "synergistic, visual alone")
        XCTAssertGreaterThan(rate(3, 2), 0.75, "synergistic, joint codes")
    }
}
