/// Kernel-side transforms of Winograd F(2x2, 3x3), vectorised across 4 consecutive (co, ci) kernels:
/// U = G g G^T (forward) and its adjoint dg = G^T dU G (weight gradient). U is stored per tile position,
/// U[p][co * Cin + ci], with `kernelStride` floats between positions.
///
/// Kernels are [q][9] in memory and lanes run over q, so 4 kernels are moved in and out of lanes with
/// 4x4 transposes. For 512x512 kernels both passes are bound by memory traffic (U is 16.8 MB).

private typealias KernelLanes = SIMD4<Float>

/// Rows of a 4x4 block of lanes -> its columns.
@inline(__always) private func transpose(_ a: KernelLanes, _ b: KernelLanes, _ c: KernelLanes, _ d: KernelLanes)
    -> (KernelLanes, KernelLanes, KernelLanes, KernelLanes) {
    (KernelLanes(a[0], b[0], c[0], d[0]), KernelLanes(a[1], b[1], c[1], d[1]),
     KernelLanes(a[2], b[2], c[2], d[2]), KernelLanes(a[3], b[3], c[3], d[3]))
}

@inline(__always) private func loadLanes(_ p: UnsafePointer<Float>) -> KernelLanes {
    UnsafeRawPointer(p).loadUnaligned(as: KernelLanes.self)
}

@inline(__always) private func storeLanes(_ v: KernelLanes, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: KernelLanes.self)
}

extension WinogradPlan {
    /// Distance between two tile positions of the transformed kernels (one spare cache line keeps the
    /// 16 position slices off the same cache sets).
    var kernelStride: Int { roundUp16(inChannels * outChannels) + 16 }

    /// U[p][q] = (G g_q G^T)_p for every kernel g_q = w[9q ..< 9q + 9], q = co * Cin + ci.
    /// (Stores go straight to the 16 position slices: for large layers this is bound by writing U,
    /// and 16 interleaved store streams measured faster than staging through a block.)
    func transformKernels(_ w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        Parallel.forEach(kernelGroups, minPerWorker: 1024) { _, r in transformKernels(w, into: u, groups: r) }
    }

    /// Kernels in groups of 4 (the unit of the kernel transforms and their parallel split).
    var kernelGroups: Int { (inChannels * outChannels + 3) / 4 }

    /// `transformKernels` for kernels q in 4 * groups.
    func transformKernels(_ w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, groups: Range<Int>) {
        let total = inChannels * outChannels, ks = kernelStride
        let half = KernelLanes(repeating: 0.5)
        // G applied to one column (a, b, c) of a 3x3: (a, (a + b + c) / 2, (a - b + c) / 2, c).
        @inline(__always) func gt(_ a: KernelLanes, _ b: KernelLanes, _ c: KernelLanes)
            -> (KernelLanes, KernelLanes, KernelLanes, KernelLanes) {
            let s = half * (a + c), m = half * b
            return (a, s + m, s - m, c)
        }
        var q = 4 * groups.lowerBound
        let qEnd = min(total, 4 * groups.upperBound)
        while q < qEnd {
            let n = min(4, total - q), base = w + 9 * q
            // g_e = tap e of the 4 kernels q ..< q + 4 (36 consecutive floats): two 4x4 transposes
            // and the 9th taps; past the end, lanes repeat the last kernel.
            let g: (KernelLanes, KernelLanes, KernelLanes, KernelLanes, KernelLanes, KernelLanes, KernelLanes, KernelLanes, KernelLanes)
            if n == 4 {
                let lo = transpose(loadLanes(base), loadLanes(base + 9), loadLanes(base + 18), loadLanes(base + 27))
                let hi = transpose(loadLanes(base + 4), loadLanes(base + 13), loadLanes(base + 22), loadLanes(base + 31))
                g = (lo.0, lo.1, lo.2, lo.3, hi.0, hi.1, hi.2, hi.3, KernelLanes(base[8], base[17], base[26], base[35]))
            } else {
                let o1 = 9 * min(1, n - 1), o2 = 9 * min(2, n - 1), o3 = 9 * min(3, n - 1)
                @inline(__always) func tap(_ e: Int) -> KernelLanes {
                    KernelLanes(base[e], base[o1 + e], base[o2 + e], base[o3 + e])
                }
                g = (tap(0), tap(1), tap(2), tap(3), tap(4), tap(5), tap(6), tap(7), tap(8))
            }
            // t = G g column by column, then U = t G^T row by row.
            let c0 = gt(g.0, g.3, g.6), c1 = gt(g.1, g.4, g.7), c2 = gt(g.2, g.5, g.8)
            let dst = u + q
            @inline(__always) func put(_ v: KernelLanes, _ p: Int) {
                if n == 4 {
                    UnsafeMutableRawPointer(dst + p * ks).storeBytes(of: v, as: KernelLanes.self)
                } else {
                    for l in 0..<n { dst[p * ks + l] = v[l] }
                }
            }
            @inline(__always) func putRow(_ r: (KernelLanes, KernelLanes, KernelLanes, KernelLanes), _ a: Int) {
                put(r.0, 4 * a); put(r.1, 4 * a + 1); put(r.2, 4 * a + 2); put(r.3, 4 * a + 3)
            }
            putRow(gt(c0.0, c1.0, c2.0), 0); putRow(gt(c0.1, c1.1, c2.1), 1)
            putRow(gt(c0.2, c1.2, c2.2), 2); putRow(gt(c0.3, c1.3, c2.3), 3)
            q += 4
        }
    }

