import Foundation
import Data

/// `spice prepare`: converts real data into the SPICE HDF5 format (docs/prepare.md).
enum PrepareCommand {
    static let help = """
    usage: spice prepare <what> [options]

    Converts real data into SPICE HDF5 files (docs/prepare.md, docs/data-format.md).

      av-digits   FSDD spoken digits + MNIST images, paired by av-digits/pairs.csv -> DIR/train.h5, DIR/test.h5
      manifest    a manifest or split list of WAV + PNG/JPEG/.npy files -> one .h5 file
      ratings     write per-clip annotator ratings (CREMA-D table) into an existing .h5 file

    `spice prepare <what> --help` lists its options.
    """

    static let audioOptionsHelp = """
      --audio-profile P     ogm-ge (22050 Hz, 3 s -> 1x257x188; default) or bss (22050 Hz, 20 s -> 1x257x1250)
      --audio-seconds S     override the profile's duration (the clip is repeated/cropped to it)
      --audio-rate HZ       override the profile's sample rate (input is resampled to it)
      --stft-pad MODE       reflect (default; librosa < 0.10, torch.stft) or constant (zeros; librosa >= 0.10)
      --audio-dtype D       float32 (default) or float16 storage
    """

    static let commonHelp = """
      --skip-bad            write the good samples when some inputs fail (default: fail, write nothing)
      --progress N          a progress line on stderr every N samples (default 500; 0 = none)
    """

    static let avDigitsHelp = """
    usage: spice prepare av-digits --source DIR --out DIR [options]

    Builds DIR/train.h5 (2700 pairs) and DIR/test.h5 (300 pairs) from the shared data folder:
    audio = the FSDD clip's log spectrogram (8 kHz resampled to the profile's rate), visual = the
    paired MNIST digit (grey replicated to 3 channels), label = the digit, id =
    "fsdd:<file>|mnist:<train5k|t10k>:<index>". Writes DIR/ATTRIBUTION.txt (CC BY-SA sources).

      --source DIR          the shared data folder (fsdd/, mnist/, av-digits/pairs.csv)
      --out DIR             output folder (created)
      --image-size N        stored frame size N x N (default 28 = MNIST's own; bilinear resize otherwise)
      --limit N             only N pairs per split, evenly spaced over pairs.csv (every digit appears)
      --planted             planted interaction structure (stores a per-sample kind): 40% redundant pairs,
                            20% unique-audio (image of a random pair), 20% unique-visual (clip of a random
                            pair), 20% synergistic (label = (audio digit + image digit) mod 10)
      --planted-proportions R,UA,UV,S   the four kind weights (default 0.4,0.2,0.2,0.2; implies --planted)
      --planted-seed N      seed of the kind assignment and partners (default 0)

    """ + audioOptionsHelp + "\n" + commonHelp

    static let manifestHelp = """
    usage: spice prepare manifest (--manifest FILE | --list FILE --audio-dir DIR --image-dir DIR) --out FILE.h5 [options]

    Converts WAV audio and PNG/JPEG/.npy images into one SPICE HDF5 file (modalities audio, visual).
    A manifest is a CSV with header id,label,audio_path,image_path[,image_path_2,...] (relative paths
    are relative to the manifest). A split list is CREMA-D's `clip,EMO` rows (OGM-GE/BSS train.csv)
    or `id,label` rows; its media are <audio-dir>/<id>.wav and <image-dir>/<id>/ (a folder of frames)
    or <image-dir>/<id>.png|jpg|jpeg|npy. Bad inputs are listed by name.

      --manifest FILE       a manifest with paths
      --list FILE           a split list without paths (with --audio-dir and --image-dir)
      --audio-dir DIR       folder of <id>.wav
      --image-dir DIR       folder of <id>/ frame folders or <id>.<ext> images
      --out FILE            the .h5 file to write
      --image-size S        stored frame size, N or HxW (default 224)
      --frames T            frames per sample, evenly spaced over the sample's images (default: 1 for
                            lists, the number of image paths of the first manifest row)
      --classes A,B,...     class names in label order (default: CREMA-D order NEU,HAP,SAD,FEA,DIS,ANG for
                            CREMA-D lists; 0..max for integer labels; else sorted label names)
      --ratings TABLE       also store annotator ratings from a per-clip table (e.g. derived_per_clip_correctness.csv)
      --rating-columns MAP  modality=column pairs (default audio=audio,visual=video -> *_frac_correct)

    """ + audioOptionsHelp + "\n" + commonHelp

