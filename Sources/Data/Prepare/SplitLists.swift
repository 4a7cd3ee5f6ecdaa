import Foundation

/// A minimal CSV reader: comma-separated fields, double-quoted fields may hold commas, quotes ("")
/// and newlines; CRLF or LF line ends; a UTF-8 byte-order mark is dropped; blank lines are skipped.
public enum CSV {
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = [], field = "", quoted = false, afterQuote = false
        var chars = Substring(text)
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
        func endRow() {
            row.append(field); field = ""
            if !(row.count == 1 && row[0].isEmpty) { rows.append(row) }
            row = []
        }
        for ch in chars {
            if quoted {
                if ch == "\"" { quoted = false; afterQuote = true } else { field.append(ch) }
                continue
            }
            switch ch {
            case "\"":
                if afterQuote { field.append("\"") }   // "" inside a quoted field
                quoted = true; afterQuote = false
            case ",":
                row.append(field); field = ""; afterQuote = false
            case "\n", "\r\n":
                endRow(); afterQuote = false
            case "\r":
                endRow(); afterQuote = false
            default:
                field.append(ch); afterQuote = false
            }
        }
        if !field.isEmpty || !row.isEmpty { endRow() }
        return rows
    }

    public static func read(path: String) throws -> [[String]] {
        let data = try readInputFile(path)
        guard let text = String(data: data, encoding: .utf8) else { throw DataError(file: path, "not UTF-8 text") }
        return parse(text)
    }
}

/// One sample of a split: its id, its label as written, and (manifests only) its media paths.
public struct SplitEntry: Sendable, Equatable {
    public var id: String
    public var label: String
    public var audioPath: String?
    public var imagePaths: [String]
    /// 1-based line number in the list (for error messages).
    public var line: Int

    public init(id: String, label: String, audioPath: String? = nil, imagePaths: [String] = [], line: Int = 0) {
        self.id = id; self.label = label; self.audioPath = audioPath; self.imagePaths = imagePaths; self.line = line
    }
}

/// A split list in one of the forms the anchors use, or a SPICE manifest (docs/prepare.md):
///
/// - `cremaD`: header-less `clip,EMO` rows (OGM-GE's / BSS's CREMA-D `train.csv`, `test.csv`),
///   e.g. `1001_DFA_ANG_XX,ANG`; every label one of NEU HAP SAD FEA DIS ANG.
/// - `idLabel`: `id,label` rows, header-less or under a header naming a `label` column (the id
///   column is the one named `id`, `clip`, `youtube_id`, `name` or `filename`, else the first);
///   further columns are ignored (Kinetics-Sounds-style `youtube_id,label,...` files).
/// - `manifest`: a header with `id`, `label`, `audio_path` and one or more `image_path*`
///   columns (`image_path`, `image_path_2`, ...); relative paths are resolved against the
///   manifest's directory; empty image cells are ignored.
public struct SplitList: Sendable {
    public enum Form: String, Sendable { case cremaD = "crema-d", idLabel = "id,label", manifest }

    /// OGM-GE's / BSS's CREMA-D class order: {'NEU':0, 'HAP':1, 'SAD':2, 'FEA':3, 'DIS':4, 'ANG':5}.
    public static let cremaDClasses = ["NEU", "HAP", "SAD", "FEA", "DIS", "ANG"]

    public let name: String
    public let form: Form
    public let entries: [SplitEntry]

    public static func read(path: String) throws -> SplitList {
        let rows = try CSV.read(path: path)
        let base = (path as NSString).deletingLastPathComponent
        return try parse(rows: rows, name: path, baseDirectory: base.isEmpty ? "." : base)
    }

    public static func parse(_ text: String, name: String, baseDirectory: String = ".") throws -> SplitList {
        try parse(rows: CSV.parse(text), name: name, baseDirectory: baseDirectory)
    }

