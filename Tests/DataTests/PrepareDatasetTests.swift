import XCTest
import TestSupport
import Foundation
@testable import Data

final class DatasetPrepareTests: TemporaryDirectoryTestCase {
    static let shared = "/work/shared/data"

    /// A short profile so the builder tests stay fast in debug builds: 8 kHz, 0.5 s -> 257 x 12.
    static let quick = AudioProfile.named("ogm-ge", seconds: 0.5, sampleRate: 8000)!

    // MARK: Split lists

    func testCSVQuotesBOMAndLineEnds() {
        XCTAssertEqual(CSV.parse("\u{FEFF}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\nlast,1"),
                       [["a", "b"], ["x, y", "say \"hi\""], ["last", "1"]])
    }

    func testCremaDListForm() throws {
        let l = try SplitList.parse("1041_TIE_NEU_XX,NEU\n1071_MTI_SAD_XX,SAD\n1011_IWL_ANG_XX,ANG\n", name: "test.csv")
        XCTAssertEqual(l.form, .cremaD)
        XCTAssertEqual(l.entries.map(\.id), ["1041_TIE_NEU_XX", "1071_MTI_SAD_XX", "1011_IWL_ANG_XX"])
        XCTAssertEqual(l.classNames(), ["NEU", "HAP", "SAD", "FEA", "DIS", "ANG"])   // OGM-GE/BSS class_dict order
        XCTAssertEqual(try l.labels(classNames: l.classNames()), [0, 2, 5])
    }

    func testIdLabelForms() throws {
        let headed = try SplitList.parse("youtube_id,label,start\nabc,playing drums,3\ndef,\"singing, choir\",0\n", name: "ks.csv")
        XCTAssertEqual(headed.form, .idLabel)
        XCTAssertEqual(headed.entries.map(\.id), ["abc", "def"])
        XCTAssertEqual(headed.classNames(), ["playing drums", "singing, choir"])   // sorted distinct names
        let ints = try SplitList.parse("a,3\nb,0\nc,1\n", name: "ints.csv")
        XCTAssertEqual(ints.form, .idLabel)
        XCTAssertEqual(ints.classNames(), ["0", "1", "2", "3"])
        XCTAssertEqual(try ints.labels(classNames: ints.classNames()), [3, 0, 1])
        XCTAssertThrowsError(try ints.labels(classNames: ["x", "y"])) {
            XCTAssertEqual("\($0)", "ints.csv: line 1: label '3' of 'a' is not one of 2 classes")
        }
        XCTAssertThrowsError(try SplitList.parse("a\n", name: "one.csv")) {
            XCTAssertEqual("\($0)", "one.csv: line 1: expected 'id,label', got 1 field(s)")
        }
        XCTAssertThrowsError(try SplitList.parse("", name: "e.csv")) { XCTAssertEqual("\($0)", "e.csv: empty split list") }
    }

    func testManifestForm() throws {
        let text = "id,label,audio_path,image_path,image_path_2\ns1,cat,a/s1.wav,img/s1_0.png,img/s1_1.png\ns2,dog,/abs/s2.wav,img/s2.jpg,\n"
        let m = try SplitList.parse(text, name: "m.csv", baseDirectory: "/data")
        XCTAssertEqual(m.form, .manifest)
        XCTAssertEqual(m.entries[0].audioPath, "/data/a/s1.wav")
        XCTAssertEqual(m.entries[0].imagePaths, ["/data/img/s1_0.png", "/data/img/s1_1.png"])
        XCTAssertEqual(m.entries[1].audioPath, "/abs/s2.wav")
        XCTAssertEqual(m.entries[1].imagePaths, ["/data/img/s2.jpg"])
        XCTAssertThrowsError(try SplitList.parse("id,label,audio_path\ns1,0,a.wav\n", name: "m.csv")) {
            XCTAssertTrue("\($0)".contains("needs id, label, audio_path and image_path columns"), "\($0)")
        }
        XCTAssertThrowsError(try SplitList.parse("id,label,audio_path,image_path\ns1,0,,x.png\n", name: "m.csv")) {
            XCTAssertEqual("\($0)", "m.csv: line 2: empty audio_path for 's1'")
        }
    }

