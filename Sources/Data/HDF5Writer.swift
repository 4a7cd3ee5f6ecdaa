import CHDF5
import Foundation

/// What a file will hold, fixed when the writer is created.
public struct DatasetHeader: Sendable {
    public var modalities: [ModalitySpec]
    public var classes: Int
    public var classNames: [String]?
    /// Free text: how the stored values were produced (sample rate, STFT, frame rate, resize...).
    public var preprocessing: String
    /// Which optional per-sample datasets the file gets; `append` then requires the matching argument.
    public var storesIds: Bool
    public var storesKinds: Bool
    public var storesRatings: Bool
    /// gzip level (1...9) for the modality datasets; nil = uncompressed (fastest to read).
    public var deflate: Int?
    /// Samples per HDF5 chunk of the modality datasets (default 1: a sample is one contiguous read).
    public var chunkSamples: Int = 1

    public init(modalities: [ModalitySpec], classes: Int, classNames: [String]? = nil, preprocessing: String = "",
                storesIds: Bool = false, storesKinds: Bool = false, storesRatings: Bool = false, deflate: Int? = nil) {
        self.modalities = modalities; self.classes = classes; self.classNames = classNames
        self.preprocessing = preprocessing; self.storesIds = storesIds; self.storesKinds = storesKinds
        self.storesRatings = storesRatings; self.deflate = deflate
    }
}

/// One modality's values of one sample, in the stored layout ([C,H,W] or [T,3,H,W]).
public enum SampleValues: Sendable {
    /// For spectrograms (stored as float32 or float16).
    case float([Float])
    /// For frames (uint8).
    case bytes([UInt8])
}

/// Streams samples into a new HDF5 file in the SPICE format (docs/data-format.md).
///
/// Samples go to disk as they are appended (one HDF5 chunk per sample), so a dataset never has to
/// fit in memory; only the small per-sample metadata (labels, ids, kinds, ratings) is kept until
/// `finish`. Everything is written to `<path>.tmp`, which `finish` renames to `path`: a crash or
/// an error never leaves a half-written file under the real name. Not thread-safe.
public final class HDF5Writer {
    public let path: String
    public var temporaryPath: String { path + ".tmp" }
    public let header: DatasetHeader
    public private(set) var count = 0

    private var file: hid_t = -1
    private var datasets: [hid_t] = []
    private var float16Type: hid_t = -1
    private var capacity = 0
    private var labels: [Int32] = [], ids: [String] = [], kinds: [UInt8] = [], ratings: [Float] = []
    private var half: [UInt16] = []
    private var finished = false
    /// Set once this writer created `<path>.tmp`: only then does it remove it.
    private var created = false

    /// Validates the header and creates `<path>.tmp` (replacing a stale one).
    public init(path: String, header: DatasetHeader) throws {
        self.path = path
        self.header = header
        try Self.validate(header, path: path)
        try withHDF5 {
            if FileManager.default.fileExists(atPath: temporaryPath) { try? FileManager.default.removeItem(atPath: temporaryPath) }
            let fapl = H5Pcreate(chdf5_p_file_access())
            defer { H5Pclose(fapl) }
            H5.configureLocking(fapl, readOnly: false)
            file = H5Fcreate(temporaryPath, chdf5_acc_trunc(), h5Default, fapl)
            guard file >= 0 else { throw H5.error(path, "cannot create \(temporaryPath)") }
            created = true
            do {
                try writeHeader()
            } catch {
                abort()
                throw error
            }
        }
    }

    deinit {
        if !finished { abort() }
    }

    private static func validate(_ h: DatasetHeader, path: String) throws {
        func bad(_ dataset: String?, _ m: String) -> DataError { DataError(file: path, dataset: dataset, m) }
        guard !h.modalities.isEmpty && h.modalities.count <= 254 else { throw bad(nil, "need 1...254 modalities, got \(h.modalities.count)") }
        guard h.classes >= 2 else { throw bad(nil, "classes must be >= 2, got \(h.classes)") }
        if let names = h.classNames, names.count != h.classes {
            throw bad(nil, "\(names.count) class names for \(h.classes) classes")
        }
        if let d = h.deflate, !(1...9).contains(d) { throw bad(nil, "deflate level must be in 1...9, got \(d)") }
        guard h.chunkSamples >= 1 && h.chunkSamples <= 65_536 else { throw bad(nil, "chunk samples must be in 1...65536, got \(h.chunkSamples)") }
        for m in h.modalities where h.chunkSamples * max(1, m.sampleCount) * m.storage.bytes >= 1 << 32 {
            throw bad(m.name, "a chunk of \(h.chunkSamples) samples exceeds HDF5's 4 GB chunk limit")
        }
        var seen = Set<String>()
        for m in h.modalities {
            guard !m.name.isEmpty, !m.name.contains("/"), !m.name.contains("."), !DataFormat.reservedNames.contains(m.name) else {
                throw bad(m.name, "invalid modality name (empty, contains '/' or '.', or reserved)")
            }
            guard seen.insert(m.name).inserted else { throw bad(m.name, "modality named twice") }
            guard m.frames >= 1, m.channels >= 1, m.height >= 1, m.width >= 1 else { throw bad(m.name, "empty sample shape \(m.sampleShape)") }
            switch m.kind {
            case .spectrogram:
                guard m.storage != .uint8, m.frames == 1 else { throw bad(m.name, "spectrograms are float32 or float16 [C, H, W]") }
            case .frames:
                guard m.storage == .uint8, m.channels == 3 else { throw bad(m.name, "frames are uint8 [T, 3, H, W]") }
            }
        }
    }

