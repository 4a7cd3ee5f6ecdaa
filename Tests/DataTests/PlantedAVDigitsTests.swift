import XCTest
import Foundation
import Tensor
@testable import Data

/// Planted AV-Digits (`spice prepare av-digits --planted`, issue 10).
final class PlantedAVDigitsTests: TemporaryDirectoryTestCase {
    func pairs(_ n: Int) -> [AVDigits.Pair] {
        (0..<n).map { i in
            AVDigits.Pair(split: "train", label: (i * 7) % 10, fsddIndex: i, fsddFilename: "c\(i).wav", imageSource: "mnist/train5k",
                          imageIndex: i, line: i + 2)
        }
    }

    func testKindsProportionsAndLabels() throws {
        let p = pairs(100)
        let planted = try AVDigits.plant(p, AVDigits.Planted(), split: "train")
        XCTAssertEqual(planted.count, 100)
        XCTAssertEqual((0..<4).map { k in planted.filter { $0.kind == UInt8(k) }.count }, [40, 20, 20, 20])
        var partnersDiffer = 0
        for (i, s) in planted.enumerated() {
            switch s.kind {
            case 0:
                XCTAssertEqual([s.audioPair, s.imagePair], [i, i]); XCTAssertEqual(s.label, p[i].label)
            case 1:
                XCTAssertEqual(s.audioPair, i); XCTAssertEqual(s.label, p[i].label, "unique-audio: the clip carries the label")
            case 2:
                XCTAssertEqual(s.imagePair, i); XCTAssertEqual(s.label, p[i].label, "unique-visual: the image carries the label")
            default:
                XCTAssertEqual(s.audioPair, i)
                XCTAssertEqual(s.label, (p[s.audioPair].label + p[s.imagePair].label) % 10, "synergistic: (audio + image digit) mod 10")
            }
            if s.audioPair != s.imagePair { partnersDiffer += 1 }
        }
        XCTAssertGreaterThan(partnersDiffer, 50, "60% of the samples get a random partner")
        // Deterministic per (seed, split); another seed or split plants differently.
        XCTAssertEqual(try AVDigits.plant(p, AVDigits.Planted(), split: "train"), planted)
        XCTAssertNotEqual(try AVDigits.plant(p, AVDigits.Planted(seed: 1), split: "train"), planted)
        XCTAssertNotEqual(try AVDigits.plant(p, AVDigits.Planted(), split: "test"), planted)
        let custom = try AVDigits.plant(p, AVDigits.Planted(proportions: [0, 0, 0, 1]), split: "train")
        XCTAssertTrue(custom.allSatisfy { $0.kind == 3 })
        XCTAssertThrowsError(try AVDigits.plant(p, AVDigits.Planted(proportions: [1, 1, 1]), split: "train"))
        XCTAssertThrowsError(try AVDigits.plant(p, AVDigits.Planted(proportions: [0, 0, 0, 0]), split: "train"))
        XCTAssertThrowsError(try AVDigits.plant(p, AVDigits.Planted(proportions: [1, -1, 1, 1]), split: "train"))
    }

    func testPlantedFilesStoreKindsAndTheSamplesUsed() throws {
        let shared = DatasetPrepareTests.shared
        guard FileManager.default.fileExists(atPath: shared + "/av-digits/pairs.csv") else {
            throw XCTSkip("\(shared) not present: needs the shared data folder (FSDD, MNIST, pairs.csv)")
        }
        let limit = 20
        let config = AVDigits.Config(source: shared, profile: DatasetPrepareTests.quick, limit: limit, planted: AVDigits.Planted(seed: 3))
        let reports = try AVDigits.build(config, outDir: path("planted"))
        XCTAssertEqual(reports.map(\.written), [limit, limit])
        let plain = try AVDigits.build(AVDigits.Config(source: shared, profile: DatasetPrepareTests.quick, limit: limit), outDir: path("plain"))
        XCTAssertEqual(plain.map(\.written), [limit, limit])
        let all = try AVDigits.readPairs(path: shared + "/av-digits/pairs.csv")
        for split in ["train", "test"] {
            let d = try HDF5Dataset(path: path("planted/\(split).h5")), base = try HDF5Dataset(path: path("plain/\(split).h5"))
            let rows = all.filter { $0.split == split }
            let chosen = AVDigits.spread(rows.count, limit: limit).map { rows[$0] }
            let planted = try AVDigits.plant(chosen, AVDigits.Planted(seed: 3), split: split)
            XCTAssertEqual(d.kinds, planted.map(\.kind))
            XCTAssertEqual(d.kindNames?.first(where: { $0 != "redundant" && !$0.hasPrefix("unique-") }) ?? "synergistic", "synergistic")
            XCTAssertEqual(d.labels.map(Int.init), planted.map(\.label))
            XCTAssertTrue(d.preprocessing.hasPrefix("PLANTED"), d.preprocessing)
            let ids = try XCTUnwrap(try d.ids())
            // Each planted sample holds the clip of its audio pair and the image of its image pair,
            // exactly as the plain file stores them.
            let inputs = d.modalities.map { _ in Tensor(shape: [0]) }, plainInputs = base.modalities.map { _ in Tensor(shape: [0]) }
            for (k, s) in planted.enumerated() {
                XCTAssertTrue(ids[k].hasPrefix(["redundant", "unique-audio", "unique-visual", "synergistic"][Int(s.kind)] + "|fsdd:"
                                               + chosen[s.audioPair].fsddFilename + "|"), ids[k])
                _ = try d.gather([k], into: inputs, epoch: 0, training: false)
                _ = try base.gather([s.audioPair], into: plainInputs, epoch: 0, training: false)
                XCTAssertEqual(inputs[0].array, plainInputs[0].array, "audio of sample \(k)")
                _ = try base.gather([s.imagePair], into: plainInputs, epoch: 0, training: false)
                XCTAssertEqual(inputs[1].array, plainInputs[1].array, "image of sample \(k)")
            }
        }
    }
}
