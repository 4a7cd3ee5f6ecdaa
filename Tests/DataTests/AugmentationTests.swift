import XCTest
import Foundation
import Tensor
@testable import Data

final class AugmentationTests: TemporaryDirectoryTestCase {
    /// One-frame RGB images with pseudo-random content.
    func framesFile(_ name: String, n: Int = 12, height: Int = 16, width: Int = 16) throws -> String {
        let p = path(name)
        let v = ModalitySpec.frames("visual", frames: 1, height: height, width: width)
        let a = ModalitySpec.spectrogram("audio", height: 1, width: 1)
        let w = try HDF5Writer(path: p, header: DatasetHeader(modalities: [a, v], classes: 2))
        var rng = SeededRandom(seed: 3)
        for i in 0..<n {
            try w.append(label: i % 2, values: [.float([0]), .bytes((0..<v.sampleCount).map { _ in UInt8(rng.below(256)) })])
        }
        try w.finish()
        return p
    }

    func testImagenetNormalisationConstants() throws {
        XCTAssertEqual(DataFormat.imagenetMean, [0.485, 0.456, 0.406])
        XCTAssertEqual(DataFormat.imagenetStd, [0.229, 0.224, 0.225])
        let p = path("bw.h5")
        let v = ModalitySpec.frames("visual", frames: 1, height: 1, width: 2)
        let w = try HDF5Writer(path: p, header: DatasetHeader(modalities: [.spectrogram("audio", height: 1, width: 1), v], classes: 2))
        try w.append(label: 0, values: [.float([0]), .bytes([0, 255, 0, 255, 0, 255])])   // per channel: black, white
        try w.finish()
        let inputs = [Tensor(shape: [0]), Tensor(shape: [0])]
        _ = try HDF5Dataset(path: p).gather([0], into: inputs, epoch: 0, training: false)
        for c in 0..<3 {
            XCTAssertEqual(inputs[1][2 * c], -DataFormat.imagenetMean[c] / DataFormat.imagenetStd[c], accuracy: 1e-5)
            XCTAssertEqual(inputs[1][2 * c + 1], (1 - DataFormat.imagenetMean[c]) / DataFormat.imagenetStd[c], accuracy: 1e-5)
        }
    }

    func testEvaluationIsAPlainBilinearResize() throws {
        // 4x4 -> 3x3 (PyTorch bilinear, align_corners=False): source coordinate (o + 0.5) * 4/3 - 0.5.
        let plane: [UInt8] = [0, 10, 20, 30,
                              40, 50, 60, 70,
                              80, 90, 100, 110,
                              120, 130, 140, 250]
        let p = path("tiny.h5")
        let v = ModalitySpec.frames("visual", frames: 1, height: 4, width: 4)
        let w = try HDF5Writer(path: p, header: DatasetHeader(modalities: [.spectrogram("audio", height: 1, width: 1), v], classes: 2))
        try w.append(label: 1, values: [.float([0]), .bytes(plane + plane + plane)])
        try w.finish()
        let d = try HDF5Dataset(path: p, options: .init(frameSize: .init(3)))
        XCTAssertEqual(d.shapes[1], InMemoryDataset.ModalityShape(name: "visual", channels: 3, height: 3, width: 3))
        let inputs = [Tensor(shape: [0]), Tensor(shape: [0])]
        _ = try d.gather([0], into: inputs, epoch: 5, training: false)
        XCTAssertEqual(inputs[1].shape, [1, 3, 3, 3])
        // Hand-computed: (0,0): rows 0-1 and cols 0-1 with weight 1/6 -> 1/6*10 + 1/6*40 = 8.3333;
        // (1,1): the mean of 50, 60, 90, 100 = 75; (2,2): rows/cols 2-3 with weight 5/6 ->
        // top = 100 + 5/6*10, bottom = 140 + 5/6*110, value = top + 5/6*(bottom - top) = 211.1111.
        let expected: [(Int, Float)] = [(0, 8.333333), (4, 75), (8, 211.11111)]
        for c in 0..<3 {
            for (k, raw) in expected {
                let want = (raw / 255 - DataFormat.imagenetMean[c]) / DataFormat.imagenetStd[c]
                XCTAssertEqual(inputs[1][c * 9 + k], want, accuracy: 1e-4, "channel \(c) pixel \(k)")
            }
        }
        // Evaluation never depends on the epoch.
        let again = [Tensor(shape: [0]), Tensor(shape: [0])]
        _ = try d.gather([0], into: again, epoch: 9, training: false)
        XCTAssertEqual(again[1].array, inputs[1].array)
    }

    func testRandomResizedCropParameters() {
        var rng = SeededRandom(seed: 11)
        for _ in 0..<300 {
            let b = ImageOps.randomResizedCrop(height: 32, width: 48, rng: &rng)
            XCTAssertTrue(b.top >= 0 && b.left >= 0 && b.top + b.height <= 32 && b.left + b.width <= 48, "\(b)")
            let area = Double(b.height * b.width) / Double(32 * 48)
            XCTAssertTrue(area >= 0.06 && area <= 1.0, "\(b)")
            let ratio = Double(b.width) / Double(b.height)
            XCTAssertTrue(ratio >= 0.75 * 0.8 && ratio <= 4.0 / 3.0 * 1.25, "\(b)")
        }
        // After 10 failed tries (an impossible scale): torchvision's centre crop with the ratio clamped.
        var r2 = SeededRandom(seed: 1)
        XCTAssertEqual(ImageOps.randomResizedCrop(height: 10, width: 40, scale: 2...3, rng: &r2), CropBox(top: 0, left: 13, height: 10, width: 13))
        XCTAssertEqual(ImageOps.randomResizedCrop(height: 40, width: 10, scale: 2...3, rng: &r2), CropBox(top: 13, left: 0, height: 13, width: 10))
        XCTAssertEqual(ImageOps.randomResizedCrop(height: 20, width: 25, scale: 2...3, rng: &r2), CropBox(top: 0, left: 0, height: 20, width: 25))
    }

