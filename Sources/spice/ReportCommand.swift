import Foundation
import Training

/// `spice report RUN_DIR [RUN_DIR ...] [--out FILE]`.
enum ReportCommand {
    static let help = """
    usage: spice report RUN_DIR [RUN_DIR ...] [--out FILE]

    Writes one self-contained HTML file (inline SVG) from the runs' metrics.jsonl: test ACC and
    mAP, training loss and throughput per epoch with stage boundaries and refresh marks, the final
    table and each refresh's score summary. Several runs are compared on the same axes.
    Default output: RUN_DIR/report.html of the first run.
    """

    static func run(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["out"], switches: ["help"])
        if a.has("help") { print(help); return }
        guard !a.positional.isEmpty else { throw UsageError("report needs at least one RUN_DIR") }
        let runs = try a.positional.map { dir -> RunReport.Run in
            do { return try RunReport.load(dir) } catch { throw UsageError("\(error)") }
        }
        let out = a.optional("out") ?? a.positional[0] + "/report.html"
        let tmp = out + ".tmp"
        try RunReport.html(runs).write(toFile: tmp, atomically: false, encoding: .utf8)
        guard rename(tmp, out) == 0 else { throw UsageError("cannot write \(out): \(String(cString: strerror(errno)))") }
        print("spice report: \(out) (\(runs.count) run(s): \(runs.map(\.name).joined(separator: ", ")))")
    }
}