    /// dw[9q ..< 9q + 9] = G^T dU_q G, dU_q[p] = du[p][q]: the adjoint of `transformKernels`.
    func untransformKernelGradient(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        Parallel.forEach(kernelGroups, minPerWorker: 1024) { _, r in untransformKernelGradient(du, into: dw, groups: r) }
    }

    /// `untransformKernelGradient` for kernels q in 4 * groups.
    func untransformKernelGradient(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>, groups: Range<Int>) {
        let total = inChannels * outChannels, ks = kernelStride
        let half = KernelLanes(repeating: 0.5)
        // G^T applied to one column (a, b, c, d): (a + (b + c) / 2, (b - c) / 2, (b + c) / 2 + d).
        @inline(__always) func gtt(_ a: KernelLanes, _ b: KernelLanes, _ c: KernelLanes, _ d: KernelLanes)
            -> (KernelLanes, KernelLanes, KernelLanes) {
            let s = half * (b + c)
            return (a + s, half * (b - c), s + d)
        }
        var q = 4 * groups.lowerBound
        let qEnd = min(total, 4 * groups.upperBound)
        while q < qEnd {
            // Past the end, lanes read the slices' padding and are never stored.
            let src = du + q
            @inline(__always) func at(_ p: Int) -> KernelLanes { loadLanes(src + p * ks) }
            // z = G^T dU column by column, then dg = z G row by row.
            let c0 = gtt(at(0), at(4), at(8), at(12)), c1 = gtt(at(1), at(5), at(9), at(13))
            let c2 = gtt(at(2), at(6), at(10), at(14)), c3 = gtt(at(3), at(7), at(11), at(15))
            let r0 = gtt(c0.0, c1.0, c2.0, c3.0), r1 = gtt(c0.1, c1.1, c2.1, c3.1), r2 = gtt(c0.2, c1.2, c2.2, c3.2)
            // Lane l of tap e belongs at dw[9 (q + l) + e]: transpose back to [kernel][tap].
            let lo = transpose(r0.0, r0.1, r0.2, r1.0), hi = transpose(r1.1, r1.2, r2.0, r2.1)
            let dst = dw + 9 * q, n = min(4, total - q)
            if n == 4 {
                storeLanes(lo.0, dst); storeLanes(hi.0, dst + 4); dst[8] = r2.2[0]
                storeLanes(lo.1, dst + 9); storeLanes(hi.1, dst + 13); dst[17] = r2.2[1]
                storeLanes(lo.2, dst + 18); storeLanes(hi.2, dst + 22); dst[26] = r2.2[2]
                storeLanes(lo.3, dst + 27); storeLanes(hi.3, dst + 31); dst[35] = r2.2[3]
            } else {
                for l in 0..<n {
                    let d = dst + 9 * l
                    d[0] = r0.0[l]; d[1] = r0.1[l]; d[2] = r0.2[l]
                    d[3] = r1.0[l]; d[4] = r1.1[l]; d[5] = r1.2[l]
                    d[6] = r2.0[l]; d[7] = r2.1[l]; d[8] = r2.2[l]
                }
            }
            q += 4
        }
    }
}
