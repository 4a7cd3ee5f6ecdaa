import CHDF5
import Foundation

/// Raw reads of stored samples (no preprocessing) in blocks: a contiguous range, or a batch of
/// sorted indices, with one H5Dread per modality. For throughput measurements and bulk passes over
/// a shard (`spice bench --hdf5-read`).
///
/// `.independent` opens the file like `HDF5Dataset` (POSIX driver, each process on its own).
/// `.collective` opens it with the MPI-IO driver over MPI_COMM_WORLD and reads with collective
/// transfers: opening, every read and closing are then collective, so every rank must make the
/// same sequence of calls (a rank with nothing to read passes an empty range or batch). MPI must be
/// initialised first and the calls must come from the thread that initialised it.
public final class HDF5BlockReader {
    public enum IOMode: String, Sendable, CaseIterable {
        case independent, collective
    }

    public let path: String
    public let mode: IOMode
    public let count: Int
    public let specs: [ModalitySpec]
    /// Samples per stored chunk, per modality.
    public let chunkSamples: [Int]

    private var file: hid_t = -1
    private var datasets: [hid_t] = []
    private var memTypes: [hid_t] = []
    private var ownedTypes: [hid_t] = []
    private var dxpl: hid_t = -1

    /// Bytes of one stored sample of modality m.
    public func sampleBytes(_ m: Int) -> Int { specs[m].sampleCount * specs[m].storage.bytes }

    /// What a reader needs to know of a file, validated by `HDF5Dataset` (opened and closed again).
    public struct Layout: Sendable {
        public let count: Int
        public let specs: [ModalitySpec]
    }

    /// Validates the file independently (no MPI). Under MPI, check that it succeeded on every rank
    /// before a collective open, so a file one rank cannot read never leaves the others waiting.
    public static func layout(of path: String) throws -> Layout {
        let check = try HDF5Dataset(path: path)
        return Layout(count: check.count, specs: check.modalities.map(\.spec))
    }

    public convenience init(path: String, mode: IOMode) throws {
        try self.init(path: path, mode: mode, layout: Self.layout(of: path))
    }

    /// Opens a file whose layout was checked. `.collective`: every rank must call this.
    public init(path: String, mode: IOMode, layout: Layout) throws {
        self.path = path
        self.mode = mode
        count = layout.count
        specs = layout.specs
        var chunks: [Int] = []
        var f: hid_t = -1, sets: [hid_t] = [], types: [hid_t] = [], owned: [hid_t] = [], xfer: hid_t = -1
        let specs = self.specs
        func release() {
            for d in sets { H5Dclose(d) }
            for t in owned { H5Tclose(t) }
            if xfer >= 0 { H5Pclose(xfer) }
            if f >= 0 { H5Fclose(f) }
        }
        do {
            try withHDF5 {
                let fapl = H5Pcreate(chdf5_p_file_access())
                defer { H5Pclose(fapl) }
                H5.configureLocking(fapl, readOnly: true)
                xfer = H5Pcreate(chdf5_p_dataset_xfer())
                if mode == .collective {
                    guard chdf5_has_parallel() == 1 else { throw DataError(file: path, "this HDF5 library has no MPI-IO support") }
                    guard chdf5_set_fapl_mpio_world(fapl) >= 0, chdf5_set_dxpl_mpio(xfer, 1) >= 0 else {
                        throw H5.error(path, "cannot set up MPI-IO access (is MPI initialised?)")
                    }
                }
                f = H5Fopen(path, chdf5_acc_rdonly(), fapl)
                guard f >= 0 else { throw H5.error(path, "cannot open (\(mode.rawValue))") }
                for spec in specs {
                    let ds = H5Dopen2(f, spec.name, h5Default)
                    guard ds >= 0 else { throw H5.error(path, dataset: spec.name, "cannot open") }
                    sets.append(ds)
                    switch spec.storage {
                    case .float32: types.append(chdf5_native_float())
                    case .uint8: types.append(chdf5_native_uint8())
                    case .float16:
                        let t = chdf5_make_float16_le()
                        owned.append(t); types.append(t)
                    }
                    let dcpl = H5Dget_create_plist(ds)
                    var cd = [hsize_t](repeating: 0, count: spec.sampleShape.count + 1)
                    let rank = H5Pget_chunk(dcpl, Int32(cd.count), &cd)
                    H5Pclose(dcpl)
                    chunks.append(rank > 0 ? Int(cd[0]) : 0)
                }
            }
        } catch {
            withHDF5 { release() }
            throw error
        }
        chunkSamples = chunks
        file = f; datasets = sets; memTypes = types; ownedTypes = owned; dxpl = xfer
    }

