import CHDF5
import Foundation

/// A per-clip rating table such as CREMA-D's `derived_per_clip_correctness.csv`: one row per clip
/// (key column `clip`), numeric columns such as `audio_frac_correct` / `video_frac_correct`
/// (the fraction of the voice-only / face-only raters who chose the intended emotion).
public struct RatingTable: Sendable {
    public let name: String
    public let keyColumn: String
    public let columns: [String]
    let rows: [String: [String]]

    public var count: Int { rows.count }

    public static func read(path: String, keyColumn: String = "clip") throws -> RatingTable {
        try parse(rows: CSV.read(path: path), name: path, keyColumn: keyColumn)
    }

    public static func parse(rows csv: [[String]], name: String, keyColumn: String = "clip") throws -> RatingTable {
        guard let header = csv.first else { throw DataError(file: name, "empty rating table") }
        guard let key = header.firstIndex(of: keyColumn) else {
            throw DataError(file: name, "no '\(keyColumn)' column in header \(header.prefix(8).joined(separator: ","))...")
        }
        var rows: [String: [String]] = [:]
        for (r, row) in csv.enumerated().dropFirst() {
            guard row.count == header.count else { throw DataError(file: name, "line \(r + 1): \(row.count) fields, the header has \(header.count)") }
            guard rows.updateValue(row, forKey: row[key]) == nil else { throw DataError(file: name, "line \(r + 1): clip '\(row[key])' listed twice") }
        }
        return RatingTable(name: name, keyColumn: keyColumn, columns: header, rows: rows)
    }

    /// The table column a modality's rating comes from: `source` itself when it is a column,
    /// else `<source>_frac_correct` (so "audio" -> audio_frac_correct, "video" -> video_frac_correct).
    public func column(for source: String) throws -> Int {
        if let i = columns.firstIndex(of: source) { return i }
        if let i = columns.firstIndex(of: source + "_frac_correct") { return i }
        throw DataError(file: name, "no column '\(source)' or '\(source)_frac_correct'")
    }

    /// The row for a sample id: the id itself, else the id with any "prefix:" and directories
    /// and a file extension removed ("crema-d:AudioWAV/1001_DFA_ANG_XX.wav" -> "1001_DFA_ANG_XX").
    public func row(for id: String) -> [String]? {
        if let r = rows[id] { return r }
        var s = Substring(id)
        if let colon = s.lastIndex(of: ":") { s = s[s.index(after: colon)...] }
        if let slash = s.lastIndex(of: "/") { s = s[s.index(after: slash)...] }
        if let dot = s.lastIndex(of: "."), dot != s.startIndex { s = s[..<dot] }
        return rows[String(s)]
    }

    /// Ratings of one sample for the given columns, each a finite value in [0, 1]; throws naming
    /// the sample when it is missing or a value is out of range.
    public func ratings(for id: String, columns cols: [Int]) throws -> [Float] {
        guard let r = row(for: id) else { throw DataError(file: name, "no row for sample '\(id)'") }
        return try cols.map { c in
            guard let v = Float(r[c].trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0, v <= 1 else {
                throw DataError(file: name, "clip '\(r[columns.firstIndex(of: keyColumn)!])': \(columns[c]) = '\(r[c])' is not a fraction in [0, 1]")
            }
            return v
        }
    }
}

/// `modality=source` pairs, e.g. "audio=audio,visual=video".
public struct RatingMapping: Sendable, Equatable {
    public var pairs: [(modality: String, source: String)]
    public init(pairs: [(modality: String, source: String)]) { self.pairs = pairs }
    public static func == (a: RatingMapping, b: RatingMapping) -> Bool {
        a.pairs.map { "\($0.modality)=\($0.source)" } == b.pairs.map { "\($0.modality)=\($0.source)" }
    }

    /// CREMA-D's: audio from the voice-only ratings, visual from the face-only ones.
    public static let cremaD = RatingMapping(pairs: [("audio", "audio"), ("visual", "video")])

    public static func parse(_ s: String) -> RatingMapping? {
        var out: [(String, String)] = []
        for part in s.split(separator: ",") {
            let kv = part.split(separator: "=", omittingEmptySubsequences: false)
            guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else { return nil }
            out.append((String(kv[0]).trimmingCharacters(in: .whitespaces), String(kv[1]).trimmingCharacters(in: .whitespaces)))
        }
        return out.isEmpty ? nil : RatingMapping(pairs: out)
    }