    func testTrainingAugmentationIsSeededPerEpochAndSample() throws {
        let p = try framesFile("aug.h5")
        let a = try HDF5Dataset(path: p, options: .init(frameSize: .init(8), seed: 7))
        let b = try HDF5Dataset(path: p, options: .init(frameSize: .init(8), seed: 7))
        let ta = [Tensor(shape: [0]), Tensor(shape: [0])], tb = [Tensor(shape: [0]), Tensor(shape: [0])]
        let n = 3 * 64
        // Same (seed, epoch, index) -> same crop and pixels, whatever the batch around the sample.
        _ = try a.gather([3, 5], into: ta, epoch: 2, training: true)
        _ = try b.gather([5, 9, 3], into: tb, epoch: 2, training: true)
        XCTAssertEqual(Array(ta[1].array[0..<n]), Array(tb[1].array[(2 * n)..<(3 * n)]))
        XCTAssertEqual(Array(ta[1].array[n..<(2 * n)]), Array(tb[1].array[0..<n]))
        XCTAssertEqual(a.augmentation(sample: 3, modality: 1, epoch: 2).crop, b.augmentation(sample: 3, modality: 1, epoch: 2).crop)
        // Another epoch (or seed) -> other crops.
        var differentEpoch = 0, differentSeed = 0
        let c = try HDF5Dataset(path: p, options: .init(frameSize: .init(8), seed: 8))
        for i in 0..<12 {
            if a.augmentation(sample: i, modality: 1, epoch: 2) != a.augmentation(sample: i, modality: 1, epoch: 3) { differentEpoch += 1 }
            if a.augmentation(sample: i, modality: 1, epoch: 2) != c.augmentation(sample: i, modality: 1, epoch: 2) { differentSeed += 1 }
        }
        XCTAssertGreaterThanOrEqual(differentEpoch, 11)
        XCTAssertGreaterThanOrEqual(differentSeed, 11)
        _ = try b.gather([3], into: tb, epoch: 3, training: true)
        XCTAssertNotEqual(Array(ta[1].array[0..<n]), tb[1].array)
        // Flips happen about half the time.
        let flips = (0..<200).filter { a.augmentation(sample: $0, modality: 1, epoch: 0).flip }.count
        XCTAssertTrue(flips > 70 && flips < 130, "\(flips) flips in 200")
    }

    func testFullCropWithFlipIsTheMirroredResize() throws {
        let p = try framesFile("flip.h5", n: 2, height: 12, width: 12)
        let plain = try HDF5Dataset(path: p, options: .init(frameSize: .init(6)))
        let flipped = try HDF5Dataset(path: p, options: .init(frameSize: .init(6), cropScale: 1...1, cropRatio: 1...1, flipProbability: 1))
        let unflipped = try HDF5Dataset(path: p, options: .init(frameSize: .init(6), cropScale: 1...1, cropRatio: 1...1, flipProbability: 0))
        let e = [Tensor(shape: [0]), Tensor(shape: [0])], f = [Tensor(shape: [0]), Tensor(shape: [0])], u = [Tensor(shape: [0]), Tensor(shape: [0])]
        _ = try plain.gather([1], into: e, epoch: 0, training: false)
        _ = try flipped.gather([1], into: f, epoch: 4, training: true)
        _ = try unflipped.gather([1], into: u, epoch: 4, training: true)
        XCTAssertEqual(u[1].array, e[1].array)
        for c in 0..<3 {
            for y in 0..<6 {
                for x in 0..<6 { XCTAssertEqual(f[1][(c * 6 + y) * 6 + x], e[1][(c * 6 + y) * 6 + 5 - x]) }
            }
        }
    }

    func testAllFramesOfASampleShareOneCrop() throws {
        let p = path("clip.h5")
        let v = ModalitySpec.frames("visual", frames: 3, height: 10, width: 10)
        let w = try HDF5Writer(path: p, header: DatasetHeader(modalities: [.spectrogram("audio", height: 1, width: 1), v], classes: 2))
        var rng = SeededRandom(seed: 5)
        let frame = (0..<300).map { _ in UInt8(rng.below(256)) }
        try w.append(label: 0, values: [.float([0]), .bytes(frame + frame + frame)])
        try w.finish()
        let d = try HDF5Dataset(path: p, options: .init(frameSize: .init(4), seed: 1))
        let t = [Tensor(shape: [0]), Tensor(shape: [0])]
        _ = try d.gather([0], into: t, epoch: 0, training: true)
        XCTAssertEqual(t[1].shape, [3, 3, 4, 4])
        XCTAssertEqual(Array(t[1].array[0..<48]), Array(t[1].array[48..<96]))
        XCTAssertEqual(Array(t[1].array[0..<48]), Array(t[1].array[96..<144]))
    }
}
