import Tensor

/// FiLM fusion (OGM-GE's FiLM, after Perez et al. 2018): `fc` = Linear(D -> 2D) maps the
/// conditioning input to gamma (first D outputs) and beta (last D); the other input becomes
/// gamma * other + beta, then `fc_out` = Linear(D -> C).
///
/// Inputs: x = modality 0, y = modality 1 (for M > 2, the mean of modalities 1..<M; see
/// `FusionHead`). `xFilm` (default true, as the reference) makes x the conditioning input.
public final class FiLMFusion: FusionHead {
    public let modalityCount: Int, featureDim: Int, classes: Int
    public let xFilm: Bool
    public let fc: LinearLayer, fcOut: LinearLayer
    let pair: PairInputs
    let modulated = Tensor(shape: [0])
    let dParams = Tensor(shape: [0])
    let dTarget = Tensor(shape: [0])
    var target: Tensor?
    var batch = 0

    public init(featureDim: Int, modalities: Int, classes: Int, xFilm: Bool = true) {
        precondition(featureDim >= 1 && classes >= 1, "film fusion: bad sizes")
        self.featureDim = featureDim; self.modalityCount = modalities; self.classes = classes; self.xFilm = xFilm
        pair = PairInputs(modalities: modalities, width: featureDim, .film)
        fc = LinearLayer(featureDim, 2 * featureDim)
        fcOut = LinearLayer(featureDim, classes)
    }

    public var kind: FusionKind { .film }
    public var layers: [LinearLayer] { [fc, fcOut] }

    public func collect(_ prefix: String, into state: inout NamedState) {
        fc.collect(prefix + "fc.", into: &state)
        fcOut.collect(prefix + "fc_out.", into: &state)
    }

    public func forward(features: [Tensor]) -> Tensor {
        batch = fusionBatch(features, modalities: modalityCount, width: featureDim, kind)
        let (x, y) = pair.inputs(features)
        let (source, target) = xFilm ? (x, y) : (y, x)
        self.target = target
        let d = featureDim
        let p = fc.forward(source)
        modulated.resize([batch, d])
        for b in 0..<batch {
            let gamma = p.data + b * 2 * d, beta = gamma + d, t = target.data + b * d, h = modulated.data + b * d
            for k in 0..<d { h[k] = gamma[k] * t[k] + beta[k] }
        }
        return fcOut.forward(modulated)
    }

    public func backward(dLogits: Tensor) -> [Tensor] {
        guard let target else { preconditionFailure("film fusion: backward before forward") }
        let d = featureDim
        let dh = fcOut.backward(dLogits)!
        let p = fc.output
        dParams.resize([batch, 2 * d]); dTarget.resize([batch, d])
        for b in 0..<batch {
            let g = dh.data + b * d, t = target.data + b * d, gamma = p.data + b * 2 * d
            let dGamma = dParams.data + b * 2 * d, dBeta = dGamma + d, dt = dTarget.data + b * d
            for k in 0..<d {
                dGamma[k] = g[k] * t[k]
                dBeta[k] = g[k]
                dt[k] = g[k] * gamma[k]
            }
        }
        let dSource = fc.backward(dParams)!
        return xFilm ? pair.gradients(dx: dSource, dy: dTarget) : pair.gradients(dx: dTarget, dy: dSource)
    }
}