    static func parse(rows: [[String]], name: String, baseDirectory: String) throws -> SplitList {
        func fail(_ line: Int, _ m: String) -> DataError { DataError(file: name, "line \(line): \(m)") }
        guard let first = rows.first else { throw DataError(file: name, "empty split list") }
        let header = first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var entries: [SplitEntry] = []

        if let labelCol = header.firstIndex(of: "label") {
            let idCol = ["id", "clip", "youtube_id", "name", "filename"].lazy.compactMap { header.firstIndex(of: $0) }.first ?? 0
            let audioCol = header.firstIndex(of: "audio_path")
            let imageCols = header.indices.filter { header[$0].hasPrefix("image_path") }
            let isManifest = audioCol != nil || !imageCols.isEmpty
            if isManifest {
                guard audioCol != nil, !imageCols.isEmpty, header.firstIndex(of: "id") != nil else {
                    throw fail(1, "a manifest header needs id, label, audio_path and image_path columns, got \(first)")
                }
            }
            func resolve(_ p: String) -> String {
                p.hasPrefix("/") || baseDirectory == "." ? p : (baseDirectory as NSString).appendingPathComponent(p)
            }
            for (r, row) in rows.enumerated().dropFirst() {
                let line = r + 1
                guard row.count == first.count else { throw fail(line, "\(row.count) fields, the header has \(first.count)") }
                let id = row[idCol].trimmingCharacters(in: .whitespaces), label = row[labelCol].trimmingCharacters(in: .whitespaces)
                guard !id.isEmpty else { throw fail(line, "empty id") }
                guard !label.isEmpty else { throw fail(line, "empty label for '\(id)'") }
                var e = SplitEntry(id: id, label: label, line: line)
                if isManifest, let audioCol {
                    let a = row[audioCol].trimmingCharacters(in: .whitespaces)
                    guard !a.isEmpty else { throw fail(line, "empty audio_path for '\(id)'") }
                    e.audioPath = resolve(a)
                    e.imagePaths = imageCols.map { row[$0].trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map(resolve)
                    guard !e.imagePaths.isEmpty else { throw fail(line, "no image_path for '\(id)'") }
                }
                entries.append(e)
            }
            guard !entries.isEmpty else { throw DataError(file: name, "no rows under the header") }
            return SplitList(name: name, form: isManifest ? .manifest : .idLabel, entries: entries)
        }

        // No header: id,label rows.
        for (r, row) in rows.enumerated() {
            let line = r + 1
            guard row.count >= 2 else { throw fail(line, "expected 'id,label', got \(row.count) field(s)") }
            let id = row[0].trimmingCharacters(in: .whitespaces), label = row[1].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty, !label.isEmpty else { throw fail(line, "empty id or label") }
            entries.append(SplitEntry(id: id, label: label, line: line))
        }
        let crema = Set(cremaDClasses)
        let form: Form = entries.allSatisfy { crema.contains($0.label) } ? .cremaD : .idLabel
        return SplitList(name: name, form: form, entries: entries)
    }

    /// The class names labels map to: `given` when set; for the CREMA-D form OGM-GE's order;
    /// when every label is a non-negative integer, "0" ... "max"; otherwise the sorted distinct labels.
    public func classNames(given: [String]? = nil) -> [String] {
        if let given { return given }
        if form == .cremaD { return Self.cremaDClasses }
        let ints = entries.compactMap { Int($0.label) }
        if ints.count == entries.count, let hi = ints.max(), ints.allSatisfy({ $0 >= 0 }) { return (0...hi).map(String.init) }
        return Array(Set(entries.map(\.label))).sorted()
    }

    /// Label indices under `classNames`: a label equal to a name maps to its index; otherwise an
    /// integer label is taken as the index. Throws naming the line of the first unknown label.
    public func labels(classNames: [String]) throws -> [Int] {
        var index: [String: Int] = [:]
        for (i, n) in classNames.enumerated() where index[n] == nil { index[n] = i }
        return try entries.map { e in
            if let i = index[e.label] { return i }
            if let i = Int(e.label), i >= 0, i < classNames.count { return i }
            throw DataError(file: name, "line \(e.line): label '\(e.label)' of '\(e.id)' is not one of \(classNames.count) classes")
        }
    }
}
