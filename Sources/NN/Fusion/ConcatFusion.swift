import Tensor

/// Concatenation fusion, the default: Linear(M*D -> C) on [x_0, x_1, ...] concatenated along the
/// feature axis. Its parameters are the Linear's own (`head_fusion.weight`, `head_fusion.bias`),
/// as in the model before fusions were configurable (and OGM-GE's ConcatFusion without `fc_out`).
public final class ConcatFusion: FusionHead {
    public let modalityCount: Int, featureDim: Int, classes: Int
    public let linear: LinearLayer
    let concat = Tensor(shape: [0])
    let grads: [Tensor]
    var batch = 0

    public init(featureDim: Int, modalities: Int, classes: Int) {
        precondition(modalities >= 1 && featureDim >= 1 && classes >= 1, "concat fusion: bad sizes")
        self.featureDim = featureDim; self.modalityCount = modalities; self.classes = classes
        linear = LinearLayer(featureDim * modalities, classes)
        grads = (0..<modalities).map { _ in Tensor(shape: [0]) }
    }

    public var kind: FusionKind { .concat }
    public var layers: [LinearLayer] { [linear] }

    public func collect(_ prefix: String, into state: inout NamedState) { linear.collect(prefix, into: &state) }

    public func forward(features: [Tensor]) -> Tensor {
        batch = fusionBatch(features, modalities: modalityCount, width: featureDim, kind)
        ConcatFeatures.pack(features, batch: batch, width: featureDim, into: concat)
        return linear.forward(concat)
    }

    public func backward(dLogits: Tensor) -> [Tensor] {
        let dConcat = linear.backward(dLogits)!
        ConcatFeatures.split(dConcat, batch: batch, width: featureDim, into: grads)
        return grads
    }
}