    static let ratingsHelp = """
    usage: spice prepare ratings --table FILE --into DATASET.h5 [--modalities MAP] [--key COLUMN]

    Writes the `ratings` dataset (float32 [N, M]: per modality, the fraction of raters who perceived
    the true class) of an existing SPICE file from a per-clip table such as CREMA-D's
    crema-d/derived_per_clip_correctness.csv, matched by sample id (the id itself, or its last
    path component without prefix and extension). Every sample needs a row; an existing `ratings`
    dataset is replaced. The file is edited in place.

      --table FILE          the rating table (CSV with a key column)
      --into FILE           the SPICE .h5 file (must store ids)
      --modalities MAP      modality=column pairs, column X or X_frac_correct (default audio=audio,visual=video)
      --key COLUMN          the table's clip-name column (default clip)
    """

    static func run(_ argv: [String]) throws {
        guard let what = argv.first, !what.hasPrefix("-") else {
            if argv.contains("--help") || argv.contains("-h") || argv.isEmpty { print(help); return }
            throw UsageError("prepare needs a subcommand: av-digits, manifest or ratings\n\n\(help)")
        }
        let rest = Array(argv.dropFirst())
        switch what {
        case "av-digits": try avDigits(rest)
        case "manifest": try manifest(rest)
        case "ratings": try ratings(rest)
        case "help": print(help)
        default: throw UsageError("unknown prepare subcommand '\(what)' (av-digits, manifest, ratings)")
        }
    }

    static let audioOptions: Set<String> = ["audio-profile", "audio-seconds", "audio-rate", "stft-pad", "audio-dtype"]
    static let commonOptions: Set<String> = ["progress"]

    static func profile(_ a: Arguments) throws -> AudioProfile {
        let name = a.string("audio-profile", default: "ogm-ge")
        var seconds: Double?, rate: Int?, pad: STFT.Padding?
        if a.optional("audio-seconds") != nil { seconds = try a.double("audio-seconds", default: 3, min: 0.001) }
        if a.optional("audio-rate") != nil { rate = try a.int("audio-rate", default: 22050, min: 1) }
        if let p = a.optional("stft-pad") {
            guard let v = STFT.Padding(rawValue: p) else { throw UsageError("--stft-pad must be reflect or constant, got '\(p)'") }
            pad = v
        }
        guard let prof = AudioProfile.named(name, seconds: seconds, sampleRate: rate, padding: pad) else {
            throw UsageError("--audio-profile must be one of \(AudioProfile.names.joined(separator: ", ")), got '\(name)'")
        }
        guard prof.frames >= 1 else { throw UsageError("the audio profile gives no STFT frames") }
        return prof
    }

    static func storage(_ a: Arguments) throws -> SampleStorage {
        switch a.string("audio-dtype", default: "float32") {
        case "float32": return .float32
        case "float16": return .float16
        case let d: throw UsageError("--audio-dtype must be float32 or float16, got '\(d)'")
        }
    }

    static func progress(_ a: Arguments) throws -> PrepareProgress {
        let every = try a.int("progress", default: 500, min: 0)
        return PrepareProgress(every: every) { line in
            FileHandle.standardError.write(("spice prepare: " + line + "\n").data(using: .utf8)!)
        }
    }

    static func printReport(_ r: PrepareReport, size: String) {
        let rate = Double(r.written + r.failures.count) / max(r.seconds, 1e-9)
        print(String(format: "  %@: %d samples, %@ (%.1f s, %.0f samples/s)", r.path, r.written, size, r.seconds, rate))
        if !r.failures.isEmpty { printError(PrepareReport.summarize(r.failures, skipped: true)) }
    }

    static func avDigits(_ argv: [String]) throws {
        let a = try Arguments(argv, options: audioOptions.union(commonOptions).union(["source", "out", "image-size", "limit",
                                                                                            "planted-proportions", "planted-seed"]),
                              switches: ["help", "skip-bad", "planted"])
        if a.has("help") { print(avDigitsHelp); return }
        guard a.positional.isEmpty else { throw UsageError("unexpected argument '\(a.positional[0])'") }
        guard let source = a.optional("source") else { throw UsageError("--source DIR (the shared data folder) is required") }
        guard let out = a.optional("out") else { throw UsageError("--out DIR is required") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDir), isDir.boolValue else {
            throw UsageError("--source '\(source)' is not a directory")
        }
        let prof = try profile(a)
        let size = try a.int("image-size", default: 28, min: 1)
        let limit = a.optional("limit") != nil ? try a.int("limit", default: 0, min: 1) : nil
        var planted: AVDigits.Planted?
        if a.has("planted") || a.optional("planted-proportions") != nil || a.optional("planted-seed") != nil {
            var p = AVDigits.Planted(seed: UInt64(try a.int("planted-seed", default: 0, min: 0)))
            if let text = a.optional("planted-proportions") {
                let v = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard v.count == 4, v.allSatisfy({ $0 != nil && $0! >= 0 && $0!.isFinite }), v.reduce(0.0, { $0 + $1! }) > 0 else {
                    throw UsageError("--planted-proportions expects 4 non-negative numbers with a positive sum "
                                     + "(redundant,unique-audio,unique-visual,synergistic), got '\(text)'")
                }
                p.proportions = v.map { $0! }
            }
            planted = p
        }
        let config = AVDigits.Config(source: source, profile: prof, imageSize: size, audioStorage: try storage(a),
                                     limit: limit, skipBad: a.has("skip-bad"), planted: planted)
        let reports = try AVDigits.build(config, outDir: out, progress: try progress(a))
        print("spice prepare av-digits: audio 1x\(prof.bins)x\(prof.frames) \(config.audioStorage.rawValue) (\(prof.name)), "
              + "visual 1x3x\(size)x\(size) uint8, 10 classes")
        for r in reports { printReport(r, size: fileSize(r.path)) }
        print("  \((out as NSString).appendingPathComponent("ATTRIBUTION.txt")): licences and attribution (CC BY-SA)")
    }

