import Foundation

/// What it takes to rebuild a `MultimodalModel`: stored in checkpoints and exported weights (as
/// safetensors metadata) so `spice eval` / `spice export` and PyTorch users know the shape.
public struct ModelArchitecture: Codable, Equatable, Sendable {
    public struct Stream: Codable, Equatable, Sendable {
        public let name: String, channels: Int, frames: Int
    }
    public let modalities: [Stream]
    public let classes: Int
    public let width: Int
    public let fusion: String
    public let fusionHidden: Int

    public static let metadataKey = "spice_architecture"

    public init(_ model: MultimodalModel, fusionHidden: Int) {
        modalities = model.modalities.map { Stream(name: $0.name, channels: $0.channels, frames: $0.frames) }
        classes = model.classes
        width = model.encoders[0].width
        fusion = model.fusion.kind.rawValue
        self.fusionHidden = fusionHidden
    }

    public func build() throws -> MultimodalModel {
        guard let kind = FusionKind(rawValue: fusion) else {
            throw SafeTensors.FormatError(description: "unknown fusion '\(fusion)' in the model architecture")
        }
        return MultimodalModel(modalities: modalities.map { Modality(name: $0.name, channels: $0.channels, frames: $0.frames) },
                               classes: classes, width: width, fusion: kind, fusionHidden: fusionHidden)
    }

    public var json: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(ModelArchitecture.self, from: Data(json.utf8))
    }
}
