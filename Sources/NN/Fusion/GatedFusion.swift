import Tensor

/// Gated fusion (OGM-GE's GatedFusion, after Kiela et al. 2018): out_x = fc_x(x),
/// out_y = fc_y(y) (Linear(D -> D) each); with `xGate` (default true, as the reference) the
/// gate is sigmoid(out_x) and the logits are fc_out(gate * out_y), otherwise
/// fc_out(out_x * sigmoid(out_y)). fc_out = Linear(D -> C).
///
/// Inputs: x = modality 0, y = modality 1 (for M > 2, the mean of modalities 1..<M; see
/// `FusionHead`).
public final class GatedFusion: FusionHead {
    public let modalityCount: Int, featureDim: Int, classes: Int
    public let xGate: Bool
    public let fcX: LinearLayer, fcY: LinearLayer, fcOut: LinearLayer
    let pair: PairInputs
    let gate = Tensor(shape: [0])
    let gated = Tensor(shape: [0])
    let dOutX = Tensor(shape: [0])
    let dOutY = Tensor(shape: [0])

    public init(featureDim: Int, modalities: Int, classes: Int, xGate: Bool = true) {
        precondition(featureDim >= 1 && classes >= 1, "gated fusion: bad sizes")
        self.featureDim = featureDim; self.modalityCount = modalities; self.classes = classes; self.xGate = xGate
        pair = PairInputs(modalities: modalities, width: featureDim, .gated)
        fcX = LinearLayer(featureDim, featureDim)
        fcY = LinearLayer(featureDim, featureDim)
        fcOut = LinearLayer(featureDim, classes)
    }

    public var kind: FusionKind { .gated }
    public var layers: [LinearLayer] { [fcX, fcY, fcOut] }

    public func collect(_ prefix: String, into state: inout NamedState) {
        fcX.collect(prefix + "fc_x.", into: &state)
        fcY.collect(prefix + "fc_y.", into: &state)
        fcOut.collect(prefix + "fc_out.", into: &state)
    }

    public func forward(features: [Tensor]) -> Tensor {
        let batch = fusionBatch(features, modalities: modalityCount, width: featureDim, kind)
        let (x, y) = pair.inputs(features)
        let ox = fcX.forward(x), oy = fcY.forward(y)
        let (gating, other) = xGate ? (ox, oy) : (oy, ox)
        let n = batch * featureDim
        gate.resize([batch, featureDim]); gated.resize([batch, featureDim])
        for i in 0..<n {
            let s = fusionSigmoid(gating.data[i])
            gate.data[i] = s
            gated.data[i] = s * other.data[i]
        }
        return fcOut.forward(gated)
    }

    public func backward(dLogits: Tensor) -> [Tensor] {
        let dh = fcOut.backward(dLogits)!
        let other = xGate ? fcY.output : fcX.output
        let (dGating, dOther) = xGate ? (dOutX, dOutY) : (dOutY, dOutX)
        let n = gate.count
        dOutX.resize(gate.shape); dOutY.resize(gate.shape)
        for i in 0..<n {
            let s = gate.data[i], g = dh.data[i]
            dOther.data[i] = g * s
            dGating.data[i] = g * other.data[i] * s * (1 - s)
        }
        let dx = fcX.backward(dOutX)!, dy = fcY.backward(dOutY)!
        return pair.gradients(dx: dx, dy: dy)
    }
}