    private func writeHeader() throws {
        try H5.writeAttribute(file, DataFormat.versionAttribute, int: DataFormat.version, file: path)
        try H5.writeAttribute(file, DataFormat.modalitiesAttribute, strings: header.modalities.map(\.name), scalar: false, file: path)
        try H5.writeAttribute(file, DataFormat.classesAttribute, int: header.classes, file: path)
        if let names = header.classNames {
            try H5.writeAttribute(file, DataFormat.classNamesAttribute, strings: names, scalar: false, file: path)
        }
        try H5.writeAttribute(file, DataFormat.preprocessingAttribute, strings: [header.preprocessing], scalar: true, file: path)
        for m in header.modalities {
            let fileType: hid_t
            switch m.storage {
            case .float32: fileType = chdf5_ieee_f32le()
            case .uint8: fileType = chdf5_std_u8le()
            case .float16:
                if float16Type < 0 { float16Type = chdf5_make_float16_le() }
                fileType = float16Type
            }
            let ds = try H5.createDataset(file, m.name, fileType: fileType, dims: [0] + m.sampleShape, chunk: [header.chunkSamples] + m.sampleShape,
                                          extendible: true, deflate: header.deflate, file: path)
            datasets.append(ds)
            try H5.writeAttribute(ds, DataFormat.modalityKindAttribute, strings: [m.kind.rawValue], scalar: true, file: path)
            if m.kind == .frames {
                try H5.writeAttribute(ds, DataFormat.meanAttribute, floats: DataFormat.imagenetMean, file: path)
                try H5.writeAttribute(ds, DataFormat.stdAttribute, floats: DataFormat.imagenetStd, file: path)
            }
        }
    }

