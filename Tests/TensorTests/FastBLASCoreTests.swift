import XCTest
import Tensor

final class FastBLASCoreTests: XCTestCase {
    let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]

    func testWeakCoreOnAVX512MachineAsksForSkylakeX() {
        XCTAssertEqual(FastBLASCore.coreToRequest(environment: [:], loadedCore: "Prescott", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(FastBLASCore.coreToRequest(environment: [:], loadedCore: "Prescott", cpuFlags: ["avx", "avx2", "fma"]), "Haswell")
    }

    func testLeavesGoodCoresUserChoicesAndOldCPUsAlone() {
        XCTAssertNil(FastBLASCore.coreToRequest(environment: [:], loadedCore: "Cooperlake", cpuFlags: avx512))
        XCTAssertNil(FastBLASCore.coreToRequest(environment: ["OPENBLAS_CORETYPE": "Prescott"], loadedCore: "Prescott", cpuFlags: avx512))
        XCTAssertNil(FastBLASCore.coreToRequest(environment: ["SPICE_BLAS_REEXEC": "1"], loadedCore: "Prescott", cpuFlags: avx512))
        XCTAssertNil(FastBLASCore.coreToRequest(environment: [:], loadedCore: "Prescott", cpuFlags: ["sse3"]))
    }
}
