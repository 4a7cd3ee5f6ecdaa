import Foundation
import Tensor

/// Generated datasets with planted interaction structure, written in the SPICE HDF5 format.
///
/// Every class c has, per modality, a smooth random pattern P_m[c] (a `grid` x `grid` random field
/// per channel, bilinearly upsampled to H x W, scaled to unit RMS; the same for every frame).
/// Each modality m of a sample shows the pattern of some class a_m ("its code"):
///
///     spectrogram = s * P_m[a_m] + noise * N(0, 1)                              (float)
///     frames      = clamp(round(128 + 32 * (s * P_m[a_m] + noise * N(0, 1))))    (uint8, per frame)
///
/// with a per-sample, per-modality strength s ~ U(0.5, 1). The sample's kind decides the codes:
///  - redundant (kind 0): a_m = label for every m — any modality alone recovers the label;
///  - unique to m (kind 1+m): a_m = label, the other modalities' codes are uniform over all
///    classes, independent of the label — only modality m carries it;
///  - synergistic (kind M+1): a_0..a_{M-2} uniform, a_{M-1} = (label - sum of the others) mod C:
///    each code alone is uniform and independent of the label, all together give
///    label = (sum_m a_m) mod C.
/// Every modality shows one class pattern whatever the kind, so no single modality reveals the kind.
///
/// Labels are balanced within each kind; kinds are assigned in exact proportions (largest
/// remainder) to a seeded permutation of the samples. Sample i is generated from its own seeded
/// stream and written immediately, so any size streams in constant memory. Train and test files
/// from the same seed share the class patterns (the split name only changes the samples).
/// Simulated annotator ratings: per modality the fraction of `raters` raters who perceive the
/// true class, each with probability 0.9 if the modality shows the label's pattern, else 1/C.
public enum SynthDataset {
    public struct Config: Sendable {
        public var classes: Int
        public var modalities: [ModalitySpec]
        /// M + 2 weights: redundant, unique to modality 0 ... M-1, synergistic (normalised);
        /// nil = `defaultProportions`.
        public var proportions: [Double]?
        public var noise: Float
        public var seed: UInt64
        /// Resolution of the random field behind each class pattern (per side).
        public var grid: Int
        public var raters: Int
        /// Samples per HDF5 chunk of the modality datasets (the format's default is 1).
        public var chunkSamples: Int = 1

        public init(classes: Int = 8,
                    modalities: [ModalitySpec] = [.spectrogram("audio", height: 32, width: 32), .frames("visual", frames: 1, height: 32, width: 32)],
                    proportions: [Double]? = nil, noise: Float = 1.0, seed: UInt64 = 0, grid: Int = 4, raters: Int = 10) {
            self.classes = classes; self.modalities = modalities; self.proportions = proportions
            self.noise = noise; self.seed = seed; self.grid = grid; self.raters = raters
        }

        /// The normalised M + 2 proportions in use.
        public var resolvedProportions: [Double] {
            let p = proportions ?? SynthDataset.defaultProportions(modalities: modalities.count)
            let total = p.reduce(0, +)
            return p.map { $0 / total }
        }
    }

    /// 40% redundant, 20% synergistic, 40% unique split evenly over the modalities
    /// (M = 2: 0.4, 0.2, 0.2, 0.2).
    public static func defaultProportions(modalities m: Int) -> [Double] {
        [0.4] + [Double](repeating: 0.4 / Double(m), count: m) + [0.2]
    }

    public struct Summary: Sendable, Equatable {
        public let count: Int
        /// Samples per kind code (0 redundant, 1+m unique to m, M+1 synergistic).
        public let kindCounts: [Int]
    }

    /// Frames store 128 + 32 * value.
    public static let frameOffset: Float = 128, frameScale: Float = 32

