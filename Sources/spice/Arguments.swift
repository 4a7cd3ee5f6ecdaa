import Foundation

/// A usage or configuration error: printed with the command's usage hint, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// `--name value` / `--name=value` options and `--flag` switches, nothing more. Every option a
/// command reads must be declared, so a typo is an error that names it rather than a silent default.
struct Arguments {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    private(set) var positional: [String] = []

    init(_ args: [String], options: Set<String>, switches: Set<String> = []) throws {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("--") {
                var name = String(a.dropFirst(2)), value: String?
                if let eq = name.firstIndex(of: "=") {
                    value = String(name[name.index(after: eq)...]); name = String(name[..<eq])
                }
                if switches.contains(name) {
                    guard value == nil else { throw UsageError("--\(name) takes no value") }
                    flags.insert(name)
                } else if options.contains(name) {
                    if value == nil {
                        i += 1
                        guard i < args.count else { throw UsageError("--\(name) needs a value") }
                        value = args[i]
                    }
                    values[name] = value
                } else {
                    throw UsageError("unknown option --\(name)")
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }

    func string(_ name: String, default d: String) -> String { values[name] ?? d }

    func int(_ name: String, default d: Int, min lo: Int = Int.min) throws -> Int {
        guard let s = values[name] else { return d }
        guard let v = Int(s), v >= lo else { throw UsageError("--\(name) expects an integer >= \(lo), got '\(s)'") }
        return v
    }

    func double(_ name: String, default d: Double, min lo: Double = -.infinity) throws -> Double {
        guard let s = values[name] else { return d }
        guard let v = Double(s), v.isFinite, v >= lo else { throw UsageError("--\(name) expects a number >= \(lo), got '\(s)'") }
        return v
    }

    func optional(_ name: String) -> String? { values[name] }
}

func printError(_ s: String) {
    FileHandle.standardError.write(("spice: " + s + "\n").data(using: .utf8)!)
}
