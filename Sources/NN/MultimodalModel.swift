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
/// fusion head (`head_fusion`; concat by default, see `FusionKind`). Loss = CE(fusion) +
/// sum_m CE(head_m) (the paper's eq. 17).
public final class MultimodalModel: Module {
    public let modalities: [Modality]
    public let classes: Int
    public let encoders: [ResNet18]
    /// The fusion head; its parameters are named under `head_fusion.` (see `FusionHead`).
    public let fusion: FusionHead
    public let heads: [LinearLayer]
    public let workspace: Tensor
    /// Activation-gradient scratch shared by the encoders (they run backward one after another).
    public let gradients = GradientPool()

    // Per-step buffers, reused.
    let features: [Tensor]
    let dFeatures: [Tensor]
    public let fusionProbs = Tensor(shape: [0])
    public let headProbs: [Tensor]
    let dLogits = Tensor(shape: [0])
    var labels = [Int32]()
    var batch = 0

    /// `fusion` picks the fusion head; `fusionHidden` is the hidden size of the `.mlp` head.
    public init(modalities: [Modality], classes: Int, width: Int = 64, fusion: FusionKind = .concat, fusionHidden: Int = 256) {
        precondition(modalities.count >= 1, "at least one modality")
        precondition(Set(modalities.map(\.name)).count == modalities.count, "modality names must be unique")
        precondition(classes >= 2, "at least two classes")
        self.modalities = modalities; self.classes = classes
        let ws = Tensor(shape: [0])
        workspace = ws
        encoders = modalities.map { ResNet18(inChannels: $0.channels, width: width, workspace: ws) }
        let d = 8 * width
        self.fusion = makeFusionHead(fusion, featureDim: d, modalities: modalities.count, classes: classes, hidden: fusionHidden)
        heads = modalities.map { _ in LinearLayer(d, classes) }
        features = modalities.map { _ in Tensor(shape: [0]) }
        dFeatures = modalities.map { _ in Tensor(shape: [0]) }
        headProbs = modalities.map { _ in Tensor(shape: [0]) }
    }

    public var featureCount: Int { encoders[0].featureCount }

    public func collect(_ prefix: String, into state: inout NamedState) {
        for (m, e) in zip(modalities, encoders) { e.collect(prefix + m.name + ".", into: &state) }
        fusion.collect(prefix: prefix + "head_fusion.", into: &state)
        for (m, h) in zip(modalities, heads) { h.collect(prefix + "head_\(m.name).", into: &state) }
    }

    public func setTraining(_ training: Bool) { for e in encoders { e.setTraining(training) } }

    /// Encoders in modality order, then the fusion head, then the unimodal heads.
    public func initialize(seed: UInt64) {
        var rng = SeededRandom(seed: seed, stream: 0x1417)
        for e in encoders { e.initialize(&rng) }
        fusion.initialize(&rng)
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
        let fused = fusion.forward(features: features)
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
        let dFused = fusion.backward(dLogits: dLogits)
        for m in 0..<M {
            dFeatures[m].resize([batch, d])
            dFeatures[m].data.update(from: dFused[m].data, count: batch * d)
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
        f += fusion.forwardFLOPs(batch: batch)
        for h in heads { f += 2 * Double(batch * h.inFeatures * h.outFeatures) }
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
