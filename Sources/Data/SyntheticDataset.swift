import Tensor

/// A small generated audio-visual dataset for demos and tests: each class has a fixed random
/// pattern per modality; a sample is its class pattern scaled by a per-sample strength plus
/// Gaussian noise, so the task is learnable but not trivial and both modalities carry signal.
public enum SyntheticDataset {
    public static func make(count: Int, classes: Int, shapes: [InMemoryDataset.ModalityShape],
                            noise: Float = 1.0, seed: UInt64) -> InMemoryDataset {
        precondition(count >= 1 && classes >= 2, "need at least one sample and two classes")
        var rng = SeededRandom(seed: seed, stream: 0x5157)
        let patterns: [[[Float]]] = shapes.map { s in
            (0..<classes).map { _ in (0..<s.sampleCount).map { _ in rng.normal() } }
        }
        let ds = InMemoryDataset(shapes: shapes, classes: classes)
        for i in 0..<count {
            let label = i % classes
            var sample: [[Float]] = []
            for m in 0..<shapes.count {
                let strength = 0.3 + 0.7 * rng.uniform()
                sample.append(patterns[m][label].map { strength * $0 + noise * rng.normal() })
            }
            ds.append(label: Int32(label), sample: sample)
        }
        return ds
    }
}
