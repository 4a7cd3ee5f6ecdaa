import Foundation

/// `spice report`: one self-contained HTML file (inline SVG, no scripts, no external files) from
/// one or more run directories' metrics.jsonl — test ACC / mAP, training loss and throughput per
/// epoch, with stage boundaries and refresh marks, and a final table. Several runs are drawn on
/// the same axes for comparison (e.g. SPICE-E vs random).
public enum RunReport {
    public struct Run {
        public let name: String
        public let epochs: [[String: Any]]
    }

    public struct ReportError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func load(_ dir: String) throws -> Run {
        let path = dir + "/metrics.jsonl"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ReportError(description: "\(path): missing (was the run started with --run-dir?)")
        }
        var rows: [[String: Any]] = []
        for (i, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ReportError(description: "\(path): line \(i + 1) is not a JSON object")
            }
            rows.append(o)
        }
        guard !rows.isEmpty else { throw ReportError(description: "\(path): no epochs logged yet") }
        return Run(name: URL(fileURLWithPath: dir).lastPathComponent, epochs: rows)
    }

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    static func number(_ o: [String: Any], _ k: String) -> Double? { (o[k] as? NSNumber)?.doubleValue }

    /// A line chart of `key` per epoch for every run, with the first run's stage boundaries
    /// (dashed) and refreshes (ticks).
    static func chart(_ title: String, _ key: String, _ runs: [Run], percent: Bool = false) -> String {
        let w = 560.0, h = 240.0, left = 52.0, right = 12.0, top = 28.0, bottom = 34.0
        let series = runs.map { r in r.epochs.compactMap { e -> (Double, Double)? in
            guard let x = number(e, "epoch"), let y = number(e, key), y.isFinite else { return nil }
            return (x, y)
        } }
        let xs = series.flatMap { $0.map(\.0) }, ys = series.flatMap { $0.map(\.1) }
        guard let x0 = xs.min(), let x1 = xs.max(), var y0 = ys.min(), var y1 = ys.max() else { return "" }
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        let pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad
        func px(_ x: Double) -> Double { left + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (w - left - right) }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * (h - top - bottom) }
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(w))' height='\(Int(h))' viewBox='0 0 \(Int(w)) \(Int(h))'>"
        svg += "<rect width='100%' height='100%' fill='white'/><text x='\(left)' y='18' font-size='14' font-family='sans-serif'>\(title)</text>"
        // Axes and gridlines with labels.
        for k in 0...4 {
            let y = y0 + Double(k) / 4 * (y1 - y0)
            let label = percent ? String(format: "%.0f%%", 100 * y) : String(format: "%.3g", y)
            svg += "<line x1='\(left)' x2='\(w - right)' y1='\(py(y))' y2='\(py(y))' stroke='#eee'/>"
            svg += "<text x='\(left - 4)' y='\(py(y) + 4)' font-size='10' text-anchor='end' font-family='sans-serif'>\(label)</text>"
        }
        let ticks = max(1, Int((x1 - x0) / 8))
        for x in stride(from: Int(x0), through: Int(x1), by: ticks) {
            svg += "<text x='\(px(Double(x)))' y='\(h - bottom + 14)' font-size='10' text-anchor='middle' font-family='sans-serif'>\(x)</text>"
        }
        svg += "<text x='\((left + w - right) / 2)' y='\(h - 4)' font-size='10' text-anchor='middle' font-family='sans-serif'>epoch</text>"
        // Stage boundaries and refreshes of the first run.
        if let first = runs.first {
            var last = ""
            for e in first.epochs {
                guard let x = number(e, "epoch") else { continue }
                let phase = e["phase"] as? String ?? ""
                if phase != last {
                    svg += "<line x1='\(px(x - 0.5))' x2='\(px(x - 0.5))' y1='\(top)' y2='\(h - bottom)' stroke='#999' stroke-dasharray='4 3'/>"
                    svg += "<text x='\(px(x - 0.5) + 3)' y='\(top + 10)' font-size='9' fill='#666' font-family='sans-serif'>\(phase)</text>"
                    last = phase
                }
                if e["refresh"] != nil {
                    svg += "<line x1='\(px(x - 0.5))' x2='\(px(x - 0.5))' y1='\(h - bottom)' y2='\(h - bottom - 8)' stroke='#e377c2' stroke-width='2'/>"
                }
            }
        }
        for (i, s) in series.enumerated() where !s.isEmpty {
            let c = colours[i % colours.count]
            let points = s.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            svg += "<polyline fill='none' stroke='\(c)' stroke-width='2' points='\(points)'/>"
            for p in s { svg += "<circle cx='\(px(p.0))' cy='\(py(p.1))' r='2.5' fill='\(c)'/>" }
        }
        return svg + "</svg>"
    }

    /// SPICE-S bin sizes (samples whose largest normalised score is R, U or S) at each refresh of a run.
    static func binsChart(_ run: Run) -> String {
        let points = run.epochs.compactMap { e -> (Double, [Double])? in
            guard let x = number(e, "epoch"), let b = e["bins"] as? [NSNumber], b.count == 3 else { return nil }
            return (x, b.map(\.doubleValue))
        }
        guard !points.isEmpty else { return "" }
        let series = ["R", "U", "S"].enumerated().map { i, name in
            Run(name: name, epochs: points.map { ["epoch": $0.0, "v": $0.1[i]] as [String: Any] })
        }
        return chart("Bins at refreshes, \(escape(run.name)): R blue, U red, S green", "v", series)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    public static func html(_ runs: [Run]) -> String {
        var out = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>SPICE report</title>"
        out += "<style>body{font-family:sans-serif;margin:24px;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        out += "th{background:#f4f4f4}.charts{display:flex;flex-wrap:wrap;gap:12px}.key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}</style></head><body>"
        out += "<h1>SPICE training report</h1><p class='key'>"
        for (i, r) in runs.enumerated() { out += "<span style='background:\(colours[i % colours.count])'></span>\(escape(r.name))" }
        out += "</p><p>Dashed lines: stage boundaries (first run); pink ticks: score refreshes.</p><div class='charts'>"
        out += chart("Test accuracy", "acc", runs, percent: true) + chart("Test macro mAP", "map", runs, percent: true)
        out += chart("Training loss", "loss", runs) + chart("Throughput (samples/s)", "samples_per_s", runs)
        for r in runs { out += binsChart(r) }
        out += "</div><h2>Final epoch</h2><table><tr><th>run</th><th>epochs</th><th>ACC</th><th>best ACC (epoch)</th><th>mAP</th><th>macro-F1</th>"
        out += "<th>gradient updates</th><th>samples/s</th></tr>"
        for r in runs {
            guard let last = r.epochs.last else { continue }
            let best = r.epochs.max { (number($0, "acc") ?? 0) < (number($1, "acc") ?? 0) }
            out += "<tr><td style='text-align:left'>\(escape(r.name))</td><td>\(Int(number(last, "epoch") ?? 0))</td>"
            out += String(format: "<td>%.4f</td><td>%.4f (%d)</td><td>%.4f</td><td>%.4f</td><td>%d</td><td>%.1f</td></tr>",
                          number(last, "acc") ?? .nan, best.flatMap { number($0, "acc") } ?? .nan, Int(best.flatMap { number($0, "epoch") } ?? 0),
                          number(last, "map") ?? .nan, number(last, "macro_f1") ?? .nan, Int(number(last, "gradient_updates") ?? 0),
                          number(last, "samples_per_s") ?? .nan)
        }
        out += "</table><h2>Refreshes</h2>"
        for r in runs {
            let refreshes = r.epochs.compactMap { $0["refresh"] as? String }
            if refreshes.isEmpty { continue }
            out += "<h3>\(escape(r.name))</h3><pre style='font-size:11px;white-space:pre-wrap'>\(escape(refreshes.joined(separator: "\n\n")))</pre>"
        }
        return out + "</body></html>\n"
    }
}