    /// Writes `count` samples of split `split` ("train", "test", ...; also the id prefix) to `path`.
    @discardableResult
    public static func generate(to path: String, count: Int, split: String = "train", config: Config) throws -> Summary {
        try validate(config, count: count, path: path)
        let M = config.modalities.count, C = config.classes
        let props = config.resolvedProportions
        let kindCounts = apportion(count, props)
        let splitStream = fnv1a(split)

        // Labels and kinds (N bytes + N ints; the samples themselves are never all in memory).
        var assign = SeededRandom(seed: config.seed, stream: 0x4B49_4E44, splitStream)
        let order = assign.permutation(count)
        var kinds = [UInt8](repeating: 0, count: count), labels = [Int32](repeating: 0, count: count)
        var j = 0
        for (k, n) in kindCounts.enumerated() {
            for r in 0..<n { kinds[order[j]] = UInt8(k); labels[order[j]] = Int32(r % C); j += 1 }
        }

        let banks = config.modalities.indices.map { PatternBank(config: config, modality: $0) }
        let propsText = props.map { String(format: "%.4g", $0) }.joined(separator: ",")
        var header = DatasetHeader(
            modalities: config.modalities, classes: C, classNames: (0..<C).map { "class-\($0)" },
            preprocessing: "synth v1: planted interactions (kinds: 0 redundant, 1+m unique to modality m, \(M + 1) synergistic); "
                + "split=\(split) seed=\(config.seed) classes=\(C) proportions=\(propsText) noise=\(config.noise) grid=\(config.grid); "
                + "spectrogram = s*P[code] + noise*N(0,1); frames = clamp(round(128 + 32*(s*P[code] + noise*N(0,1)))), s ~ U(0.5,1)",
            storesIds: true, storesKinds: true, storesRatings: true)
        header.chunkSamples = config.chunkSamples
        let writer = try HDF5Writer(path: path, header: header)
        var floats = config.modalities.map { [Float](repeating: 0, count: $0.kind == .spectrogram ? $0.sampleCount : 0) }
        var bytes = config.modalities.map { [UInt8](repeating: 0, count: $0.kind == .frames ? $0.sampleCount : 0) }
        var pattern = [Float](repeating: 0, count: config.modalities.map { $0.channels * $0.height * $0.width }.max()!)
        let width = String(count - 1).count

        for i in 0..<count {
            var rng = SeededRandom(seed: config.seed, stream: 0x5341_4D50, splitStream, UInt64(i))
            let label = Int(labels[i]), kind = Int(kinds[i])
            let codes = self.codes(kind: kind, label: label, modalities: M, classes: C, rng: &rng)
            var values: [SampleValues] = []
            var ratings: [Float] = []
            for (m, spec) in config.modalities.enumerated() {
                let strength = 0.5 + 0.5 * rng.uniform()
                let plane = spec.channels * spec.height * spec.width
                pattern.withUnsafeMutableBufferPointer { banks[m].render(class: codes[m], into: $0.baseAddress!) }
                if spec.kind == .spectrogram {
                    for q in 0..<plane { floats[m][q] = strength * pattern[q] + config.noise * rng.normal() }
                    values.append(.float(floats[m]))
                } else {
                    for t in 0..<spec.frames {
                        for q in 0..<plane {
                            let v = frameOffset + frameScale * (strength * pattern[q] + config.noise * rng.normal())
                            bytes[m][t * plane + q] = UInt8(min(255, max(0, v.rounded())))
                        }
                    }
                    values.append(.bytes(bytes[m]))
                }
                let p: Float = codes[m] == label ? 0.9 : 1 / Float(C)
                var perceived = 0
                for _ in 0..<config.raters where rng.uniform() < p { perceived += 1 }
                ratings.append(Float(perceived) / Float(config.raters))
            }
            let id = split + "-" + String(repeating: "0", count: width - String(i).count) + String(i)
            try writer.append(label: label, values: values, id: id, kind: UInt8(kind), ratings: ratings)
        }
        try writer.finish()
        return Summary(count: count, kindCounts: kindCounts)
    }

    /// The class patterns of modality `m` (per class: channels x H x W, unit RMS; frames show
    /// the same pattern in every frame), for analysis and tests. Allocates classes x C x H x W floats.
    public static func patterns(config: Config, modality m: Int) -> [[Float]] {
        let bank = PatternBank(config: config, modality: m)
        let s = config.modalities[m]
        return (0..<config.classes).map { c in
            var p = [Float](repeating: 0, count: s.channels * s.height * s.width)
            p.withUnsafeMutableBufferPointer { bank.render(class: c, into: $0.baseAddress!) }
            return p
        }
    }

    /// Per-modality codes of a sample of kind `kind` (see the type's documentation).
    static func codes(kind: Int, label: Int, modalities M: Int, classes C: Int, rng: inout SeededRandom) -> [Int] {
        if kind == 0 { return [Int](repeating: label, count: M) }
        if kind <= M {
            return (0..<M).map { $0 == kind - 1 ? label : rng.below(C) }
        }
        var codes = (0..<(M - 1)).map { _ in rng.below(C) }
        let partial = codes.reduce(0, +) % C
        codes.append(((label - partial) % C + C) % C)
        return codes
    }

