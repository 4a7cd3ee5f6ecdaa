/// Fully connected layer y = x W^T + b with PyTorch's weight layout W[out, in].
public enum LinearKernel {
    public static func forward(batch: Int, inFeatures: Int, outFeatures: Int,
                               x: UnsafePointer<Float>, w: UnsafePointer<Float>, b: UnsafePointer<Float>?,
                               y: UnsafeMutablePointer<Float>) {
        if let b {
            for n in 0..<batch { (y + n * outFeatures).update(from: b, count: outFeatures) }
        }
        sgemm(transB: true, m: batch, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
              b: w, ldb: inFeatures, beta: b == nil ? 0 : 1, c: y, ldc: outFeatures)
    }

    /// dw, db overwritten; dx overwritten when given.
    public static func backward(batch: Int, inFeatures: Int, outFeatures: Int,
                                x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>?,
                                dx: UnsafeMutablePointer<Float>?) {
        sgemm(transA: true, m: outFeatures, n: inFeatures, k: batch, a: dy, lda: outFeatures,
              b: x, ldb: inFeatures, c: dw, ldc: inFeatures)
        if let db {
            for o in 0..<outFeatures {
                var s: Float = 0
                for n in 0..<batch { s += dy[n * outFeatures + o] }
                db[o] = s
            }
        }
        if let dx {
            sgemm(m: batch, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: w, ldb: inFeatures,
                  c: dx, ldc: inFeatures)
        }
    }
}

/// Softmax cross-entropy with integer labels, mean over the batch (PyTorch's default reduction).
public enum SoftmaxCrossEntropy {
    /// Writes softmax probabilities to `probs` and returns the mean loss. Computed in Double so the
    /// loss matches PyTorch to the last float digit.
    @discardableResult
    public static func forward(batch: Int, classes: Int, logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                               probs: UnsafeMutablePointer<Float>) -> Float {
        var total = 0.0
        for n in 0..<batch {
            let z = logits + n * classes, p = probs + n * classes
            let label = Int(labels[n])
            precondition(label >= 0 && label < classes, "label \(label) outside [0, \(classes))")
            var mx = z[0]
            for c in 1..<classes { mx = max(mx, z[c]) }
            var s = 0.0
            for c in 0..<classes { s += exp(Double(z[c] - mx)) }
            let logS = log(s)
            for c in 0..<classes { p[c] = Float(exp(Double(z[c] - mx) - logS)) }
            total += logS - Double(z[label] - mx)
        }
        return Float(total / Double(batch))
    }

    /// dlogits = (probs - onehot(label)) * scale / batch; `scale` weights this loss in a sum.
    public static func backward(batch: Int, classes: Int, probs: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                                scale: Float = 1, dlogits: UnsafeMutablePointer<Float>) {
        let k = scale / Float(batch)
        for n in 0..<batch {
            for c in 0..<classes { dlogits[n * classes + c] = probs[n * classes + c] * k }
            dlogits[n * classes + Int(labels[n])] -= k
        }
    }
}

import Foundation
