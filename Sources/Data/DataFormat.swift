/// Names and constants of the SPICE HDF5 data format (one file per split); see docs/data-format.md.
public enum DataFormat {
    /// The `format_version` root attribute this code writes and reads.
    public static let version = 1

    // Root attributes.
    public static let versionAttribute = "format_version"
    public static let modalitiesAttribute = "modalities"
    public static let classesAttribute = "classes"
    public static let classNamesAttribute = "class_names"
    public static let preprocessingAttribute = "preprocessing"
    // Per-modality dataset attributes.
    public static let modalityKindAttribute = "kind"
    public static let meanAttribute = "mean"
    public static let stdAttribute = "std"

    // Per-sample datasets besides the modalities.
    public static let labelDataset = "label"
    public static let idDataset = "id"
    public static let kindDataset = "kind"
    public static let ratingsDataset = "ratings"
    /// Names a modality may not take.
    public static let reservedNames: Set<String> = [labelDataset, idDataset, kindDataset, ratingsDataset]

    /// The ImageNet normalisation frames expect (torchvision's constants), per RGB channel.
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]

    // Planted interaction kinds (the optional per-sample `kind` dataset) for M modalities:
    // 0 redundant, 1 + m unique to modality m (0 <= m < M), M + 1 synergistic.
    public static let redundant: UInt8 = 0
    public static func unique(_ modality: Int) -> UInt8 { UInt8(1 + modality) }
    public static func synergistic(modalities: Int) -> UInt8 { UInt8(modalities + 1) }

    /// "redundant", "unique-audio", ..., "synergistic" for kind code `k`.
    public static func kindName(_ k: Int, modalities: [String]) -> String {
        if k == 0 { return "redundant" }
        if k >= 1 && k <= modalities.count { return "unique-" + modalities[k - 1] }
        if k == modalities.count + 1 { return "synergistic" }
        return "invalid(\(k))"
    }
}

/// What a modality's samples are: spectrograms go to the model as stored; frames are
/// uint8 RGB images that get resized/augmented and ImageNet-normalised on the way in.
public enum ModalityKind: String, Sendable, Equatable {
    case spectrogram, frames
}

/// How a modality's values are stored in the file.
public enum SampleStorage: String, Sendable, Equatable {
    case float32, float16, uint8

    /// Bytes per stored value.
    public var bytes: Int {
        switch self { case .float32: 4; case .float16: 2; case .uint8: 1 }
    }
}

/// The stored shape and type of one modality: spectrograms [C, H, W] float32/float16,
/// frames [T, 3, H, W] uint8 (per sample; the dataset has a leading N dimension).
public struct ModalitySpec: Sendable, Equatable {
    public let name: String
    public let kind: ModalityKind
    public let storage: SampleStorage
    public let frames: Int, channels: Int, height: Int, width: Int

    public init(name: String, kind: ModalityKind, storage: SampleStorage, frames: Int, channels: Int, height: Int, width: Int) {
        self.name = name; self.kind = kind; self.storage = storage
        self.frames = frames; self.channels = channels; self.height = height; self.width = width
    }

    public static func spectrogram(_ name: String = "audio", channels: Int = 1, height: Int, width: Int,
                                   storage: SampleStorage = .float32) -> ModalitySpec {
        ModalitySpec(name: name, kind: .spectrogram, storage: storage, frames: 1, channels: channels, height: height, width: width)
    }

    public static func frames(_ name: String = "visual", frames: Int = 1, height: Int, width: Int) -> ModalitySpec {
        ModalitySpec(name: name, kind: .frames, storage: .uint8, frames: frames, channels: 3, height: height, width: width)
    }

    /// Per-sample dimensions as stored: [C, H, W] or [T, C, H, W].
    public var sampleShape: [Int] { kind == .frames ? [frames, channels, height, width] : [channels, height, width] }
    public var sampleCount: Int { frames * channels * height * width }
}
