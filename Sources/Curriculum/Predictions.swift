import Foundation

/// Per-sample class distributions of every unimodal head and of the fused head, each a flat
/// row-major [count, classes] array. The scores treat them as probabilities; rows need not come
/// from a softmax (annotator vote fractions use the same type).
public struct ModalityPredictions: Sendable {
    public let classes: Int
    public let count: Int
    /// One [count * classes] array per modality (M >= 2).
    public let unimodal: [[Float]]
    public let fused: [Float]

    public var modalities: Int { unimodal.count }

    public init(unimodal: [[Float]], fused: [Float], classes: Int) {
        precondition(classes >= 1, "need at least one class")
        precondition(unimodal.count >= 2, "SPICE needs M >= 2 modalities, got \(unimodal.count)")
        precondition(fused.count % classes == 0, "fused has \(fused.count) values, not a multiple of \(classes) classes")
        for (m, u) in unimodal.enumerated() {
            precondition(u.count == fused.count, "modality \(m) has \(u.count) values, fused has \(fused.count)")
        }
        self.unimodal = unimodal
        self.fused = fused
        self.classes = classes
        count = fused.count / classes
    }

    /// From raw head outputs: a softmax over each row of every head.
    public init(unimodalLogits: [[Float]], fusedLogits: [Float], classes: Int) {
        self.init(unimodal: unimodalLogits.map { softmaxRows($0, classes: classes) },
                  fused: softmaxRows(fusedLogits, classes: classes), classes: classes)
    }
}

/// Row-wise softmax of a flat [rows, classes] array (max-subtracted, so large logits are safe).
public func softmaxRows(_ logits: [Float], classes: Int) -> [Float] {
    precondition(classes >= 1 && logits.count % classes == 0, "\(logits.count) values are not rows of \(classes)")
    var out = [Float](repeating: 0, count: logits.count)
    logits.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { y in
            for row in stride(from: 0, to: x.count, by: classes) {
                var mx = -Float.infinity
                for c in 0..<classes { mx = max(mx, x[row + c]) }
                var sum: Float = 0
                for c in 0..<classes { let e = Foundation.exp(x[row + c] - mx); y[row + c] = e; sum += e }
                let inv = 1 / sum
                for c in 0..<classes { y[row + c] *= inv }
            }
        }
    }
    return out
}

/// Element-wise sum of equally shaped flat arrays (e.g. fused + unimodal logits, eq. 18).
public func sumArrays(_ arrays: [[Float]]) -> [Float] {
    guard var out = arrays.first else { return [] }
    for a in arrays.dropFirst() {
        precondition(a.count == out.count, "cannot sum arrays of \(a.count) and \(out.count) values")
        for i in 0..<a.count { out[i] += a[i] }
    }
    return out
}
