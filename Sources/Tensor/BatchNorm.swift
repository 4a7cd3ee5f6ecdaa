/// BatchNorm2d with PyTorch semantics: batch statistics in training (biased variance to
/// normalise, unbiased variance into running_var), running statistics in evaluation,
/// running = (1 - momentum) * running + momentum * batch. An optional ReLU is fused into
/// the same pass (forward) and the same sweep of the gradient (backward).
public enum BatchNorm {
    public struct Shape: Sendable {
        public let batch: Int, channels: Int, plane: Int
        public init(batch: Int, channels: Int, plane: Int) { self.batch = batch; self.channels = channels; self.plane = plane }
        public var count: Int { batch * channels * plane }
    }

    /// Training forward. Saves per-channel mean and 1/sqrt(var + eps) for the backward pass.
    public static func forwardTrain(_ s: Shape, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                    runningMean: UnsafeMutablePointer<Float>, runningVar: UnsafeMutablePointer<Float>,
                                    momentum: Float, eps: Float, relu: Bool,
                                    y: UnsafeMutablePointer<Float>,
                                    saveMean: UnsafeMutablePointer<Float>, saveInvStd: UnsafeMutablePointer<Float>) {
        let m = s.batch * s.plane, cs = s.channels * s.plane
        for c in 0..<s.channels {
            var total = 0.0
            for n in 0..<s.batch { total += Double(sum(x + n * cs + c * s.plane, s.plane)) }
            let mean = Float(total / Double(m))
            var sq = 0.0
            for n in 0..<s.batch { sq += Double(sumSquaredDeviation(x + n * cs + c * s.plane, s.plane, shift: mean)) }
            let variance = Float(sq / Double(m))
            let invStd = 1 / (variance + eps).squareRoot()
            saveMean[c] = mean
            saveInvStd[c] = invStd
            let unbiased = m > 1 ? Float(sq / Double(m - 1)) : variance
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean
            runningVar[c] = (1 - momentum) * runningVar[c] + momentum * unbiased
            let scale = gamma[c] * invStd, shift = beta[c] - mean * scale
            for n in 0..<s.batch { affine(x + n * cs + c * s.plane, y + n * cs + c * s.plane, s.plane, scale, shift, relu) }
        }
    }

    /// Evaluation forward with the running statistics.
    public static func forwardEval(_ s: Shape, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                   runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>, eps: Float, relu: Bool,
                                   y: UnsafeMutablePointer<Float>) {
        let cs = s.channels * s.plane
        for c in 0..<s.channels {
            let scale = gamma[c] / (runningVar[c] + eps).squareRoot()
            let shift = beta[c] - runningMean[c] * scale
            for n in 0..<s.batch { affine(x + n * cs + c * s.plane, y + n * cs + c * s.plane, s.plane, scale, shift, relu) }
        }
    }

    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ b: Float, _ relu: Bool) {
        if relu { for i in 0..<n { y[i] = max(0, x[i] * a + b) } } else { for i in 0..<n { y[i] = x[i] * a + b } }
    }

    /// Training backward. `dy` is the gradient of the (post-ReLU when fused) output `y`; it is
    /// rewritten in place: first masked by y > 0 when `relu`, then replaced by dx (dx may alias dy).
    public static func backwardTrain(_ s: Shape, x: UnsafePointer<Float>, y: UnsafePointer<Float>, relu: Bool,
                                     gamma: UnsafePointer<Float>, saveMean: UnsafePointer<Float>, saveInvStd: UnsafePointer<Float>,
                                     dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                     dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>) {
        let m = Float(s.batch * s.plane), cs = s.channels * s.plane
        for c in 0..<s.channels {
            let mean = saveMean[c], invStd = saveInvStd[c]
            var sdy = 0.0, sdyx = 0.0
            for n in 0..<s.batch {
                let o = n * cs + c * s.plane
                if relu { for i in 0..<s.plane where y[o + i] <= 0 { dy[o + i] = 0 } }
                let sd = sum(dy + o, s.plane)
                sdy += Double(sd)
                sdyx += Double(dotCentred(dy + o, x + o, s.plane, shift: mean))
            }
            let gBeta = Float(sdy), gGamma = Float(sdyx) * invStd
            dgamma[c] = gGamma
            dbeta[c] = gBeta
            // dx = gamma * invStd * (dy - dbeta/m - xhat * dgamma/m)
            let k = gamma[c] * invStd, a = gBeta / m, b = gGamma / m * invStd
            for n in 0..<s.batch {
                let o = n * cs + c * s.plane
                for i in 0..<s.plane { dx[o + i] = k * (dy[o + i] - a - (x[o + i] - mean) * b) }
            }
        }
    }

    /// Evaluation-mode backward (statistics are constants): used by gradient checks.
    public static func backwardEval(_ s: Shape, x: UnsafePointer<Float>, y: UnsafePointer<Float>, relu: Bool,
                                    gamma: UnsafePointer<Float>, runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
                                    eps: Float, dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                    dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>) {
        let cs = s.channels * s.plane
        for c in 0..<s.channels {
            let invStd = 1 / (runningVar[c] + eps).squareRoot(), mean = runningMean[c]
            var sdy = 0.0, sdyx = 0.0
            for n in 0..<s.batch {
                let o = n * cs + c * s.plane
                if relu { for i in 0..<s.plane where y[o + i] <= 0 { dy[o + i] = 0 } }
                let sd = sum(dy + o, s.plane)
                sdy += Double(sd)
                sdyx += Double(dotCentred(dy + o, x + o, s.plane, shift: mean))
            }
            dbeta[c] = Float(sdy)
            dgamma[c] = Float(sdyx) * invStd
            let k = gamma[c] * invStd
            for n in 0..<s.batch {
                let o = n * cs + c * s.plane
                for i in 0..<s.plane { dx[o + i] = k * dy[o + i] }
            }
        }
    }
}
