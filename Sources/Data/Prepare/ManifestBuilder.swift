import Foundation

/// Builds one SPICE HDF5 file from a split list or manifest (`SplitList`) of audio files (WAV) and
/// image files (PNG, JPEG, uint8 .npy): modalities `audio` (an `AudioProfile` spectrogram) and
/// `visual` (T frames resized to the stored size), labels from the list, ids = the list's ids,
/// optional annotator ratings from a `RatingTable`.
///
/// Media of a list without paths (the CREMA-D and id,label forms) are found by id:
/// audio `<audioDir>/<id>.wav`; images `<imageDir>/<id>/` (a folder of frames, e.g. OGM-GE's
/// `Image-01-FPS/<clip>/`: its PNG/JPEG/.npy files in name order) or else the first existing
/// `<imageDir>/<id>.{png,jpg,jpeg,npy}`. From n candidate images T are taken, evenly spaced:
/// index floor((k + 0.5) * n / T), k = 0 ..< T; fewer than T is a failed input.
public enum ManifestBuilder {
    public struct Config: Sendable {
        public var profile: AudioProfile
        public var imageHeight: Int, imageWidth: Int
        /// Frames per sample; nil = the image count of the first entry (1 for lists without paths).
        public var frames: Int?
        public var audioStorage: SampleStorage
        /// Class names (label strings or indices map to them); nil = `SplitList.classNames()`.
        public var classNames: [String]?
        public var audioDirectory: String?, imageDirectory: String?
        public var ratings: RatingTable?
        public var ratingMapping: RatingMapping
        public var skipBad: Bool

        public init(profile: AudioProfile = .ogmGE, imageHeight: Int = 224, imageWidth: Int = 224, frames: Int? = nil,
                    audioStorage: SampleStorage = .float32, classNames: [String]? = nil, audioDirectory: String? = nil,
                    imageDirectory: String? = nil, ratings: RatingTable? = nil, ratingMapping: RatingMapping = .cremaD,
                    skipBad: Bool = false) {
            self.profile = profile; self.imageHeight = imageHeight; self.imageWidth = imageWidth; self.frames = frames
            self.audioStorage = audioStorage; self.classNames = classNames; self.audioDirectory = audioDirectory
            self.imageDirectory = imageDirectory; self.ratings = ratings; self.ratingMapping = ratingMapping; self.skipBad = skipBad
        }
    }

    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "npy"]

    /// `t` of `n` indices, evenly spaced (segment centres).
    public static func pick(_ n: Int, _ t: Int) -> [Int] {
        (0..<t).map { min(n - 1, Int((Double($0) + 0.5) * Double(n) / Double(t))) }
    }

    /// The audio file and candidate image files of an entry.
    static func media(_ e: SplitEntry, _ c: Config) throws -> (audio: String, images: [String]) {
        if let a = e.audioPath { return (a, e.imagePaths) }
        guard let ad = c.audioDirectory, let id = c.imageDirectory else {
            throw DataError(file: e.id, "the list has no paths: give the audio and image directories")
        }
        let audio = (ad as NSString).appendingPathComponent(e.id + ".wav")
        let folder = (id as NSString).appendingPathComponent(e.id)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder)
                .filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            guard !names.isEmpty else { throw DataError(file: folder, "no PNG, JPEG or .npy images in the folder") }
            return (audio, names.map { (folder as NSString).appendingPathComponent($0) })
        }
        for ext in ["png", "jpg", "jpeg", "npy"] {
            let p = folder + "." + ext
            if FileManager.default.fileExists(atPath: p) { return (audio, [p]) }
        }
        throw DataError(file: folder, "no image folder or \(e.id).png/.jpg/.jpeg/.npy")
    }

    public static func recipe(_ c: Config, frames: Int) -> String {
        "audio: WAV, " + c.profile.recipe + ". visual: \(frames) frame\(frames == 1 ? "" : "s") per sample (evenly spaced over its images), "
            + "decoded to RGB (PNG: libpng, JPEG: libjpeg-turbo, .npy uint8; grey replicated), "
            + "resized to \(c.imageHeight)x\(c.imageWidth) (Pillow-style bilinear, antialiased when shrinking)"
            + (c.ratings != nil ? ". ratings: per-modality fraction of raters who perceived the true class" : "")
    }

    /// Converts every entry of `list` into `out`. Failed inputs are named in the report (with
    /// `skipBad`) or make it throw `PrepareError` with nothing written.
    public static func build(_ list: SplitList, config c: Config, out: String, progress: PrepareProgress = .silent) throws -> PrepareReport {
        guard c.imageHeight >= 1, c.imageWidth >= 1 else { throw DataError(file: out, "image size must be positive") }
        let names = list.classNames(given: c.classNames)
        guard names.count >= 2 else { throw DataError(file: list.name, "need at least 2 classes, got \(names)") }
        let labels = try list.labels(classNames: names)
        let entries = list.entries
        let frames: Int
        if let f = c.frames {
            guard f >= 1 else { throw DataError(file: out, "frames must be >= 1") }
            frames = f
        } else {
            frames = max(1, entries[0].imagePaths.count)
        }
        var ratingColumns: [Int]?
        if let t = c.ratings { ratingColumns = try c.ratingMapping.columns(for: ["audio", "visual"], table: t) }
        let header = DatasetHeader(modalities: [c.profile.spec(name: "audio", storage: c.audioStorage),
                                                .frames("visual", frames: frames, height: c.imageHeight, width: c.imageWidth)],
                                   classes: names.count, classNames: names, preprocessing: recipe(c, frames: frames),
                                   storesIds: true, storesRatings: c.ratings != nil)
        let dir = (out as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let writer = try HDF5Writer(path: out, header: header)
        let pipeline = AudioPipeline(profile: c.profile)
        let cols = ratingColumns
        return try PrepareRunner.run(count: entries.count, writer: writer, what: (out as NSString).lastPathComponent,
                                     skipBad: c.skipBad, progress: progress) { k in
            let e = entries[k]
            var current = e.id
            do {
                var ratings: [Float]?
                if let t = c.ratings, let cols { ratings = try t.ratings(for: e.id, columns: cols) }
                let (audioPath, candidates) = try media(e, c)
                current = audioPath
                let spec = try pipeline.spectrogram(WAV.read(path: audioPath), name: audioPath)
                guard candidates.count >= frames else {
                    throw DataError(file: e.id, "\(candidates.count) image(s), need \(frames) frames")
                }
                var images: [Image8] = []
                for i in pick(candidates.count, frames) {
                    current = candidates[i]
                    images.append(try ImageDecoder.read(path: candidates[i]))
                }
                let px = FrameResize.frames(images, height: c.imageHeight, width: c.imageWidth)
                return .sample(label: labels[k], values: [.float(spec), .bytes(px)], id: e.id, ratings: ratings)
            } catch {
                return .failure(PrepareFailure(input: current, error: error))
            }
        }
    }
}
