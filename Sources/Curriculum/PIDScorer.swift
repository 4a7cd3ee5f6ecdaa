import Foundation

/// Which synergy agreement term to use (both documented in docs/curriculum.md).
public enum SynergyForm: String, Sendable, CaseIterable {
    /// Paper eq. 13-14: S = (c_multi - max_m c_m) * KL(p_multi || mean_m p_m).
    case paper
    /// Authors' reference code: S = (c_multi - max_m c_m) * (1 - exp(-KL(mean_m p_m || p_multi))) for
    /// M = 2; for M >= 3 that code keeps the paper's direction: 1 - exp(-KL(p_multi || mean_m p_m)).
    case referenceCode
    /// Beyond the paper (issue 10): the paper's S with its negative part clipped to 0,
    /// S = max(0, c_multi - max_m c_m) * KL(p_multi || mean_m p_m). Only samples on which the fused
    /// head is more sure of the label than every modality get synergy; all others share the
    /// minimum, so after min-max scaling they sit at S^ = 0 instead of in the middle of the range,
    /// and the S bin no longer fills with samples no modality is sure of.
    case positive

    /// The name used by `--synergy` and the `synergy` config key.
    public var optionName: String {
        switch self { case .paper: "paper"; case .referenceCode: "reference"; case .positive: "positive" }
    }

    public init?(optionName: String) {
        guard let f = SynergyForm.allCases.first(where: { $0.optionName == optionName }) else { return nil }
        self = f
    }
}

/// Per-sample intermediate values, for logging and the CSV dump.
public struct PIDDetails: Sendable {
    /// c_m = p_m(y), one [count] array per modality.
    public var confidence: [[Float]]
    /// c_multi = p_multi(y).
    public var fusedConfidence: [Float]
    /// D_m = KL(p_m || mean_{n != m} p_n), one [count] array per modality.
    public var divergence: [[Float]]
    /// The KL inside the synergy agreement term, in the direction the chosen form uses.
    public var synergyDivergence: [Float]

    public init(confidence: [[Float]], fusedConfidence: [Float], divergence: [[Float]], synergyDivergence: [Float]) {
        self.confidence = confidence; self.fusedConfidence = fusedConfidence
        self.divergence = divergence; self.synergyDivergence = synergyDivergence
    }
}

/// Computes R, U, S (eq. 8-14) from unimodal and fused distributions. KL(p || q) = sum p log(p/q)
/// with p and q clamped element-wise to [1e-8, 1] (not renormalised); confidences are unclamped.
public enum PIDScorer {
    public static let clampFloor: Float = 1e-8

    public static func scores(_ p: ModalityPredictions, labels: [Int32], synergy: SynergyForm = .paper) -> PIDScores {
        run(p, labels, synergy, keepDetails: false).scores
    }

    public static func scoresWithDetails(_ p: ModalityPredictions, labels: [Int32],
                                         synergy: SynergyForm = .paper) -> (scores: PIDScores, details: PIDDetails) {
        let r = run(p, labels, synergy, keepDetails: true)
        return (r.scores, r.details!)
    }

    private static func run(_ p: ModalityPredictions, _ labels: [Int32], _ form: SynergyForm,
                            keepDetails: Bool) -> (scores: PIDScores, details: PIDDetails?) {
        let n = p.count, k = p.classes, mCount = p.modalities
        precondition(labels.count == n, "\(labels.count) labels for \(n) samples")
        var r = [Float](repeating: 0, count: n), u = r, s = r
        var conf = [[Float]](repeating: [], count: mCount), div = conf
        var fusedConf = [Float](), synDiv = [Float]()
        if keepDetails {
            conf = [[Float]](repeating: [Float](repeating: 0, count: n), count: mCount)
            div = conf; fusedConf = r; synDiv = r
        }
        // Scratch per sample: clamped rows and their logs for every modality, the raw class sums.
        var clamped = [Float](repeating: 0, count: mCount * k), logs = clamped
        var sum = [Float](repeating: 0, count: k), logOthers = sum
        var c = [Double](repeating: 0, count: mCount), d = c
        for i in 0..<n {
            let y = Int(labels[i])
            precondition(y >= 0 && y < k, "label \(y) of sample \(i) outside [0, \(k))")
            for j in 0..<k { sum[j] = 0 }
            for m in 0..<mCount {
                p.unimodal[m].withUnsafeBufferPointer { row in
                    let base = i * k
                    c[m] = Double(row[base + y])
                    for j in 0..<k {
                        let v = row[base + j]
                        sum[j] += v
                        let cl = clamp(v)
                        clamped[m * k + j] = cl
                        logs[m * k + j] = Foundation.log(cl)
                    }
                }
            }
            // D_m against the mean of the other modalities; for M = 2 that is the other row itself.
            for m in 0..<mCount {
                var acc = 0.0
                if mCount == 2 {
                    let o = (1 - m) * k
                    for j in 0..<k { acc += Double(clamped[m * k + j] * (logs[m * k + j] - logs[o + j])) }
                } else {
                    let inv = 1 / Float(mCount - 1)
                    p.unimodal[m].withUnsafeBufferPointer { row in
                        for j in 0..<k { logOthers[j] = Foundation.log(clamp((sum[j] - row[i * k + j]) * inv)) }
                    }
                    for j in 0..<k { acc += Double(clamped[m * k + j] * (logs[m * k + j] - logOthers[j])) }
                }
                d[m] = acc
            }
            var prodC = 1.0, meanD = 0.0, maxC = -Double.infinity
            for m in 0..<mCount { prodC *= c[m]; meanD += d[m]; maxC = max(maxC, c[m]) }
            meanD /= Double(mCount)
            var uniq = 0.0
            for m in 0..<mCount {
                var others = 1.0
                for o in 0..<mCount where o != m { others *= 1 - c[o] }
                uniq += c[m] * others * (1 - Foundation.exp(-d[m]))
            }
            // Synergy: KL between the fused row and the mean unimodal row.
            let invM = 1 / Float(mCount)
            var kl = 0.0, cMulti = 0.0
            p.fused.withUnsafeBufferPointer { row in
                let base = i * k
                cMulti = Double(row[base + y])
                let reversed = form == .referenceCode && mCount == 2
                for j in 0..<k {
                    let pm = clamp(row[base + j]), q = clamp(sum[j] * invM)
                    let diff = Foundation.log(pm) - Foundation.log(q)
                    kl += reversed ? Double(q * -diff) : Double(pm * diff)
                }
            }
            let agreement = form == .referenceCode ? 1 - Foundation.exp(-kl) : kl
            let gain = form == .positive ? max(0, cMulti - maxC) : cMulti - maxC
            r[i] = Float(prodC * Foundation.exp(-meanD))
            u[i] = Float(uniq)
            s[i] = Float(gain * agreement)
            if keepDetails {
                for m in 0..<mCount { conf[m][i] = Float(c[m]); div[m][i] = Float(d[m]) }
                fusedConf[i] = Float(cMulti); synDiv[i] = Float(kl)
            }
        }
        let scores = PIDScores(redundancy: r, unique: u, synergy: s)
        let details = keepDetails ? PIDDetails(confidence: conf, fusedConfidence: fusedConf, divergence: div,
                                               synergyDivergence: synDiv) : nil
        return (scores, details)
    }

    @inline(__always) static func clamp(_ v: Float) -> Float { min(max(v, clampFloor), 1) }
}
