import XCTest
import Tensor
import NN

final class SafeTensorsTests: XCTestCase {
    func model() -> MultimodalModel {
        MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3)], classes: 3, width: 2)
    }

    func testRoundTripRestoresEveryTensorAndCounter() throws {
        let a = model(); a.initialize(seed: 1)
        a.encoders[0].bn1.batchesTracked = 7
        a.encoders[1].bn1.runningMean[0] = 0.25
        let blob = try SafeTensors.encode(a.stateDictEntries(), metadata: ["format": "pt"])
        let (tensors, meta) = try SafeTensors.decode(blob)
        XCTAssertEqual(meta["format"], "pt")
        XCTAssertEqual(tensors["audio.bn1.num_batches_tracked"], .int64(shape: [], values: [7]))
        let b = model(); b.initialize(seed: 2)
        try b.loadStateDict(tensors, source: "blob")
        XCTAssertEqual(b.namedState().tensors.flatMap { $0.tensor.array }, a.namedState().tensors.flatMap { $0.tensor.array })
        XCTAssertEqual(b.encoders[0].bn1.batchesTracked, 7)
        // Header: 8-byte length, then JSON padded to a multiple of 8.
        let n = blob.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(n % 8, 0)
    }

    func testMismatchedModelsAndDamagedFilesGiveClearErrors() throws {
        let a = model()
        let blob = try SafeTensors.encode(a.stateDictEntries())
        let wider = MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3)], classes: 3, width: 4)
        XCTAssertThrowsError(try wider.loadStateDict(SafeTensors.decode(blob).tensors, source: "ckpt")) {
            XCTAssertTrue("\($0)".contains("has shape"), "\($0)")
        }
        let three = MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3),
                                                 Modality(name: "flow", channels: 2)], classes: 3, width: 2)
        XCTAssertThrowsError(try three.loadStateDict(SafeTensors.decode(blob).tensors, source: "ckpt")) {
            XCTAssertTrue("\($0)".contains("missing flow."), "\($0)")
        }
        XCTAssertThrowsError(try SafeTensors.decode(blob.prefix(blob.count - 10), source: "cut")) {
            XCTAssertTrue("\($0)".contains("truncated"), "\($0)")
        }
        XCTAssertThrowsError(try SafeTensors.decode(Data([1, 2, 3]), source: "tiny"))
        XCTAssertThrowsError(try SafeTensors.decode(Data(repeating: 0xFF, count: 64), source: "junk"))
    }
}
