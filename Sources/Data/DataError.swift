/// A problem with a data file: what is wrong, in which file, which dataset ("/" for the root
/// group, whose attributes describe the file) and, when it concerns one sample, which sample index.
/// Readers and writers throw it for every violation; they never crash or skip silently.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let dataset: String?
    public let sample: Int?
    public let message: String

    public init(file: String, dataset: String? = nil, sample: Int? = nil, _ message: String) {
        self.file = file; self.dataset = dataset; self.sample = sample; self.message = message
    }

    public var description: String {
        var s = file
        if let dataset { s += dataset == "/" ? ": root group" : ": dataset '\(dataset)'" }
        if let sample { s += ": sample \(sample)" }
        return s + ": " + message
    }
}
