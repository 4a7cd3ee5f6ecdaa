import Tensor

/// Where training and evaluation batches come from: an in-memory dataset, an HDF5 file read by
/// a rank (with prefetch and augmentation), ... The trainer only sees this.
public protocol SampleSource: AnyObject {
    /// Number of samples.
    var count: Int { get }
    var classes: Int { get }
    /// Per modality, the model's input shape of one sample (frames x channels x H x W).
    var shapes: [InMemoryDataset.ModalityShape] { get }
    /// Copies the samples `indices` into `inputs[m]`, shaped [B * frames, C, H, W] (frames folded
    /// into the batch, sample-major), and returns their labels. `epoch` seeds augmentation so runs
    /// repeat; `training` selects training (random) or evaluation (deterministic) preprocessing.
    func gather(_ indices: ArraySlice<Int>, into inputs: [Tensor], epoch: Int, training: Bool) throws -> [Int32]
}

extension InMemoryDataset: SampleSource {
    public func gather(_ indices: ArraySlice<Int>, into inputs: [Tensor], epoch: Int, training: Bool) throws -> [Int32] {
        gather(indices, into: inputs)
    }
}

/// Optional per-sample facts some sources know: the planted kind of synthetic samples and
/// sample ids, used for score dumps and analysis.
public protocol SampleMetadata {
    /// Planted interaction kind per sample (see DataFormat kind codes), nil when unknown.
    var kindNames: [String]? { get }
    /// Annotator ratings [N x M] row-major: per modality the fraction of raters who perceived the
    /// true class; nil when the data has none.
    var annotatorRatings: [Float]? { get }
    var sampleLabels: [Int32] { get }
}
