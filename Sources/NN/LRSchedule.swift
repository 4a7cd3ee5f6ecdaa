import Foundation

/// Learning-rate schedules with PyTorch's per-epoch semantics: `rate(epoch:)` is the rate used
/// during epoch `epoch` (0-based), i.e. after `epoch` calls of scheduler.step().
public enum LRSchedule: Sendable, Equatable {
    case constant
    /// CosineAnnealingLR(T_max, eta_min); like PyTorch it rises again after T_max.
    case cosine(tMax: Int, etaMin: Double)
    /// StepLR(step_size, gamma).
    case step(size: Int, gamma: Double)

    public func rate(base: Double, epoch: Int) -> Double {
        switch self {
        case .constant:
            return base
        case let .cosine(tMax, etaMin):
            return etaMin + (base - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2
        case let .step(size, gamma):
            return base * pow(gamma, Double(epoch / size))
        }
    }
}
