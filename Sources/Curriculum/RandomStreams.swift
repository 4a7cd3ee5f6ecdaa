import Tensor

/// Stream tags for `SeededRandom(seed:, stream: tag, epoch)`: one independent stream per purpose
/// and epoch, so an order depends only on (seed, epoch, scores) and never on call history.
public enum CurriculumStream: UInt64, Sendable {
    /// Plain shuffles (warm-up, conventional baseline). Same tag as `EpochPlan.shuffled` in
    /// Training, so a warm-up epoch trains on exactly the order a non-curriculum run would.
    case shuffle = 0xE90C
    /// SPICE-E weighted orders.
    case spiceE = 0x5E1C_E0
    /// SPICE-S shuffles of the stage's training set.
    case spiceS = 0x5B1A_50
    /// BSS baseline weighted orders.
    case bss = 0xB55_0

    public func generator(seed: UInt64, epoch: Int) -> SeededRandom {
        SeededRandom(seed: seed, stream: rawValue, UInt64(epoch))
    }
}

/// The seeded shuffle of 0..<count for one epoch (warm-up and the conventional baseline).
public func shuffledOrder(count: Int, seed: UInt64, epoch: Int) -> [Int] {
    var rng = CurriculumStream.shuffle.generator(seed: seed, epoch: epoch)
    return rng.permutation(count)
}

/// In-place seeded Fisher-Yates shuffle of any index list.
func shuffle(_ a: inout [Int], _ rng: inout SeededRandom) {
    guard a.count > 1 else { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, rng.below(i + 1)) }
}
