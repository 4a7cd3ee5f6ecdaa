import Tensor

/// MLP fusion: the concatenated features [x_0, x_1, ...] through `fc_hidden` = Linear(M*D -> H),
/// ReLU, then `fc_out` = Linear(H -> C). H is `hidden` (the model's `fusionHidden`, default 256).
public final class MLPFusion: FusionHead {
    public let modalityCount: Int, featureDim: Int, classes: Int, hidden: Int
    public let fcHidden: LinearLayer, fcOut: LinearLayer
    let concat = Tensor(shape: [0])
    let activation = Tensor(shape: [0])
    let dHidden = Tensor(shape: [0])
    let grads: [Tensor]
    var batch = 0

    public init(featureDim: Int, modalities: Int, classes: Int, hidden: Int = 256) {
        precondition(modalities >= 1 && featureDim >= 1 && classes >= 1 && hidden >= 1, "mlp fusion: bad sizes")
        self.featureDim = featureDim; self.modalityCount = modalities; self.classes = classes; self.hidden = hidden
        fcHidden = LinearLayer(featureDim * modalities, hidden)
        fcOut = LinearLayer(hidden, classes)
        grads = (0..<modalities).map { _ in Tensor(shape: [0]) }
    }

    public var kind: FusionKind { .mlp }
    public var layers: [LinearLayer] { [fcHidden, fcOut] }

    public func collect(_ prefix: String, into state: inout NamedState) {
        fcHidden.collect(prefix + "fc_hidden.", into: &state)
        fcOut.collect(prefix + "fc_out.", into: &state)
    }

    public func forward(features: [Tensor]) -> Tensor {
        batch = fusionBatch(features, modalities: modalityCount, width: featureDim, kind)
        ConcatFeatures.pack(features, batch: batch, width: featureDim, into: concat)
        let z = fcHidden.forward(concat)
        activation.resize(z.shape)
        Elementwise.relu(z.data, activation.data, z.count)
        return fcOut.forward(activation)
    }

    public func backward(dLogits: Tensor) -> [Tensor] {
        let da = fcOut.backward(dLogits)!
        dHidden.resize(activation.shape)
        Elementwise.reluBackward(y: activation.data, dy: da.data, dx: dHidden.data, activation.count)
        let dConcat = fcHidden.backward(dHidden)!
        ConcatFeatures.split(dConcat, batch: batch, width: featureDim, into: grads)
        return grads
    }
}
