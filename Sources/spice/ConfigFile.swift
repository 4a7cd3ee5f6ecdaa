import Foundation

/// JSON run configurations. A config is a JSON object whose keys are the command's long option
/// names (`"epochs": 12`, `"curriculum": "spice-e"`, `"freeze-bn": true`), optionally grouped in
/// sections (`{"data": {...}, "cluster": {...}}` — the section names are free). Several `--config`
/// files merge in order (e.g. a dataset file and a cluster file), `--set key=value` overrides
/// them, and options given on the command line override everything. Unknown keys and values of
/// the wrong type are errors naming the key and the file.
enum ConfigFile {
    /// Replaces `--config FILE` and `--set key=value` in `argv` by the options they stand for,
    /// placed before the remaining arguments so that explicit options win.
    static func expand(_ argv: [String], options: Set<String>, switches: Set<String>) throws -> [String] {
        var fromConfig: [String] = [], rest: [String] = [], sets: [(String, String)] = []
        var i = 0
        func value(_ flag: String) throws -> String {
            i += 1
            guard i < argv.count else { throw UsageError("\(flag) needs a value") }
            return argv[i]
        }
        while i < argv.count {
            let a = argv[i]
            if a == "--config" || a.hasPrefix("--config=") {
                let path = a == "--config" ? try value("--config") : String(a.dropFirst("--config=".count))
                fromConfig += try load(path, options: options, switches: switches)
            } else if a == "--set" || a.hasPrefix("--set=") {
                let kv = a == "--set" ? try value("--set") : String(a.dropFirst("--set=".count))
                guard let eq = kv.firstIndex(of: "="), eq != kv.startIndex else { throw UsageError("--set expects key=value, got '\(kv)'") }
                sets.append((String(kv[..<eq]), String(kv[kv.index(after: eq)...])))
            } else {
                rest.append(a)
            }
            i += 1
        }
        var fromSets: [String] = []
        for (k, v) in sets {
            if switches.contains(k) {
                guard let b = Bool(v.lowercased()) else { throw UsageError("--set \(k)=\(v): '\(k)' is a switch, use true or false") }
                if b { fromSets.append("--" + k) }
            } else if options.contains(k) {
                fromSets += ["--" + k, v]
            } else {
                throw UsageError("--set: unknown key '\(k)'\(suggestion(k, options.union(switches)))")
            }
        }
        return fromConfig + fromSets + rest
    }

    static func load(_ path: String, options: Set<String>, switches: Set<String>) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("config \(path): cannot read the file") }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw UsageError("config \(path): not valid JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any] else { throw UsageError("config \(path): the top level must be a JSON object") }
        var out: [String] = []
        try flatten(root, path: path, context: "", options: options, switches: switches, into: &out)
        return out
    }

    static func flatten(_ obj: [String: Any], path: String, context: String, options: Set<String>, switches: Set<String>,
                        into out: inout [String]) throws {
        for key in obj.keys.sorted() {
            let v = obj[key]!, where_ = "config \(path): '\(context)\(key)'"
            if key.hasPrefix("#") || key == "comment" { continue }
            if let section = v as? [String: Any] {
                try flatten(section, path: path, context: context + key + ".", options: options, switches: switches, into: &out)
            } else if switches.contains(key) {
                guard isBool(v), let b = v as? Bool else { throw UsageError("\(where_) must be true or false") }
                if b { out.append("--" + key) }
            } else if options.contains(key) {
                if let s = v as? String {
                    out += ["--" + key, s]
                } else if let n = v as? NSNumber, !isBool(v) {
                    out += ["--" + key, n.stringValue]
                } else if let list = v as? [Any], list.allSatisfy({ $0 is NSNumber || $0 is String }) {
                    out += ["--" + key, list.map { "\($0)" }.joined(separator: ",")]
                } else {
                    throw UsageError("\(where_) must be a string, a number or a list of them")
                }
            } else {
                throw UsageError("\(where_) is not a known key\(suggestion(key, options.union(switches)))")
            }
        }
    }

    /// JSON true/false (Foundation hands numbers and booleans back as NSNumber subclasses).
    static func isBool(_ v: Any) -> Bool { type(of: v) == type(of: NSNumber(value: true) as Any) }

    /// " (did you mean 'epochs'?)" for near misses.
    static func suggestion(_ key: String, _ known: Set<String>) -> String {
        func distance(_ a: String, _ b: String) -> Int {
            let a = Array(a), b = Array(b)
            var row = Array(0...b.count)
            for i in 1...max(1, a.count) where !a.isEmpty {
                var prev = row[0]; row[0] = i
                for j in 1...max(1, b.count) where !b.isEmpty {
                    let cur = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                    prev = cur
                }
            }
            return row[b.count]
        }
        guard let best = known.min(by: { distance(key, $0) < distance(key, $1) }), distance(key, best) <= 2 else { return "" }
        return " (did you mean '\(best)'?)"
    }
}
