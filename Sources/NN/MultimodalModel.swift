import Tensor

/// One input stream of a multimodal sample: `channels` x H x W images, `frames` of them per sample.
public struct Modality: Sendable, Equatable {
    public let name: String, channels: Int, frames: Int
    public init(name: String, channels: Int, frames: Int = 1) {
        precondition(channels >= 1 && frames >= 1, "modality \(name): channels and frames must be >= 1")
        self.name = name; self.channels = channels; self.frames = frames
    }
}

/// The reference late-fusion classifier: one ResNet18 encoder per modality (frames folded into
/// the batch, features averaged over frames), a unimodal head per modality (`head_<name>`) and a
/// concat fusion head (`head_fusion`). Loss = CE(fusion) + sum_m CE(head_m) (the paper's eq. 17).
public final class MultimodalModel: Module {
    public let modalities: [Modality]
    public let classes: Int
    public let encoders: [ResNet18]
    public let fusionHead: LinearLayer
    public let heads: [LinearLayer]
    public let workspace: Tensor
    /// Activation-gradient scratch shared by the encoders (they run backward one after another).
    public let gradients = GradientPool()

    // Per-step buffers, reused.
    let features: [Tensor]
    let concat = Tensor(shape: [0])
    let dFeatures: [Tensor]
    public let fusionProbs = Tensor(shape: [0])
    public let headProbs: [Tensor]
    let dLogits = Tensor(shape: [0])
    var labels = [Int32]()
    var batch = 0

    public init(modalities: [Modality], classes: Int, width: Int = 64) {
        precondition(modalities.count >= 1, "at least one modality")
        precondition(Set(modalities.map(\.name)).count == modalities.count, "modality names must be unique")
        precondition(classes >= 2, "at least two classes")
        self.modalities = modalities; self.classes = classes
        let ws = Tensor(shape: [0])
        workspace = ws
        encoders = modalities.map { ResNet18(inChannels: $0.channels, width: width, workspace: ws) }
        let d = 8 * width
        fusionHead = LinearLayer(d * modalities.count, classes)
        heads = modalities.map { _ in LinearLayer(d, classes) }
        features = modalities.map { _ in Tensor(shape: [0]) }
        dFeatures = modalities.map { _ in Tensor(shape: [0]) }
        headProbs = modalities.map { _ in Tensor(shape: [0]) }
    }

    public var featureCount: Int { encoders[0].featureCount }

    public func collect(_ prefix: String, into state: inout NamedState) {
        for (m, e) in zip(modalities, encoders) { e.collect(prefix + m.name + ".", into: &state) }
        fusionHead.collect(prefix + "head_fusion.", into: &state)
        for (m, h) in zip(modalities, heads) { h.collect(prefix + "head_\(m.name).", into: &state) }
    }

    public func setTraining(_ training: Bool) { for e in encoders { e.setTraining(training) } }

    /// Encoders in modality order, then the fusion head, then the unimodal heads.
    public func initialize(seed: UInt64) {
        var rng = SeededRandom(seed: seed, stream: 0x1417)
        for e in encoders { e.initialize(&rng) }
        fusionHead.initialize(&rng)
        for h in heads { h.initialize(&rng) }
    }

    public struct Logits {
        public let fusion: Tensor
        public let unimodal: [Tensor]
    }

    /// inputs[m] is [B * frames_m, channels_m, H, W] (frames folded into the batch, sample-major).
    public func forward(_ inputs: [Tensor]) -> Logits {
        precondition(inputs.count == modalities.count, "expected \(modalities.count) inputs, got \(inputs.count)")
        let d = featureCount
        batch = inputs[0].shape[0] / modalities[0].frames
        for (m, x) in inputs.enumerated() {
            let t = modalities[m].frames
            precondition(x.shape.count == 4 && x.shape[0] == batch * t,
                         "\(modalities[m].name): expected [\(batch) x \(t), C, H, W], got \(x.shape)")
            let f = encoders[m].forward(x)
            features[m].resize([batch, d])
            averageFrames(f.data, into: features[m].data, batch: batch, frames: t, width: d)
        }
        concat.resize([batch, d * modalities.count])
        for b in 0..<batch {
            for m in 0..<modalities.count {
                (concat.data + b * d * modalities.count + m * d).update(from: features[m].data + b * d, count: d)
            }
        }
        let fused = fusionHead.forward(concat)
        let uni = zip(heads, features).map { $0.forward($1) }
        return Logits(fusion: fused, unimodal: uni)
    }