    func testPickSpreadsFrames() {
        XCTAssertEqual(ManifestBuilder.pick(10, 3), [1, 5, 8])
        XCTAssertEqual(ManifestBuilder.pick(3, 3), [0, 1, 2])
        XCTAssertEqual(ManifestBuilder.pick(5, 1), [2])
        XCTAssertEqual(AVDigits.spread(2700, limit: 4), [0, 675, 1350, 2025])
        XCTAssertEqual(AVDigits.spread(3, limit: 10), [0, 1, 2])
    }

    // MARK: Manifest builds

    /// A tone per class, written as a PCM16 WAV.
    func writeWAV(_ name: String, frequency: Double, rate: Int = 8000, seconds: Double = 0.3, encoding: WAV.Encoding = .pcm16) throws -> String {
        let n = Int(Double(rate) * seconds)
        let x = (0..<n).map { Float(0.5 * sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }
        let p = path(name)
        try WAV.encode(x, sampleRate: rate, encoding: encoding).write(to: URL(fileURLWithPath: p))
        return p
    }

    func copyFixture(_ name: String, to dest: String) throws {
        let d = path(dest)
        try FileManager.default.createDirectory(atPath: (d as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: PrepareFixtures.path(name), toPath: d)
    }

    func testManifestBuildReportsBadInputsByName() throws {
        _ = try writeWAV("s1.wav", frequency: 440)
        _ = try writeWAV("s2.wav", frequency: 880, rate: 16000, encoding: .float32)
        _ = try writeWAV("s4.wav", frequency: 300)
        try "this is not audio".write(toFile: path("a.wav"), atomically: true, encoding: .utf8)
        try copyFixture("rgb.png", to: "img/s1.png")
        try copyFixture("rgb.jpg", to: "img/s2.jpg")
        try copyFixture("grey.png", to: "img/s3.png")
        try copyFixture("rgb.npy", to: "img/s4.npy")
        let manifest = """
        id,label,audio_path,image_path
        s1,0,s1.wav,img/s1.png
        s2,1,s2.wav,img/s2.jpg
        s3,1,a.wav,img/s3.png
        s4,0,s4.wav,img/s4.npy
        s5,0,s1.wav,img/missing.png
        """
        try manifest.write(toFile: path("manifest.csv"), atomically: true, encoding: .utf8)
        let list = try SplitList.read(path: path("manifest.csv"))
        let out = path("out/train.h5")
        var config = ManifestBuilder.Config(profile: Self.quick, imageHeight: 8, imageWidth: 10)

        // Without --skip-bad: every failure named, nothing written.
        XCTAssertThrowsError(try ManifestBuilder.build(list, config: config, out: out)) { e in
            let err = e as? PrepareError
            XCTAssertEqual(err?.failures.map(\.input), [path("a.wav"), path("img/missing.png")])
            XCTAssertEqual(err?.failures.first?.reason, "not a RIFF file")
            XCTAssertTrue("\(e)".hasPrefix("2 inputs failed: \(path("a.wav")) (not a RIFF file), \(path("img/missing.png")) (no such file) of 5; no output written (--skip-bad writes the others)"), "\(e)")
            XCTAssertTrue("\(e)".hasSuffix("of 5; no output written (--skip-bad writes the others)"), "\(e)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + ".tmp"))

        // With it: the three good samples, in order, with the failures in the report.
        config.skipBad = true
        var lines: [String] = []
        let report = try ManifestBuilder.build(list, config: config, out: out, progress: PrepareProgress(every: 2) { lines.append($0) })
        XCTAssertEqual(report.written, 3)
        XCTAssertEqual(report.failures.count, 2)
        XCTAssertFalse(lines.isEmpty)
        XCTAssertTrue(lines.last!.hasPrefix("train.h5: 5/5 ("), lines.last!)
        XCTAssertTrue(lines.last!.hasSuffix(", 2 failed)"), lines.last!)

        let d = try HDF5Dataset(path: out)
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(try d.ids(), ["s1", "s2", "s4"])
        XCTAssertEqual(d.labels, [0, 1, 0])
        XCTAssertEqual(d.classNames, ["0", "1"])
        XCTAssertEqual(d.modalities.map(\.spec.sampleShape), [[1, 257, 12], [1, 3, 8, 10]])
        XCTAssertTrue(d.preprocessing.contains("ogm-ge: resample to 8000 Hz"), d.preprocessing)
        // Stored frames are the decoded image resized; the 16 kHz float WAV was resampled.
        let img = try ImageDecoder.read(path: PrepareFixtures.path("rgb.png"))
        XCTAssertEqual(try d.storedSample(0, modality: 1), FrameResize.frames([img], height: 8, width: 10).map { Float($0) })
        let wav2 = try WAV.read(path: path("s2.wav"))
        XCTAssertEqual(wav2.sampleRate, 16000)
        XCTAssertEqual(try d.storedSample(1, modality: 0), try AudioPipeline(profile: Self.quick).spectrogram(wav2))
    }

    func testCremaDListWithFrameFoldersAndRatings() throws {
        // OGM-GE layout: AudioWAV/<clip>.wav, Image-01-FPS/<clip>/*.jpg; ratings from a per-clip table.
        try FileManager.default.createDirectory(atPath: path("AudioWAV"), withIntermediateDirectories: true)
        let clips = ["1001_IEO_NEU_XX", "1001_IEO_HAP_LO", "1001_DFA_ANG_XX"]
        for (i, c) in clips.enumerated() {
            _ = try writeWAV("AudioWAV/\(c).wav", frequency: 200 + 100 * Double(i))
            for f in 0..<3 { try copyFixture(f == 1 ? "rgb.png" : "grey.png", to: "Image-01-FPS/\(c)/frame_000\(f).png") }
        }
        try "1001_IEO_NEU_XX,NEU\n1001_IEO_HAP_LO,HAP\n1001_DFA_ANG_XX,ANG\n".write(toFile: path("test.csv"), atomically: true, encoding: .utf8)
        let table = try RatingTable.parse(rows: CSV.parse("""
            clip,audio_frac_correct,video_frac_correct
            1001_IEO_NEU_XX,0.9091,1.0
            1001_IEO_HAP_LO,0.3333,0.9
            1001_DFA_ANG_XX,0.25,0.5
            """), name: "ratings.csv")
        let config = ManifestBuilder.Config(profile: Self.quick, imageHeight: 6, imageWidth: 6, frames: 2,
                                            audioDirectory: path("AudioWAV"), imageDirectory: path("Image-01-FPS"), ratings: table)
        let r = try ManifestBuilder.build(SplitList.read(path: path("test.csv")), config: config, out: path("test.h5"))
        XCTAssertEqual(r.written, 3)
        let d = try HDF5Dataset(path: path("test.h5"))
        XCTAssertEqual(d.labels, [0, 1, 5])
        XCTAssertEqual(d.classNames, SplitList.cremaDClasses)
        XCTAssertEqual(d.modalities[1].spec.sampleShape, [2, 3, 6, 6])
        XCTAssertEqual(d.ratings, [0.9091, 1.0, 0.3333, 0.9, 0.25, 0.5])
        // Frames 0 and 2 of 3 (floor((k + 0.5) * 3 / 2) = 0, 2): both grey.png, replicated to RGB.
        let grey = try ImageDecoder.read(path: PrepareFixtures.path("grey.png"))
        let one = FrameResize.frames([grey], height: 6, width: 6)
        XCTAssertEqual(try d.storedSample(2, modality: 1), (one + one).map { Float($0) })
    }

    // MARK: Ratings import

    /// A tiny SPICE file with the given ids (2 modalities, 3 classes).
    func tinyDataset(_ name: String, ids: [String], modalities: [String] = ["audio", "visual"], withRatings: Bool = false) throws -> String {
        let p = path(name)
        let header = DatasetHeader(modalities: [.spectrogram(modalities[0], height: 2, width: 2), .frames(modalities[1], height: 2, width: 2)],
                                   classes: 3, storesIds: true, storesRatings: withRatings)
        let w = try HDF5Writer(path: p, header: header)
        for (i, id) in ids.enumerated() {
            try w.append(label: i % 3, values: [.float([0, 1, 2, 3]), .bytes([UInt8](repeating: 9, count: 12))], id: id,
                         ratings: withRatings ? [0.5, 0.5] : nil)
        }
        try w.finish()
        return p
    }

    func testRatingsImportHandMadeTable() throws {
        let p = try tinyDataset("tiny.h5", ids: ["crema-d:AudioWAV/c1.wav", "c2"], modalities: ["voice", "face"], withRatings: true)
        let table = try RatingTable.parse(rows: CSV.parse("clip,audio_frac_correct,video_frac_correct,extra\nc1,0.1,0.2,0.7\nc2,1,0,0.3\n"),
                                          name: "t.csv")
        // The modality names differ from the table's: they must be mapped.
        XCTAssertThrowsError(try RatingsImport.run(table: table, into: p)) {
            XCTAssertTrue("\($0)".contains("mapping names modality 'audio'"), "\($0)")
        }
        let s = try RatingsImport.run(table: table, into: p, mapping: try XCTUnwrap(RatingMapping.parse("voice=audio,face=extra")))
        XCTAssertTrue(s.replaced)
        XCTAssertEqual(s.columns, ["audio_frac_correct", "extra"])
        XCTAssertEqual(try HDF5Dataset(path: p).ratings, [0.1, 0.7, 1, 0.3])

        // A sample without a row: an error naming it, the file keeps its ratings.
        let bad = try RatingTable.parse(rows: CSV.parse("clip,audio,video\nc1,0.5,0.5\n"), name: "u.csv")
        XCTAssertThrowsError(try RatingsImport.run(table: bad, into: p, mapping: RatingMapping(pairs: [("voice", "audio"), ("face", "video")]))) {
            XCTAssertTrue("\($0)".contains("no ratings written: 1 input failed: c2 (no row for sample 'c2') of 2 (table u.csv)"), "\($0)")
        }
        XCTAssertEqual(try HDF5Dataset(path: p).ratings, [0.1, 0.7, 1, 0.3])
        // Values outside [0, 1] are refused.
        let out = try RatingTable.parse(rows: CSV.parse("clip,audio,video\nc1,0.5,1.5\nc2,0,0\n"), name: "o.csv")
        XCTAssertThrowsError(try RatingsImport.run(table: out, into: p, mapping: RatingMapping(pairs: [("voice", "audio"), ("face", "video")]))) {
            XCTAssertTrue("\($0)".contains("video = '1.5' is not a fraction in [0, 1]"), "\($0)")
        }
        // A file without ids cannot be matched.
        let noIds = path("noids.h5")
        let w = try HDF5Writer(path: noIds, header: DatasetHeader(modalities: [.spectrogram("audio", height: 1, width: 1), .frames("visual", height: 1, width: 1)], classes: 2))
        try w.append(label: 0, values: [.float([0]), .bytes([0, 0, 0])])
        try w.finish()
        XCTAssertThrowsError(try RatingsImport.run(table: table, into: noIds)) {
            XCTAssertTrue("\($0)".contains("stores no sample ids"), "\($0)")
        }
    }

    func testRatingsImportRealCremaDTable() throws {
        let tablePath = Self.shared + "/crema-d/derived_per_clip_correctness.csv"
        guard FileManager.default.fileExists(atPath: tablePath) else {
            throw XCTSkip("\(tablePath) not present: the real-table ratings import needs the shared data folder")
        }
        let table = try RatingTable.read(path: tablePath)
        XCTAssertEqual(table.count, 7442)
        let p = try tinyDataset("crema.h5", ids: ["1001_IEO_NEU_XX", "crema-d:1001_IEO_HAP_LO", "AudioWAV/1001_DFA_ANG_XX.wav"])
        let s = try RatingsImport.run(table: table, into: p)
        XCTAssertFalse(s.replaced)
        XCTAssertEqual(s.columns, ["audio_frac_correct", "video_frac_correct"])
        let r = try XCTUnwrap(HDF5Dataset(path: p).ratings)
        // First two rows of the table: 1001_IEO_NEU_XX audio 10/11, video 9/9; 1001_IEO_HAP_LO audio 3/9, video 9/10.
        XCTAssertEqual(Array(r[0..<4]), [0.9091, 1.0, 0.3333, 0.9])
        let row = try XCTUnwrap(table.row(for: "1001_DFA_ANG_XX"))
        XCTAssertEqual(r[4], Float(row[try table.column(for: "audio")]))
        XCTAssertEqual(r[5], Float(row[try table.column(for: "video")]))
    }

    // MARK: AV-Digits

    func testAVDigitsSlice() throws {
        guard FileManager.default.fileExists(atPath: Self.shared + "/av-digits/pairs.csv") else {
            throw XCTSkip("\(Self.shared) not present: the AV-Digits slice test needs the shared data folder (FSDD, MNIST, pairs.csv)")
        }
        let limit = 40
        let reports = try AVDigits.build(AVDigits.Config(source: Self.shared, limit: limit), outDir: path("avd"))
        XCTAssertEqual(reports.map(\.written), [limit, limit])
        XCTAssertTrue(reports.allSatisfy { $0.failures.isEmpty })
        let pairs = try AVDigits.readPairs(path: Self.shared + "/av-digits/pairs.csv")
        XCTAssertEqual(pairs.filter { $0.split == "train" }.count, 2700)
        XCTAssertEqual(pairs.filter { $0.split == "test" }.count, 300)
        let mnist = try NPYArray.read(path: Self.shared + "/mnist/t10k_images_uint8.npy").uint8()

        for split in ["train", "test"] {
            let d = try HDF5Dataset(path: path("avd/\(split).h5"))
            let rows = pairs.filter { $0.split == split }
            let chosen = AVDigits.spread(rows.count, limit: limit).map { rows[$0] }
            XCTAssertEqual(d.count, limit)
            XCTAssertEqual(d.labels.map(Int.init), chosen.map(\.label))
            XCTAssertEqual(try d.ids(), chosen.map(\.id))
            XCTAssertEqual(Set(d.labels).count, 10, "an evenly spaced slice covers every digit")
            XCTAssertEqual(d.classes, 10)
            XCTAssertEqual(d.classNames, (0..<10).map(String.init))
            XCTAssertEqual(d.modalities.map(\.spec.name), ["audio", "visual"])
            XCTAssertEqual(d.modalities[0].spec.sampleShape, [1, 257, 188])
            XCTAssertEqual(d.modalities[1].spec.sampleShape, [1, 3, 28, 28])
            XCTAssertTrue(d.preprocessing.contains("FSDD 8000 Hz") && d.preprocessing.contains("ogm-ge: resample to 22050 Hz"))
            XCTAssertTrue(d.preprocessing.contains("replicated to 3 channels"))
            if split == "test" {
                // A known sample: the first test pair is FSDD 0_george_0.wav with t10k image 3 (a zero).
                XCTAssertEqual(try d.ids()?.first, "fsdd:0_george_0.wav|mnist:t10k:3")
                XCTAssertEqual(d.labels.first, 0)
                let spec = try d.storedSample(0, modality: 0)
                XCTAssertEqual(spec.count, 257 * 188)
                XCTAssertTrue(spec.allSatisfy { $0.isFinite })
                // The image is stored as is (28 x 28), in all three channels.
                let v = try d.storedSample(0, modality: 1)
                let digit = mnist[(3 * 784)..<(4 * 784)].map { Float($0) }
                XCTAssertEqual(Array(v[0..<784]), digit)
                XCTAssertEqual(Array(v[784..<1568]), digit)
                XCTAssertEqual(Array(v[1568..<2352]), digit)
            }
        }
        let attribution = try String(contentsOfFile: path("avd/ATTRIBUTION.txt"), encoding: .utf8)
        XCTAssertTrue(attribution.contains("CC BY-SA 4.0") && attribution.contains("CC BY-SA 3.0") && attribution.contains("Zohar Jackson"))
    }
}
