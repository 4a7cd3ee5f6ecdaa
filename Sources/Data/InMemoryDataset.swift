import Tensor

/// Samples held in memory: per modality a [N, frames * channels * H * W] float block, plus labels.
/// The per-sample layout is the model's input layout, so a batch is a gather of rows.
public final class InMemoryDataset {
    public struct ModalityShape: Sendable, Equatable {
        public let name: String, frames: Int, channels: Int, height: Int, width: Int
        public init(name: String, frames: Int = 1, channels: Int, height: Int, width: Int) {
            self.name = name; self.frames = frames; self.channels = channels; self.height = height; self.width = width
        }
        public var sampleCount: Int { frames * channels * height * width }
    }

    public let shapes: [ModalityShape]
    public let classes: Int
    public private(set) var values: [[Float]]
    public private(set) var labels: [Int32]

    public init(shapes: [ModalityShape], classes: Int) {
        self.shapes = shapes; self.classes = classes
        values = shapes.map { _ in [] }
        labels = []
    }

    public var count: Int { labels.count }

    public func append(label: Int32, sample: [[Float]]) {
        precondition(sample.count == shapes.count, "sample has \(sample.count) modalities, dataset \(shapes.count)")
        precondition(label >= 0 && Int(label) < classes, "label \(label) outside [0, \(classes))")
        for m in 0..<shapes.count {
            precondition(sample[m].count == shapes[m].sampleCount, "modality \(shapes[m].name): wrong sample size")
            values[m].append(contentsOf: sample[m])
        }
        labels.append(label)
    }

    /// Copies the samples `indices` into `inputs[m]` shaped [B * frames, C, H, W]; returns their labels.
    public func gather(_ indices: ArraySlice<Int>, into inputs: [Tensor]) -> [Int32] {
        for (m, s) in shapes.enumerated() {
            inputs[m].resize([indices.count * s.frames, s.channels, s.height, s.width])
            values[m].withUnsafeBufferPointer { src in
                for (k, i) in indices.enumerated() {
                    (inputs[m].data + k * s.sampleCount).update(from: src.baseAddress! + i * s.sampleCount, count: s.sampleCount)
                }
            }
        }
        return indices.map { labels[$0] }
    }
}