    static func manifest(_ argv: [String]) throws {
        let a = try Arguments(argv, options: audioOptions.union(commonOptions).union(
            ["manifest", "list", "audio-dir", "image-dir", "out", "image-size", "frames", "classes", "ratings", "rating-columns"]),
                              switches: ["help", "skip-bad"])
        if a.has("help") { print(manifestHelp); return }
        guard a.positional.isEmpty else { throw UsageError("unexpected argument '\(a.positional[0])'") }
        guard let out = a.optional("out") else { throw UsageError("--out FILE.h5 is required") }
        let list: SplitList
        switch (a.optional("manifest"), a.optional("list")) {
        case (let m?, nil):
            list = try SplitList.read(path: m)
            guard list.form == .manifest else {
                throw UsageError("'\(m)' has no audio_path/image_path columns; use --list with --audio-dir and --image-dir")
            }
        case (nil, let l?):
            guard a.optional("audio-dir") != nil, a.optional("image-dir") != nil else {
                throw UsageError("--list needs --audio-dir and --image-dir")
            }
            list = try SplitList.read(path: l)
        default:
            throw UsageError("give either --manifest FILE or --list FILE")
        }
        let (h, w) = try SynthCommand.size(a, "image-size", default: 224)
        var config = ManifestBuilder.Config(profile: try profile(a), imageHeight: h, imageWidth: w, audioStorage: try storage(a),
                                            audioDirectory: a.optional("audio-dir"), imageDirectory: a.optional("image-dir"),
                                            skipBad: a.has("skip-bad"))
        if a.optional("frames") != nil { config.frames = try a.int("frames", default: 1, min: 1) }
        if let c = a.optional("classes") {
            let names = c.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard names.count >= 2, !names.contains("") else { throw UsageError("--classes needs at least 2 comma-separated names") }
            config.classNames = names
        }
        if let t = a.optional("ratings") {
            config.ratings = try RatingTable.read(path: t)
            if let m = a.optional("rating-columns") {
                guard let map = RatingMapping.parse(m) else { throw UsageError("--rating-columns expects modality=column pairs, got '\(m)'") }
                config.ratingMapping = map
            }
        } else if a.optional("rating-columns") != nil {
            throw UsageError("--rating-columns needs --ratings TABLE")
        }
        let r = try ManifestBuilder.build(list, config: config, out: out, progress: try progress(a))
        let names = list.classNames(given: config.classNames)
        print("spice prepare manifest: \(list.entries.count) \(list.form.rawValue) entries, \(names.count) classes, "
              + "audio 1x\(config.profile.bins)x\(config.profile.frames) (\(config.profile.name)), visual \(h)x\(w)")
        printReport(r, size: fileSize(r.path))
    }

    static func ratings(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["table", "into", "modalities", "key"], switches: ["help"])
        if a.has("help") { print(ratingsHelp); return }
        guard a.positional.isEmpty else { throw UsageError("unexpected argument '\(a.positional[0])'") }
        guard let table = a.optional("table"), let into = a.optional("into") else { throw UsageError("--table FILE and --into FILE.h5 are required") }
        var mapping = RatingMapping.cremaD
        if let m = a.optional("modalities") {
            guard let map = RatingMapping.parse(m) else { throw UsageError("--modalities expects modality=column pairs, got '\(m)'") }
            mapping = map
        }
        let t = try RatingTable.read(path: table, keyColumn: a.string("key", default: "clip"))
        let s = try RatingsImport.run(table: t, into: into, mapping: mapping)
        let cols = zip(s.modalities, zip(s.columns, s.means)).map { "\($0.0) <- \($0.1.0) (mean \(String(format: "%.3f", $0.1.1)))" }
        print("spice prepare ratings: \(into): \(s.replaced ? "replaced" : "wrote") ratings [\(s.samples), \(s.modalities.count)]: "
              + cols.joined(separator: ", "))
    }

    static func fileSize(_ path: String) -> String {
        guard let n = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else { return "?" }
        let mb = n.doubleValue / 1_048_576
        return mb >= 1 ? String(format: "%.1f MB", mb) : String(format: "%.0f KB", n.doubleValue / 1024)
    }
}