    /// Appends one sample: its label, one `SampleValues` per modality (in header order) and the
    /// optional metadata the header declared. Validates sizes, types, label range and finiteness.
    public func append(label: Int, values: [SampleValues], id: String? = nil, kind: UInt8? = nil, ratings: [Float]? = nil) throws {
        guard !finished else { throw DataError(file: path, "append after finish") }
        let i = count, M = header.modalities.count
        func bad(_ dataset: String?, _ m: String) -> DataError { DataError(file: path, dataset: dataset, sample: i, m) }
        guard label >= 0 && label < header.classes else {
            throw bad(DataFormat.labelDataset, "label \(label) outside [0, \(header.classes))")
        }
        guard values.count == M else { throw bad(nil, "\(values.count) modalities given, the file has \(M)") }
        guard header.storesIds == (id != nil) else { throw bad(DataFormat.idDataset, header.storesIds ? "id missing" : "the header declares no ids") }
        guard header.storesKinds == (kind != nil) else { throw bad(DataFormat.kindDataset, header.storesKinds ? "kind missing" : "the header declares no kinds") }
        guard header.storesRatings == (ratings != nil) else {
            throw bad(DataFormat.ratingsDataset, header.storesRatings ? "ratings missing" : "the header declares no ratings")
        }
        if let kind, Int(kind) > M + 1 { throw bad(DataFormat.kindDataset, "kind \(kind) outside [0, \(M + 1)]") }
        if let ratings {
            guard ratings.count == M, ratings.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                throw bad(DataFormat.ratingsDataset, "ratings must be \(M) fractions in [0, 1], got \(ratings)")
            }
        }
        for (m, spec) in header.modalities.enumerated() {
            switch (values[m], spec.storage) {
            case (.float(let v), .float32), (.float(let v), .float16):
                guard v.count == spec.sampleCount else { throw bad(spec.name, "\(v.count) values, expected \(spec.sampleShape)") }
                if let bad = v.firstIndex(where: { !$0.isFinite }) {
                    throw DataError(file: path, dataset: spec.name, sample: i, "non-finite value \(v[bad]) at offset \(bad)")
                }
                if spec.storage == .float16, let big = v.firstIndex(where: { abs($0) > 65504 }) {
                    throw DataError(file: path, dataset: spec.name, sample: i, "value \(v[big]) at offset \(big) exceeds the float16 range")
                }
            case (.bytes(let v), .uint8):
                guard v.count == spec.sampleCount else { throw bad(spec.name, "\(v.count) values, expected \(spec.sampleShape)") }
            default:
                throw bad(spec.name, "values of the wrong type for \(spec.storage.rawValue) storage")
            }
        }
        try withHDF5 {
            if count == capacity { try grow(to: max(16, capacity * 2)) }
            for (m, spec) in header.modalities.enumerated() {
                try writeSample(values[m], spec: spec, dataset: datasets[m], index: i)
            }
        }
        labels.append(Int32(label))
        if let id { ids.append(id) }
        if let kind { kinds.append(kind) }
        if let ratings { self.ratings.append(contentsOf: ratings) }
        count += 1
    }

    private func grow(to n: Int) throws {
        for (m, spec) in header.modalities.enumerated() {
            var d = ([n] + spec.sampleShape).map { hsize_t($0) }
            guard H5Dset_extent(datasets[m], &d) >= 0 else { throw H5.error(path, dataset: spec.name, "cannot extend to \(n) samples") }
        }
        capacity = n
    }

    private func writeSample(_ v: SampleValues, spec: ModalitySpec, dataset: hid_t, index: Int) throws {
        let fspace = H5Dget_space(dataset)
        defer { H5Sclose(fspace) }
        var start = [hsize_t](repeating: 0, count: spec.sampleShape.count + 1)
        start[0] = hsize_t(index)
        var cnt = ([1] + spec.sampleShape).map { hsize_t($0) }
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, nil, &cnt, nil)
        // Same shape as the selection, so HDF5 takes its fast path (no per-element chunk mapping).
        let mspace = H5Screate_simple(Int32(cnt.count), &cnt, nil)
        defer { H5Sclose(mspace) }
        let rc: herr_t
        switch v {
        case .float(let f) where spec.storage == .float16:
            if half.count < f.count { half = [UInt16](repeating: 0, count: f.count) }
            for j in 0..<f.count { half[j] = Float16(f[j]).bitPattern }
            rc = half.withUnsafeBytes { H5Dwrite(dataset, float16Type, mspace, fspace, h5Default, $0.baseAddress!) }
        case .float(let f):
            rc = f.withUnsafeBytes { H5Dwrite(dataset, chdf5_native_float(), mspace, fspace, h5Default, $0.baseAddress!) }
        case .bytes(let b):
            rc = b.withUnsafeBytes { H5Dwrite(dataset, chdf5_native_uint8(), mspace, fspace, h5Default, $0.baseAddress!) }
        }
        guard rc >= 0 else { throw H5.error(path, dataset: spec.name, sample: index, "cannot write sample") }
    }

    /// Writes the metadata, closes the file, flushes it to disk and renames it to `path`.
    /// On failure the temporary file is removed and the error rethrown.
    public func finish() throws {
        guard !finished else { return }
        do {
            guard count > 0 else { throw DataError(file: path, "no samples appended") }
            try withHDF5 {
                try grow(to: count)
                try labels.withUnsafeBytes {
                    try H5.writeDataset(file, DataFormat.labelDataset, fileType: chdf5_std_i32le(), memType: chdf5_native_int32(),
                                        dims: [count], data: $0.baseAddress!, file: path)
                }
                if header.storesIds { try H5.writeStrings(file, DataFormat.idDataset, ids, file: path) }
                if header.storesKinds {
                    try kinds.withUnsafeBytes {
                        try H5.writeDataset(file, DataFormat.kindDataset, fileType: chdf5_std_u8le(), memType: chdf5_native_uint8(),
                                            dims: [count], data: $0.baseAddress!, file: path)
                    }
                }
                if header.storesRatings {
                    try ratings.withUnsafeBytes {
                        try H5.writeDataset(file, DataFormat.ratingsDataset, fileType: chdf5_ieee_f32le(), memType: chdf5_native_float(),
                                            dims: [count, header.modalities.count], data: $0.baseAddress!, file: path)
                    }
                }
                guard closeAll() else { throw H5.error(path, "cannot close \(temporaryPath)") }
            }
            // Make the bytes durable before the rename makes them visible under the real name.
            let fd = open(temporaryPath, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            guard rename(temporaryPath, path) == 0 else {
                throw DataError(file: path, "cannot rename \(temporaryPath) to \(path): \(String(cString: strerror(errno)))")
            }
            created = false
            finished = true
        } catch {
            abort()
            throw error
        }
    }

    /// Discards everything written: closes and removes `<path>.tmp`.
    public func abort() {
        withHDF5 { _ = closeAll() }
        if created { try? FileManager.default.removeItem(atPath: temporaryPath) }
        finished = true
    }

    @discardableResult
    private func closeAll() -> Bool {
        for d in datasets { H5Dclose(d) }
        datasets = []
        if float16Type >= 0 { H5Tclose(float16Type); float16Type = -1 }
        var ok = true
        if file >= 0 { ok = H5Fclose(file) >= 0; file = -1 }
        return ok
    }
}