    /// Splits n into integer counts proportional to `weights` (largest remainder, ties to the first).
    static func apportion(_ n: Int, _ weights: [Double]) -> [Int] {
        let exact = weights.map { $0 * Double(n) }
        var counts = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(counts[$0]), -$0) > (exact[$1] - Double(counts[$1]), -$1) }
        var left = n - counts.reduce(0, +), k = 0
        while left > 0 { counts[order[k % order.count]] += 1; left -= 1; k += 1 }
        return counts
    }

    static func validate(_ c: Config, count: Int, path: String) throws {
        func bad(_ m: String) -> DataError { DataError(file: path, "synth: " + m) }
        let M = c.modalities.count
        guard count >= 1 else { throw bad("need at least one sample") }
        guard c.classes >= 2 && c.classes <= 65_536 else { throw bad("classes must be in 2...65536") }
        guard M >= 2 && M <= 253 else { throw bad("need 2...253 modalities, got \(M)") }
        let p = c.resolvedProportions
        guard p.count == M + 2, (c.proportions ?? []).allSatisfy({ $0 >= 0 && $0.isFinite }), p.allSatisfy({ $0.isFinite }) else {
            throw bad("proportions need \(M + 2) non-negative numbers (redundant, unique per modality, synergistic) with a positive sum")
        }
        guard c.noise >= 0 && c.noise.isFinite else { throw bad("noise must be >= 0") }
        guard c.grid >= 1 else { throw bad("grid must be >= 1") }
        guard c.raters >= 1 else { throw bad("raters must be >= 1") }
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    /// Coarse random fields per class, rendered on demand (classes x H x W would not fit for
    /// hundreds of classes at 256 x 256), with the per-class factor that gives unit RMS.
    struct PatternBank {
        let channels: Int, height: Int, width: Int, gh: Int, gw: Int
        let coarse: [[Float]]        // per class: channels x gh x gw
        var scale: [Float]           // per class
        let rowLo: [Int], rowFrac: [Float], colLo: [Int], colFrac: [Float]

        init(config: Config, modality m: Int) {
            let s = config.modalities[m]
            channels = s.channels; height = s.height; width = s.width
            gh = min(config.grid, height); gw = min(config.grid, width)
            let (ch, cw) = (channels, gh * gw)
            coarse = (0..<config.classes).map { c in
                var rng = SeededRandom(seed: config.seed, stream: 0x5041_5454, UInt64(m), UInt64(c))
                return (0..<(ch * cw)).map { _ in rng.normal() }
            }
            // align_corners=True taps: the coarse grid's corners land on the image's corners.
            func taps(_ n: Int, _ g: Int) -> ([Int], [Float]) {
                var lo = [Int](repeating: 0, count: n), fr = [Float](repeating: 0, count: n)
                for o in 0..<n {
                    let src = n > 1 && g > 1 ? Double(o) * Double(g - 1) / Double(n - 1) : 0
                    let i0 = min(Int(src), max(g - 2, 0))
                    lo[o] = i0; fr[o] = g > 1 ? Float(src - Double(i0)) : 0
                }
                return (lo, fr)
            }
            (rowLo, rowFrac) = taps(height, gh)
            (colLo, colFrac) = taps(width, gw)
            scale = [Float](repeating: 1, count: config.classes)
            var tmp = [Float](repeating: 0, count: channels * height * width)
            for c in 0..<config.classes {
                tmp.withUnsafeMutableBufferPointer { render(class: c, into: $0.baseAddress!) }
                let rms = (tmp.reduce(0) { $0 + Double($1) * Double($1) } / Double(tmp.count)).squareRoot()
                scale[c] = rms > 0 ? Float(1 / rms) : 1
            }
        }

        func render(class c: Int, into out: UnsafeMutablePointer<Float>) {
            let g = coarse[c], k = scale[c]
            for ch in 0..<channels {
                let base = ch * gh * gw
                for y in 0..<height {
                    let y0 = rowLo[y], y1 = min(y0 + 1, gh - 1), wy = rowFrac[y]
                    for x in 0..<width {
                        let x0 = colLo[x], x1 = min(x0 + 1, gw - 1), wx = colFrac[x]
                        let a = g[base + y0 * gw + x0], b = g[base + y0 * gw + x1]
                        let c2 = g[base + y1 * gw + x0], d = g[base + y1 * gw + x1]
                        let top = a + (b - a) * wx, bottom = c2 + (d - c2) * wx
                        out[(ch * height + y) * width + x] = k * (top + (bottom - top) * wy)
                    }
                }
            }
        }
    }
}