    deinit { close() }

    /// Closes the file (collective in `.collective` mode: every rank must release its reader).
    public func close() {
        withHDF5 {
            for d in datasets { H5Dclose(d) }
            datasets = []
            for t in ownedTypes { H5Tclose(t) }
            ownedTypes = []
            if dxpl >= 0 { H5Pclose(dxpl); dxpl = -1 }
            if file >= 0 { H5Fclose(file); file = -1 }
        }
    }

    /// Samples [start, start + n) of modality m, in the stored layout and type, into `buffer`
    /// (n x sampleBytes(m) bytes). n may be 0 (a collective read with nothing for this rank).
    public func read(modality m: Int, start: Int, count n: Int, into buffer: UnsafeMutableRawPointer?) throws {
        guard start >= 0, n >= 0, start + n <= count else {
            throw DataError(file: path, "block [\(start), \(start + n)) outside [0, \(count))")
        }
        try transfer(modality: m, rows: n, buffer: buffer) { fspace in
            guard n > 0 else { return H5Sselect_none(fspace) }
            var st = [hsize_t](repeating: 0, count: specs[m].sampleShape.count + 1)
            st[0] = hsize_t(start)
            var cnt = ([n] + specs[m].sampleShape).map { hsize_t($0) }
            return H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &st, nil, &cnt, nil)
        }
    }

    /// The samples `indices` (strictly increasing) of modality m, in that order, into `buffer`.
    /// HDF5 fills memory in file order, hence the requirement. May be empty.
    public func read(modality m: Int, sorted indices: [Int], into buffer: UnsafeMutableRawPointer?) throws {
        for (k, i) in indices.enumerated() {
            guard i >= 0 && i < count else { throw DataError(file: path, sample: i, "sample index outside [0, \(count))") }
            guard k == 0 || indices[k - 1] < i else { throw DataError(file: path, "batch indices must be strictly increasing") }
        }
        try transfer(modality: m, rows: indices.count, buffer: buffer) { fspace in
            guard !indices.isEmpty else { return H5Sselect_none(fspace) }
            var st = [hsize_t](repeating: 0, count: specs[m].sampleShape.count + 1)
            var cnt = ([1] + specs[m].sampleShape).map { hsize_t($0) }
            // Runs of consecutive indices become one hyperslab each.
            var k = 0, first = true
            while k < indices.count {
                var e = k + 1
                while e < indices.count && indices[e] == indices[e - 1] + 1 { e += 1 }
                st[0] = hsize_t(indices[k]); cnt[0] = hsize_t(e - k)
                let rc = H5Sselect_hyperslab(fspace, first ? H5S_SELECT_SET : H5S_SELECT_OR, &st, nil, &cnt, nil)
                if rc < 0 { return rc }
                first = false; k = e
            }
            return 0
        }
    }

    private func transfer(modality m: Int, rows n: Int, buffer: UnsafeMutableRawPointer?, select: (hid_t) -> herr_t) throws {
        try withHDF5 {
            let fspace = H5Dget_space(datasets[m])
            defer { H5Sclose(fspace) }
            var md = ([max(n, 1)] + specs[m].sampleShape).map { hsize_t($0) }
            let mspace = H5Screate_simple(Int32(md.count), &md, nil)
            defer { H5Sclose(mspace) }
            if n == 0 { H5Sselect_none(mspace) }
            guard select(fspace) >= 0 else { throw H5.error(path, dataset: specs[m].name, "cannot select the samples") }
            // An empty selection still needs a (non-null) buffer pointer for HDF5's argument check.
            var dummy: UInt8 = 0
            let rc = withUnsafeMutableBytes(of: &dummy) { d in
                H5Dread(datasets[m], memTypes[m], mspace, fspace, dxpl, buffer ?? d.baseAddress!)
            }
            guard rc >= 0 else { throw H5.error(path, dataset: specs[m].name, "cannot read \(n) samples (\(mode.rawValue))") }
        }
    }
}
