/// BatchNorm2d with PyTorch semantics: batch statistics in training (biased variance to
/// normalise, unbiased variance into running_var), running statistics in evaluation,
/// running = (1 - momentum) * running + momentum * batch. An optional ReLU is fused into
/// the same pass (forward) and the same sweep of the gradient (backward). Channels are split
/// between the workers (`Parallel`); each channel's statistics are summed by one worker in the
/// serial order, so results do not depend on the worker count.
public enum BatchNorm {
    public struct Shape: Sendable {
        public let batch: Int, channels: Int, plane: Int
        public init(batch: Int, channels: Int, plane: Int) { self.batch = batch; self.channels = channels; self.plane = plane }
        public var count: Int { batch * channels * plane }
        /// Channels per worker below which splitting does not pay (~16 K elements).
        var channelGrain: Int { max(1, 16_384 / max(1, batch * plane)) }
    }

    /// Training forward. Saves per-channel mean and 1/sqrt(var + eps) for the backward pass.
    public static func forwardTrain(_ s: Shape, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                    runningMean: UnsafeMutablePointer<Float>, runningVar: UnsafeMutablePointer<Float>,
                                    momentum: Float, eps: Float, relu: Bool,
                                    y: UnsafeMutablePointer<Float>,
                                    saveMean: UnsafeMutablePointer<Float>, saveInvStd: UnsafeMutablePointer<Float>) {
        let m = s.batch * s.plane, cs = s.channels * s.plane
        Parallel.forEach(s.channels, minPerWorker: s.channelGrain) { _, channels in for c in channels {
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
        } }
    }

    /// Evaluation forward with the running statistics.
    public static func forwardEval(_ s: Shape, x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                   runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>, eps: Float, relu: Bool,
                                   y: UnsafeMutablePointer<Float>) {
        let cs = s.channels * s.plane
        Parallel.forEach(s.channels, minPerWorker: s.channelGrain) { _, channels in for c in channels {
            let scale = gamma[c] / (runningVar[c] + eps).squareRoot()
            let shift = beta[c] - runningMean[c] * scale
            for n in 0..<s.batch { affine(x + n * cs + c * s.plane, y + n * cs + c * s.plane, s.plane, scale, shift, relu) }
        } }
    }

    /// y = x * a + b, then ReLU when `relu`.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, _ a: Float, _ b: Float, _ relu: Bool) {
        if relu {
            for i in 0..<n { let v = x[i] * a + b; y[i] = v > 0 ? v : 0 }
        } else {
            for i in 0..<n { y[i] = x[i] * a + b }
        }
    }

    /// One sweep over a plane: applies the ReLU mask to dy in place (when `relu`) and returns
    /// sum(dy) and sum(dy * (x - mean)).
    @inline(__always)
    static func gradientSums(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafeMutablePointer<Float>, _ n: Int,
                             mean: Float, relu: Bool) -> (Float, Float) {
        if relu { for i in 0..<n { dy[i] = maskPositive(dy[i], y[i]) } }
        return (sum(dy, n), dotCentred(dy, x, n, shift: mean))
    }

    /// dx = k * (dy - a - (x - mean) * b)   (dx may alias dy)
    @inline(__always)
    static func inputGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int,
                              mean: Float, k: Float, a: Float, b: Float) {
        for i in 0..<n { dx[i] = k * (dy[i] - a - (x[i] - mean) * b) }
    }

    /// Training backward. `dy` is the gradient of the (post-ReLU when fused) output `y`; it is
    /// rewritten in place: first masked by y > 0 when `relu`, then replaced by dx (dx may alias dy).
    public static func backwardTrain(_ s: Shape, x: UnsafePointer<Float>, y: UnsafePointer<Float>, relu: Bool,
                                     gamma: UnsafePointer<Float>, saveMean: UnsafePointer<Float>, saveInvStd: UnsafePointer<Float>,
                                     dy: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                     dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>) {
        let m = Float(s.batch * s.plane), cs = s.channels * s.plane
        Parallel.forEach(s.channels, minPerWorker: s.channelGrain) { _, channels in for c in channels {
            let mean = saveMean[c], invStd = saveInvStd[c]
            var sdy = 0.0, sdyx = 0.0
            for n in 0..<s.batch {
                let o = n * cs + c * s.plane
                let (a, b) = gradientSums(x + o, y + o, dy + o, s.plane, mean: mean, relu: relu)
                sdy += Double(a); sdyx += Double(b)
            }
            let gBeta = Float(sdy), gGamma = Float(sdyx) * invStd
            dgamma[c] = gGamma
            dbeta[c] = gBeta
            // dx = gamma * invStd * (dy - dbeta/m - xhat * dgamma/m)
            let k = gamma[c] * invStd, a = gBeta / m, b = gGamma / m * invStd
            for n in 0..<s.batch {
                let o = n * cs + c * s.plane
                inputGradient(x + o, dy + o, dx + o, s.plane, mean: mean, k: k, a: a, b: b)
            }
        } }
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
