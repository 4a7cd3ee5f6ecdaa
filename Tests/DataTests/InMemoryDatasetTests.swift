import XCTest
import Tensor
import Data

final class InMemoryDatasetTests: XCTestCase {
    func testGatherFoldsFramesIntoTheBatch() throws {
        let shapes = [InMemoryDataset.ModalityShape(name: "a", channels: 1, height: 2, width: 2),
                      InMemoryDataset.ModalityShape(name: "v", frames: 2, channels: 1, height: 1, width: 2)]
        let d = InMemoryDataset(shapes: shapes, classes: 3)
        d.append(label: 2, sample: [[1, 2, 3, 4], [5, 6, 7, 8]])
        d.append(label: 0, sample: [[9, 10, 11, 12], [13, 14, 15, 16]])
        let inputs = [Tensor(shape: [0]), Tensor(shape: [0])]
        let labels = try d.gather([1, 0], into: inputs, epoch: 0, training: true)
        XCTAssertEqual(labels, [0, 2])
        XCTAssertEqual(inputs[0].shape, [2, 1, 2, 2])
        XCTAssertEqual(inputs[1].shape, [4, 1, 1, 2])
        XCTAssertEqual(inputs[1].array, [13, 14, 15, 16, 5, 6, 7, 8])
    }
}
