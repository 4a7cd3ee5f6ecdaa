import Foundation
import Data

/// `spice synth`: writes a train and a test HDF5 file with planted redundant / unique /
/// synergistic structure (see SynthDataset and docs/data-format.md).
enum SynthCommand {
    static let help = """
    usage: spice synth (--out DIR | --train FILE --test FILE) [options]

    Generates an audio-visual classification dataset with planted interaction structure and
    writes it as two HDF5 files in the SPICE data format. Each sample is redundant (both
    modalities show the class), unique to audio or to visual (the other modality shows a random
    class), or synergistic (each modality shows a code, label = (audio code + visual code) mod
    classes). The per-sample kind is stored in the 'kind' dataset. Samples stream to disk, so
    large files need little memory.

      --out DIR             write DIR/train.h5 and DIR/test.h5 (DIR is created)
      --train FILE          training file (with --test, instead of --out)
      --test FILE           test file
      --samples N           training samples (default 512)
      --test-samples N      test samples (default 256)
      --classes N           classes (default 8)
      --audio-size S        spectrogram 1 x H x W, S = N or HxW (default 32)
      --visual-size S       frames 3 x H x W, S = N or HxW (default 32)
      --frames T            frames per sample (default 1)
      --audio-dtype D       float32 (default) or float16
      --proportions LIST    redundant,unique-audio,unique-visual,synergistic weights
                            (default 0.4,0.2,0.2,0.2; normalised)
      --noise X             Gaussian noise std relative to the unit-RMS class pattern (default 1.0)
      --grid N              class patterns are N x N random fields, upsampled (default 4)
      --seed N              seed (default 0); train and test share the class patterns
      --chunk-samples K     samples per HDF5 chunk (default 1: one contiguous read per sample,
                            best for shuffled training reads; see docs/scaling.md)
    """

    static func run(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["out", "train", "test", "samples", "test-samples", "classes", "audio-size",
                                              "visual-size", "frames", "audio-dtype", "proportions", "noise", "grid", "seed", "chunk-samples"],
                              switches: ["help"])
        if a.has("help") { print(help); return }
        guard a.positional.isEmpty else { throw UsageError("unexpected argument '\(a.positional[0])'") }

        let trainPath: String, testPath: String
        switch (a.optional("out"), a.optional("train"), a.optional("test")) {
        case (let dir?, nil, nil):
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw UsageError("cannot create --out directory '\(dir)': \(error.localizedDescription)")
            }
            trainPath = (dir as NSString).appendingPathComponent("train.h5")
            testPath = (dir as NSString).appendingPathComponent("test.h5")
        case (nil, let train?, let test?):
            trainPath = train; testPath = test
        default:
            throw UsageError("give either --out DIR or both --train FILE and --test FILE")
        }

        let samples = try a.int("samples", default: 512, min: 1)
        let testSamples = try a.int("test-samples", default: 256, min: 1)
        let classes = try a.int("classes", default: 8, min: 2)
        guard classes <= 65_536 else { throw UsageError("--classes must be <= 65536") }
        let (ah, aw) = try size(a, "audio-size", default: 32)
        let (vh, vw) = try size(a, "visual-size", default: 32)
        let frames = try a.int("frames", default: 1, min: 1)
        let grid = try a.int("grid", default: 4, min: 1)
        let noise = try a.double("noise", default: 1.0, min: 0)
        let seed = UInt64(try a.int("seed", default: 0, min: 0))
        let chunkSamples = try a.int("chunk-samples", default: 1, min: 1)
        let storage: SampleStorage
        switch a.string("audio-dtype", default: "float32") {
        case "float32": storage = .float32
        case "float16": storage = .float16
        case let d: throw UsageError("--audio-dtype must be float32 or float16, got '\(d)'")
        }
        var proportions: [Double]?
        if let s = a.optional("proportions") {
            let parts = s.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 4, parts.allSatisfy({ $0 != nil && $0!.isFinite && $0! >= 0 }), parts.reduce(0, { $0 + $1! }) > 0 else {
                throw UsageError("--proportions expects 4 non-negative numbers r,u-audio,u-visual,s with a positive sum, got '\(s)'")
            }
            proportions = parts.map { $0! }
        }

        var config = SynthDataset.Config(
            classes: classes,
            modalities: [.spectrogram("audio", height: ah, width: aw, storage: storage), .frames("visual", frames: frames, height: vh, width: vw)],
            proportions: proportions, noise: Float(noise), seed: seed, grid: grid)
        config.chunkSamples = chunkSamples
        let start = Date()
        let train = try SynthDataset.generate(to: trainPath, count: samples, split: "train", config: config)
        let test = try SynthDataset.generate(to: testPath, count: testSamples, split: "test", config: config)
        let names = config.modalities.map(\.name)
        func kinds(_ s: SynthDataset.Summary) -> String {
            s.kindCounts.enumerated().map { "\(DataFormat.kindName($0.offset, modalities: names)) \($0.element)" }.joined(separator: ", ")
        }
        print("spice synth: \(classes) classes, audio 1x\(ah)x\(aw) \(storage.rawValue), visual \(frames)x3x\(vh)x\(vw) uint8, "
              + "noise \(noise), seed \(seed)")
        print("  \(trainPath): \(samples) samples (\(kinds(train)))")
        print("  \(testPath): \(testSamples) samples (\(kinds(test)))")
        let bytes = [trainPath, testPath].map { ((try? FileManager.default.attributesOfItem(atPath: $0))?[.size] as? NSNumber)?.intValue ?? 0 }
        print(String(format: "  %.2f s; %@ %.1f MB, %@ %.1f MB; %d sample(s) per chunk", Date().timeIntervalSince(start),
                     trainPath, Double(bytes[0]) / 1e6, testPath, Double(bytes[1]) / 1e6, chunkSamples))
    }

    /// "N" (square) or "HxW", each >= 1.
    static func size(_ a: Arguments, _ name: String, default d: Int) throws -> (Int, Int) {
        guard let s = a.optional(name) else { return (d, d) }
        let parts = s.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        if parts.count == 1, let n = parts[0], n >= 1 { return (n, n) }
        if parts.count == 2, let h = parts[0], let w = parts[1], h >= 1, w >= 1 { return (h, w) }
        throw UsageError("--\(name) expects N or HxW with positive integers, got '\(s)'")
    }
}
