import Tensor

/// Sum fusion (OGM-GE's SumFusion): logits = fc_x(x_0) + fc_y(x_1), each a Linear(D -> C) with
/// bias. For M > 2 every further modality m adds its own Linear `fc_<m>` (`fc_2`, `fc_3`, ...);
/// for M = 1 it is `fc_x` alone.
public final class SumFusion: FusionHead {
    public let modalityCount: Int, featureDim: Int, classes: Int
    /// One Linear(D -> C) per modality, in modality order.
    public let fcs: [LinearLayer]
    let output = Tensor(shape: [0])

    public init(featureDim: Int, modalities: Int, classes: Int) {
        precondition(modalities >= 1 && featureDim >= 1 && classes >= 1, "sum fusion: bad sizes")
        self.featureDim = featureDim; self.modalityCount = modalities; self.classes = classes
        fcs = (0..<modalities).map { _ in LinearLayer(featureDim, classes) }
    }

    /// `fc_x`, `fc_y`, then `fc_2`, `fc_3`, ...
    public static func layerName(_ m: Int) -> String { m == 0 ? "fc_x" : m == 1 ? "fc_y" : "fc_\(m)" }

    public var kind: FusionKind { .sum }
    public var layers: [LinearLayer] { fcs }

    public func collect(_ prefix: String, into state: inout NamedState) {
        for (m, fc) in fcs.enumerated() { fc.collect(prefix + Self.layerName(m) + ".", into: &state) }
    }

    public func forward(features: [Tensor]) -> Tensor {
        let batch = fusionBatch(features, modalities: modalityCount, width: featureDim, kind)
        output.resize([batch, classes])
        for (m, fc) in fcs.enumerated() {
            let y = fc.forward(features[m])
            if m == 0 { output.data.update(from: y.data, count: y.count) } else { Elementwise.axpy(1, y.data, output.data, y.count) }
        }
        return output
    }

    public func backward(dLogits: Tensor) -> [Tensor] {
        fcs.map { $0.backward(dLogits)! }
    }
}