    /// The table column per dataset modality, in `modalities` order; every modality must be mapped
    /// (a modality named like a table source, e.g. "audio", maps to itself when not listed).
    public func columns(for modalities: [String], table: RatingTable) throws -> [Int] {
        let known = Set(modalities)
        for p in pairs where !known.contains(p.modality) {
            throw DataError(file: table.name, "mapping names modality '\(p.modality)', the dataset has \(modalities)")
        }
        return try modalities.map { m in
            let source = pairs.first(where: { $0.modality == m })?.source ?? m
            do {
                return try table.column(for: source)
            } catch {
                throw DataError(file: table.name, "modality '\(m)' has no rating column (tried '\(source)' and '\(source)_frac_correct'); "
                                + "map it with modality=column")
            }
        }
    }
}

/// Writes annotator ratings into an existing SPICE HDF5 file (the `ratings` dataset, float32
/// [N, M], columns in `modalities` order), looked up by each sample's id.
public enum RatingsImport {
    public struct Summary: Sendable {
        public var samples: Int
        public var modalities: [String]
        public var columns: [String]
        public var replaced: Bool
        /// Mean rating per modality.
        public var means: [Float]
    }

    /// Every sample must have a row (by `RatingTable.row(for:)`); otherwise nothing is written and the
    /// error lists the missing ids. An existing `ratings` dataset is replaced. The file is edited in
    /// place (metadata only) and re-validated by opening it with `HDF5Dataset`.
    @discardableResult
    public static func run(table: RatingTable, into path: String, mapping: RatingMapping = .cremaD) throws -> Summary {
        let (modalities, ids): ([String], [String])
        do {
            let d = try HDF5Dataset(path: path)
            guard let i = try d.ids() else {
                throw DataError(file: path, dataset: DataFormat.idDataset, "the file stores no sample ids, so ratings cannot be matched")
            }
            modalities = d.modalities.map(\.spec.name); ids = i
        }
        let cols = try mapping.columns(for: modalities, table: table)
        var values: [Float] = []
        values.reserveCapacity(ids.count * cols.count)
        var failures: [PrepareFailure] = []
        for id in ids {
            do {
                values += try table.ratings(for: id, columns: cols)
            } catch {
                failures.append(PrepareFailure(input: id, reason: (error as? DataError)?.message ?? "\(error)"))
            }
        }
        guard failures.isEmpty else {
            throw DataError(file: path, dataset: DataFormat.ratingsDataset,
                            "no ratings written: " + PrepareReport.summarize(failures, limit: 10) + " of \(ids.count) (table \(table.name))")
        }
        var replaced = false
        try withHDF5 {
            let f = H5Fopen(path, chdf5_acc_rdwr(), h5Default)
            guard f >= 0 else { throw H5.error(path, "cannot open for writing") }
            var closed = false
            defer { if !closed { H5Fclose(f) } }
            if H5.linkExists(f, DataFormat.ratingsDataset) {
                guard H5Ldelete(f, DataFormat.ratingsDataset, h5Default) >= 0 else {
                    throw H5.error(path, dataset: DataFormat.ratingsDataset, "cannot replace the existing dataset")
                }
                replaced = true
            }
            try values.withUnsafeBytes {
                try H5.writeDataset(f, DataFormat.ratingsDataset, fileType: chdf5_ieee_f32le(), memType: chdf5_native_float(),
                                    dims: [ids.count, modalities.count], data: $0.baseAddress!, file: path)
            }
            closed = true
            guard H5Fclose(f) >= 0 else { throw H5.error(path, "cannot close after writing ratings") }
        }
        let check = try HDF5Dataset(path: path)
        guard let stored = check.ratings, stored == values else {
            throw DataError(file: path, dataset: DataFormat.ratingsDataset, "ratings read back differ from those written")
        }
        let M = modalities.count
        let means = (0..<M).map { m in stride(from: m, to: values.count, by: M).reduce(Float(0)) { $0 + values[$1] } / Float(ids.count) }
        return Summary(samples: ids.count, modalities: modalities, columns: cols.map { table.columns[$0] }, replaced: replaced, means: means)
    }
}