    /// Sum of the cross-entropies of the last forward's logits (probabilities kept in
    /// `fusionProbs` / `headProbs`). Returns (total, fusion, per-modality) losses.
    public func loss(_ logits: Logits, labels: [Int32]) -> (total: Float, fusion: Float, unimodal: [Float]) {
        precondition(labels.count == batch, "\(labels.count) labels for a batch of \(batch)")
        self.labels = labels
        fusionProbs.resize([batch, classes])
        let lf = labels.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.forward(batch: batch, classes: classes, logits: logits.fusion.data,
                                        labels: $0.baseAddress!, probs: fusionProbs.data)
        }
        var lu: [Float] = []
        for m in 0..<modalities.count {
            headProbs[m].resize([batch, classes])
            lu.append(labels.withUnsafeBufferPointer {
                SoftmaxCrossEntropy.forward(batch: batch, classes: classes, logits: logits.unimodal[m].data,
                                            labels: $0.baseAddress!, probs: headProbs[m].data)
            })
        }
        return (lu.reduce(lf, +), lf, lu)
    }

    /// Backward of `loss`: writes every parameter's gradient.
    public func backward() {
        let d = featureCount, M = modalities.count
        dLogits.resize([batch, classes])
        labels.withUnsafeBufferPointer {
            SoftmaxCrossEntropy.backward(batch: batch, classes: classes, probs: fusionProbs.data, labels: $0.baseAddress!, dlogits: dLogits.data)
        }
        let dConcat = fusionHead.backward(dLogits)!
        for m in 0..<M {
            dFeatures[m].resize([batch, d])
            for b in 0..<batch { (dFeatures[m].data + b * d).update(from: dConcat.data + b * d * M + m * d, count: d) }
        }
        for m in 0..<M {
            labels.withUnsafeBufferPointer {
                SoftmaxCrossEntropy.backward(batch: batch, classes: classes, probs: headProbs[m].data, labels: $0.baseAddress!, dlogits: dLogits.data)
            }
            let dh = heads[m].backward(dLogits)!
            Elementwise.axpy(1, dh.data, dFeatures[m].data, dh.count)
        }
        for m in 0..<M {
            let t = modalities[m].frames
            let dEnc: Tensor
            if t == 1 {
                dEnc = dFeatures[m]
            } else {
                dEnc = encoderGrad(m)
                dEnc.resize([batch * t, d])
                let inv = 1 / Float(t)
                for b in 0..<batch { for f in 0..<t { for k in 0..<d { dEnc.data[(b * t + f) * d + k] = dFeatures[m].data[b * d + k] * inv } } }
            }
            encoders[m].backward(dEnc, pool: gradients)
        }
    }

    private var frameGrads: [Int: Tensor] = [:]
    private func encoderGrad(_ m: Int) -> Tensor {
        if let t = frameGrads[m] { return t }
        let t = Tensor(shape: [0]); frameGrads[m] = t; return t
    }

    /// Forward FLOPs of the last forward pass (2 per multiply-add; convolutions and heads, as the
    /// PyTorch anchors' analytic counter).
    public var lastForwardFLOPs: Double {
        var f = 0.0
        for e in encoders { for c in e.convolutions { f += c.lastGeometry?.forwardFLOPs ?? 0 } }
        for h in [fusionHead] + heads { f += 2 * Double(batch * h.inFeatures * h.outFeatures) }
        return f
    }

    /// Mean over the `frames` rows of each sample: [B * T, D] -> [B, D].
    func averageFrames(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, batch: Int, frames: Int, width: Int) {
        if frames == 1 { dst.update(from: src, count: batch * width); return }
        let inv = 1 / Float(frames)
        for b in 0..<batch {
            for k in 0..<width {
                var s: Float = 0
                for f in 0..<frames { s += src[(b * frames + f) * width + k] }
                dst[b * width + k] = s * inv
            }
        }
    }
}

extension MultimodalModel: HasBatchNorms {
    public func batchNormLayers(prefix: String) -> [(String, BatchNorm2dLayer)] {
        zip(modalities, encoders).flatMap { $1.batchNormLayers(prefix: prefix + $0.name + ".") }
    }
}
