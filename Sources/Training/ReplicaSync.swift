import Foundation
import Tensor
import NN
import Comm

/// Keeping the model replicas of all ranks identical, and checking that they are.
public enum ReplicaSync {
    /// Same parameter count and shapes everywhere (allreduce min/max of a shape hash), then rank
    /// 0's parameters and buffers to every rank.
    public static func broadcastFromRoot(_ model: Module, _ comm: Communicator) {
        let state = model.namedState()
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for (name, t) in state.tensors {
            for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            for d in t.shape { h = (h ^ UInt64(d)) &* 0x100_0000_01B3 }
        }
        let mine = Int64(bitPattern: h)
        if comm.allreduce(mine, op: .min) != comm.allreduce(mine, op: .max) {
            comm.fail("model replicas differ in parameter names or shapes between ranks (\(state.tensors.count) tensors here)")
        }
        guard comm.size > 1 else { return }
        for (_, t) in state.tensors { comm.broadcast(t.data, count: t.count, root: 0) }
    }

    /// Running statistics averaged over ranks (each rank saw different batches), so every rank
    /// evaluates and checkpoints the same model.
    public static func averageBuffers(_ model: Module, _ comm: Communicator) {
        guard comm.size > 1 else { return }
        let inv = 1 / Float(comm.size)
        for (_, t) in model.namedState().buffers {
            comm.allreduce(t.data, count: t.count)
            for i in 0..<t.count { t.data[i] *= inv }
        }
    }

    /// A checksum of every parameter (two weighted double sums).
    public static func checksum(_ model: Module) -> (Double, Double) {
        var a = 0.0, b = 0.0, k = 0.0
        for (_, p) in model.namedState().parameters {
            for i in 0..<p.value.count {
                let v = Double(p.value.data[i])
                a += v; k += 1; b += v * (1 + (k.truncatingRemainder(dividingBy: 7)))
            }
        }
        return (a, b)
    }

    /// Fails the job unless all ranks ran `steps` steps and hold bit-identical parameters.
    public static func verify(_ model: Module, steps: Int, epoch: Int, _ comm: Communicator) {
        guard comm.size > 1 else { return }
        let lo = comm.allreduce(Int64(steps), op: .min), hi = comm.allreduce(Int64(steps), op: .max)
        if lo != hi { comm.fail("epoch \(epoch): ranks ran different step counts (min \(lo), max \(hi))") }
        let (a, b) = checksum(model)
        let sums = [a, b]
        let mins = comm.allreduce(sums, op: .min), maxs = comm.allreduce(sums, op: .max)
        if mins != maxs {
            comm.fail("epoch \(epoch): parameters differ between ranks (checksum min \(mins) max \(maxs), here \(sums))")
        }
    }
}
