import Foundation
import Tensor

/// The fusion heads of `MultimodalModel` (the `--fusion` choices).
///
/// `concat` is the default (one Linear over the concatenated features); `sum`, `film` and `gated`
/// follow the OGM-GE reference heads (GeWu-Lab/OGM-GE_CVPR2022, models/fusion_modules.py) and keep
/// their PyTorch module names; `mlp` is concat -> Linear -> ReLU -> Linear.
public enum FusionKind: String, CaseIterable, Sendable {
    case concat, sum, film, gated, mlp
}

/// Maps per-modality features (each [B, D], modality order) to fused logits [B, C], and back.
///
/// Contract, as for the layers: `backward(dLogits:)` follows the `forward` it belongs to, writes
/// every parameter's gradient exactly once and calls its `gradientReady()`, and returns one
/// feature gradient per modality (each [B, D]). Returned tensors are owned by the head and are
/// overwritten by its next pass; callers copy what they keep. The feature tensors given to
/// `forward` must stay unchanged until `backward` (the head keeps references, not copies).
///
/// Parameter names (under the model's `head_fusion.` prefix) are PyTorch `state_dict` keys:
///
/// | kind   | parameters (state_dict order)                                    |
/// |--------|------------------------------------------------------------------|
/// | concat | `weight`, `bias` (a bare nn.Linear, as before fusions existed)     |
/// | sum    | `fc_x.*`, `fc_y.*`, then `fc_2.*`, `fc_3.*`, ... for M > 2           |
/// | film   | `fc.*` (D -> 2D: gamma then beta), `fc_out.*`                      |
/// | gated  | `fc_x.*`, `fc_y.*` (D -> D), `fc_out.*`                             |
/// | mlp    | `fc_hidden.*` (M*D -> H), `fc_out.*` (H -> C)                        |
///
/// More than two modalities: `sum` adds one Linear per modality. `film` and `gated` are
/// two-input heads; with M > 2 their "x" input is modality 0 and their "y" input is the mean of
/// modalities 1..<M (for M = 2 this is exactly the reference head). So modality 0 modulates
/// (FiLM, `xFilm`) or gates (`xGate`) the average of the others, or, with the flag off, the
/// average of the others modulates / gates modality 0. They need M >= 2.
public protocol FusionHead: Module {
    var kind: FusionKind { get }
    var modalityCount: Int { get }
    var featureDim: Int { get }
    var classes: Int { get }
    /// Every Linear of the head, in state_dict order; the last one produces the logits.
    var layers: [LinearLayer] { get }
    func forward(features: [Tensor]) -> Tensor
    func backward(dLogits: Tensor) -> [Tensor]
    /// xavier_normal_ weights and zero biases, layer by layer in state_dict order.
    func initialize(_ rng: inout SeededRandom)
}

extension FusionHead {
    public func collect(prefix: String, into state: inout NamedState) { collect(prefix, into: &state) }

    /// No dropout or normalisation inside the heads.
    public func setTraining(_ training: Bool) {}

    public func initialize(_ rng: inout SeededRandom) { for l in layers { l.initialize(&rng) } }

    /// The bias of the last Linear: it is added to every fused logit (fault injection uses it).
    public var outputBias: Parameter { layers.last!.bias }

    /// Forward FLOPs (2 per multiply-add) of the Linears for a batch; element-wise work ignored.
    public func forwardFLOPs(batch: Int) -> Double {
        layers.reduce(0) { $0 + 2 * Double(batch * $1.inFeatures * $1.outFeatures) }
    }
}

/// Builds a head for `modalities` inputs of `featureDim` features. `hidden` is the MLP's hidden
/// size (ignored by the other kinds).
public func makeFusionHead(_ kind: FusionKind, featureDim: Int, modalities: Int, classes: Int,
                           hidden: Int = 256) -> FusionHead {
    switch kind {
    case .concat: return ConcatFusion(featureDim: featureDim, modalities: modalities, classes: classes)
    case .sum: return SumFusion(featureDim: featureDim, modalities: modalities, classes: classes)
    case .film: return FiLMFusion(featureDim: featureDim, modalities: modalities, classes: classes)
    case .gated: return GatedFusion(featureDim: featureDim, modalities: modalities, classes: classes)
    case .mlp: return MLPFusion(featureDim: featureDim, modalities: modalities, classes: classes, hidden: hidden)
    }
}

/// Checks `features` against the head's shape and returns the batch size.
func fusionBatch(_ features: [Tensor], modalities: Int, width: Int, _ kind: FusionKind) -> Int {
    precondition(features.count == modalities, "\(kind) fusion: expected \(modalities) feature tensors, got \(features.count)")
    let batch = features[0].shape.first ?? 0
    for (m, f) in features.enumerated() {
        precondition(f.shape == [batch, width], "\(kind) fusion: modality \(m) features must be [\(batch), \(width)], got \(f.shape)")
    }
    return batch
}

/// Concatenation of the modalities' features per sample ([batch, M * width], modality-major
/// within a row) for the concat and MLP heads, and the split of its gradient back.
enum ConcatFeatures {
    static func pack(_ features: [Tensor], batch: Int, width d: Int, into concat: Tensor) {
        let M = features.count
        concat.resize([batch, d * M])
        for b in 0..<batch {
            for m in 0..<M { (concat.data + b * d * M + m * d).update(from: features[m].data + b * d, count: d) }
        }
    }

    static func split(_ dConcat: Tensor, batch: Int, width d: Int, into grads: [Tensor]) {
        let M = grads.count
        for m in 0..<M {
            grads[m].resize([batch, d])
            for b in 0..<batch { (grads[m].data + b * d).update(from: dConcat.data + b * d * M + m * d, count: d) }
        }
    }
}

/// The two inputs of a two-input head (FiLM, gated): x = modality 0, y = mean of modalities
/// 1..<M (modality 1 itself when M = 2), and the way back to per-modality gradients.
final class PairInputs {
    let modalities: Int, width: Int
    let mean = Tensor(shape: [0])
    let grads: [Tensor]

    init(modalities: Int, width: Int, _ kind: FusionKind) {
        precondition(modalities >= 2, "\(kind) fusion combines two inputs and needs at least 2 modalities, got \(modalities)")
        self.modalities = modalities; self.width = width
        grads = (0..<max(0, modalities - 1)).map { _ in Tensor(shape: [0]) }
    }

    func inputs(_ features: [Tensor]) -> (x: Tensor, y: Tensor) {
        if modalities == 2 { return (features[0], features[1]) }
        let n = features[1].count
        mean.resize(features[1].shape)
        mean.data.update(from: features[1].data, count: n)
        for m in 2..<modalities { Elementwise.axpy(1, features[m].data, mean.data, n) }
        let inv = 1 / Float(modalities - 1)
        for i in 0..<n { mean.data[i] *= inv }
        return (features[0], mean)
    }

    /// dx goes to modality 0; dy is shared equally by modalities 1..<M.
    func gradients(dx: Tensor, dy: Tensor) -> [Tensor] {
        if modalities == 2 { return [dx, dy] }
        let inv = 1 / Float(modalities - 1)
        for g in grads {
            g.resize(dy.shape)
            for i in 0..<dy.count { g.data[i] = dy.data[i] * inv }
        }
        return [dx] + grads
    }
}

@inline(__always) func fusionSigmoid(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }
