import CHDF5
import Foundation
import Tensor

/// An HDF5 file in the SPICE format (docs/data-format.md), read sample by sample.
///
/// Opening validates the whole layout (required datasets and attributes, shapes, dtypes, label and
/// kind ranges) and throws a `DataError` naming the file, dataset and sample for any violation.
/// Every MPI rank opens its own read-only handle; there are no MPI calls here. Non-finite float
/// values are found lazily, by `gather`, for the samples it reads.
///
/// `gather` produces model inputs: spectrograms as stored (float32 [B, C, H, W]); frames resized
/// to `Options.frameSize` as float32 [B*T, 3, H', W'] — in training with RandomResizedCrop and a
/// horizontal flip drawn from (seed, epoch, sample index), so a run repeats whatever the batch
/// composition or rank; in evaluation a plain bilinear resize — then ImageNet-normalised.
/// `gather` calls on one instance are serialised by a lock.
public final class HDF5Dataset: SampleSource {
    public struct ImageSize: Sendable, Equatable {
        public var height: Int, width: Int
        public init(height: Int, width: Int) { self.height = height; self.width = width }
        public init(_ side: Int) { height = side; width = side }
    }

    public struct Options: Sendable {
        /// Model input size of frames modalities; nil = the stored size.
        public var frameSize: ImageSize?
        /// Seeds the training augmentation together with the epoch and the sample index.
        public var seed: UInt64
        /// Check float samples for NaN/Inf as they are gathered.
        public var checkFinite: Bool
        /// RandomResizedCrop area fraction and aspect-ratio (w/h) ranges; horizontal flip probability.
        public var cropScale: ClosedRange<Double>
        public var cropRatio: ClosedRange<Double>
        public var flipProbability: Float

        public init(frameSize: ImageSize? = nil, seed: UInt64 = 0, checkFinite: Bool = true,
                    cropScale: ClosedRange<Double> = 0.08...1.0, cropRatio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0),
                    flipProbability: Float = 0.5) {
            self.frameSize = frameSize; self.seed = seed; self.checkFinite = checkFinite
            self.cropScale = cropScale; self.cropRatio = cropRatio; self.flipProbability = flipProbability
        }
    }

    /// One modality as stored, with the normalisation its frames expect (empty for spectrograms).
    public struct Modality: Sendable {
        public let spec: ModalitySpec
        public let mean: [Float], std: [Float]
    }

    public let path: String
    public let options: Options
    public let formatVersion: Int
    public let count: Int
    public let classes: Int
    public let classNames: [String]?
    public let preprocessing: String
    public let modalities: [Modality]
    /// Model input shape per modality (frames resized to `options.frameSize`).
    public let shapes: [InMemoryDataset.ModalityShape]
    /// All labels (validated in [0, classes)).
    public let labels: [Int32]
    /// The planted interaction kind per sample (0 redundant, 1+m unique to modality m, M+1 synergistic), if stored.
    public let kinds: [UInt8]?
    /// Annotator ratings [N, M] row-major (fraction of raters who perceived the true class per modality), if stored.
    public let ratings: [Float]?
    public let hasIds: Bool

    private let handles: Handles
    private let lock = NSLock()
    // Reused across batches: no allocation once warm.
    private var bytes: [UInt8] = []
    private var halves: [UInt16] = []
    private var rowLo: [Int32] = [], rowHi: [Int32] = [], colLo: [Int32] = [], colHi: [Int32] = []
    private var rowFrac: [Float] = [], colFrac: [Float] = []

    /// HDF5 ids owned by a reader, closed when it goes (also when opening fails half-way).
    private final class Handles {
        var file: hid_t = -1
        var datasets: [hid_t] = []      // per modality
        var fileSpaces: [hid_t] = []    // per modality, reselected per read
        var memSpaces: [hid_t] = []     // per modality, one sample
        var memTypes: [hid_t] = []      // per modality
        var ownedTypes: [hid_t] = []
        var sampleDims: [[hsize_t]] = []   // [1, per-sample dims...] per modality
        var starts: [[hsize_t]] = []

        deinit {
            withHDF5 {
                // H5Iis_valid: after HDF5 shut down (at process exit) the ids are gone already.
                for id in fileSpaces + memSpaces + datasets + ownedTypes + [file] where id >= 0 && H5Iis_valid(id) > 0 {
                    switch H5Iget_type(id) {
                    case H5I_DATASPACE: H5Sclose(id)
                    case H5I_DATASET: H5Dclose(id)
                    case H5I_DATATYPE: H5Tclose(id)
                    case H5I_FILE: H5Fclose(id)
                    default: break
                    }
                }
            }
        }
    }

    public init(path: String, options: Options = Options()) throws {
        self.path = path
        self.options = options
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw DataError(file: path, "no such file") }
        guard !isDirectory.boolValue else { throw DataError(file: path, "is a directory, not an HDF5 file") }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber, size.intValue == 0 {
            throw DataError(file: path, "empty file (0 bytes), not an HDF5 file")
        }
        if let s = options.frameSize, s.height < 1 || s.width < 1 { throw DataError(file: path, "frame size \(s) must be positive") }
        let h = Handles()
        handles = h

        // Everything below reads into locals, then assigns the lets.
        var version = 0, n = 0, classes = 0
        var classNames: [String]?, preprocessing = ""
        var modalities: [Modality] = [], labels: [Int32] = [], kinds: [UInt8]?, ratings: [Float]?, hasIds = false
        try withHDF5 {
            let isHDF5 = H5Fis_hdf5(path)
            guard isHDF5 > 0 else {
                throw isHDF5 == 0 ? DataError(file: path, "not an HDF5 file (no HDF5 signature)") : H5.error(path, "cannot read the file")
            }
            let fapl = H5Pcreate(chdf5_p_file_access())
            defer { H5Pclose(fapl) }
            // Read-only opens by many ranks: no need for (and on network file systems, trouble with) file
            // locks; a user's HDF5_USE_FILE_LOCKING wins.
            H5.configureLocking(fapl, readOnly: true)
            h.file = H5Fopen(path, chdf5_acc_rdonly(), fapl)
            guard h.file >= 0 else { throw H5.error(path, "cannot open as HDF5 (truncated or damaged file?)") }

            // Root attributes.
            func rootInt(_ name: String) throws -> Int {
                guard let v = try H5.readAttribute(h.file, name, file: path, owner: "/") else {
                    throw DataError(file: path, dataset: "/", "missing required root attribute '\(name)'")
                }
                guard case .ints(let a) = v, a.count == 1 else {
                    throw DataError(file: path, dataset: "/", "root attribute '\(name)' must be one integer")
                }
                return Int(a[0])
            }
            func rootStrings(_ name: String) throws -> [String]? {
                guard let v = try H5.readAttribute(h.file, name, file: path, owner: "/") else { return nil }
                guard case .strings(let s) = v else { throw DataError(file: path, dataset: "/", "root attribute '\(name)' must be strings") }
                return s
            }
            version = try rootInt(DataFormat.versionAttribute)
            guard version >= 1 && version <= DataFormat.version else {
                throw DataError(file: path, dataset: "/", "unsupported format_version \(version) (this reader knows 1...\(DataFormat.version))")
            }
            guard let names = try rootStrings(DataFormat.modalitiesAttribute) else {
                throw DataError(file: path, dataset: "/", "missing required root attribute '\(DataFormat.modalitiesAttribute)'")
            }
            guard !names.isEmpty && names.count <= 254 else {
                throw DataError(file: path, dataset: "/", "root attribute 'modalities' lists \(names.count) names (1...254 supported)")
            }
            guard Set(names).count == names.count else { throw DataError(file: path, dataset: "/", "root attribute 'modalities' repeats a name: \(names)") }
            if let r = names.first(where: { DataFormat.reservedNames.contains($0) || $0.isEmpty }) {
                throw DataError(file: path, dataset: "/", "modality name '\(r)' is empty or reserved")
            }
            classes = try rootInt(DataFormat.classesAttribute)
            guard classes >= 2 else { throw DataError(file: path, dataset: "/", "root attribute 'classes' must be >= 2, got \(classes)") }
            classNames = try rootStrings(DataFormat.classNamesAttribute)
            if let c = classNames, c.count != classes {
                throw DataError(file: path, dataset: "/", "root attribute 'class_names' has \(c.count) names for \(classes) classes")
            }
            if let p = try rootStrings(DataFormat.preprocessingAttribute) { preprocessing = p.joined(separator: "\n") }

            // Modality datasets: no chunk cache, so a sample (one chunk) is read straight into the caller's buffer.
            let dapl = H5Pcreate(chdf5_p_dataset_access())
            defer { H5Pclose(dapl) }
            H5Pset_chunk_cache(dapl, 0, 0, 1.0)
            var firstName = ""
            for name in names {
                guard H5.linkExists(h.file, name) else {
                    throw DataError(file: path, dataset: name, "missing dataset for modality '\(name)' (listed in root attribute 'modalities')")
                }
                let ds = H5Dopen2(h.file, name, dapl)
                guard ds >= 0 else { throw H5.error(path, dataset: name, "is not a readable dataset") }
                h.datasets.append(ds)
                let dims = H5.dims(ofDataset: ds)
                let type = H5Dget_type(ds)
                defer { H5Tclose(type) }
                let modality = try Self.checkModality(name: name, dataset: ds, dims: dims, type: type, path: path)
                if modalities.isEmpty {
                    n = dims[0]; firstName = name
                    guard n >= 1 else { throw DataError(file: path, dataset: name, "holds no samples") }
                } else if dims[0] != n {
                    throw DataError(file: path, dataset: name, "has \(dims[0]) samples but '\(firstName)' has \(n)")
                }
                modalities.append(modality)
                let spec = modality.spec
                h.fileSpaces.append(H5Dget_space(ds))
                // The memory space has the selection's shape [1, ...]: with a different (e.g. flat) shape
                // HDF5 maps every element to its chunk one by one, ~20x slower.
                var md = ([1] + spec.sampleShape).map { hsize_t($0) }
                h.memSpaces.append(H5Screate_simple(Int32(md.count), &md, nil))
                switch spec.storage {
                case .float32: h.memTypes.append(chdf5_native_float())
                case .uint8: h.memTypes.append(chdf5_native_uint8())
                case .float16:
                    let t = chdf5_make_float16_le()
                    h.ownedTypes.append(t); h.memTypes.append(t)
                }
                h.sampleDims.append(([1] + spec.sampleShape).map { hsize_t($0) })
                h.starts.append([hsize_t](repeating: 0, count: spec.sampleShape.count + 1))
            }

            // Per-sample metadata.
            func openVector(_ name: String, required: Bool, columns: Int? = nil) throws -> (hid_t, hid_t)? {
                guard H5.linkExists(h.file, name) else {
                    if required { throw DataError(file: path, dataset: name, "missing required dataset") }
                    return nil
                }
                let ds = H5Dopen2(h.file, name, h5Default)
                guard ds >= 0 else { throw H5.error(path, dataset: name, "is not a readable dataset") }
                let dims = H5.dims(ofDataset: ds)
                let expected = columns.map { [n, $0] } ?? [n]
                guard dims.count == expected.count else {
                    H5Dclose(ds)
                    throw DataError(file: path, dataset: name, "has rank \(dims.count) \(dims), expected \(expected)")
                }
                guard dims == expected else {
                    H5Dclose(ds)
                    throw DataError(file: path, dataset: name, "has shape \(dims) but the modalities have \(n) samples (expected \(expected))")
                }
                return (ds, H5Dget_type(ds))
            }
            func requireClass(_ name: String, _ ds: hid_t, _ t: hid_t, _ cls: H5T_class_t, _ what: String) throws {
                guard H5Tget_class(t) == cls else {
                    let d = H5.describe(type: t)
                    H5Tclose(t); H5Dclose(ds)
                    throw DataError(file: path, dataset: name, "unsupported dtype \(d), expected \(what)")
                }
            }

            let (lds, lt) = try openVector(DataFormat.labelDataset, required: true)!
            try requireClass(DataFormat.labelDataset, lds, lt, H5T_INTEGER, "integer labels")
            labels = [Int32](repeating: 0, count: n)
            let lrc = H5Dread(lds, chdf5_native_int32(), h5All, h5All, h5Default, &labels)
            H5Tclose(lt); H5Dclose(lds)
            guard lrc >= 0 else { throw H5.error(path, dataset: DataFormat.labelDataset, "cannot read labels") }
            if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
                throw DataError(file: path, dataset: DataFormat.labelDataset, sample: i, "label \(labels[i]) outside [0, \(classes))")
            }

            if let (ids, it) = try openVector(DataFormat.idDataset, required: false) {
                try requireClass(DataFormat.idDataset, ids, it, H5T_STRING, "strings")
                // Ids name samples in score dumps and plans: two samples with one id would make
                // those ambiguous, so they are refused here rather than found later.
                let stored = H5.readStrings(fileType: it, count: n, read: { H5Dread(ids, $0, h5All, h5All, h5Default, $1) })
                H5Tclose(it); H5Dclose(ids)
                guard let stored else { throw H5.error(path, dataset: DataFormat.idDataset, "cannot read ids") }
                var first = [String: Int](minimumCapacity: n)
                for (i, id) in stored.enumerated() {
                    if let j = first.updateValue(i, forKey: id) {
                        throw DataError(file: path, dataset: DataFormat.idDataset, sample: i, "duplicate id '\(id)' (also sample \(j))")
                    }
                }
                hasIds = true
            }

            let M = names.count
            if let (kds, kt) = try openVector(DataFormat.kindDataset, required: false) {
                try requireClass(DataFormat.kindDataset, kds, kt, H5T_INTEGER, "integer kinds")
                var k = [Int32](repeating: 0, count: n)
                let rc = H5Dread(kds, chdf5_native_int32(), h5All, h5All, h5Default, &k)
                H5Tclose(kt); H5Dclose(kds)
                guard rc >= 0 else { throw H5.error(path, dataset: DataFormat.kindDataset, "cannot read") }
                if let i = k.firstIndex(where: { $0 < 0 || Int($0) > M + 1 }) {
                    throw DataError(file: path, dataset: DataFormat.kindDataset, sample: i, "kind \(k[i]) outside [0, \(M + 1)]")
                }
                kinds = k.map { UInt8($0) }
            }

            if let (rds, rt) = try openVector(DataFormat.ratingsDataset, required: false, columns: M) {
                try requireClass(DataFormat.ratingsDataset, rds, rt, H5T_FLOAT, "float ratings")
                var r = [Float](repeating: 0, count: n * M)
                let rc = H5Dread(rds, chdf5_native_float(), h5All, h5All, h5Default, &r)
                H5Tclose(rt); H5Dclose(rds)
                guard rc >= 0 else { throw H5.error(path, dataset: DataFormat.ratingsDataset, "cannot read") }
                if let j = r.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                    throw DataError(file: path, dataset: DataFormat.ratingsDataset, sample: j / M,
                                    "rating \(r[j]) for modality '\(names[j % M])' outside [0, 1]")
                }
                ratings = r
            }
        }
        self.formatVersion = version
        self.count = n
        self.classes = classes
        self.classNames = classNames
        self.preprocessing = preprocessing
        self.modalities = modalities
        self.labels = labels
        self.kinds = kinds
        self.ratings = ratings
        self.hasIds = hasIds
        self.shapes = modalities.map { m in
            let s = m.spec
            if s.kind == .frames {
                let out = options.frameSize ?? ImageSize(height: s.height, width: s.width)
                return InMemoryDataset.ModalityShape(name: s.name, frames: s.frames, channels: 3, height: out.height, width: out.width)
            }
            return InMemoryDataset.ModalityShape(name: s.name, channels: s.channels, height: s.height, width: s.width)
        }
    }

    /// Kind, rank, dtype and normalisation checks of one modality dataset.
    private static func checkModality(name: String, dataset ds: hid_t, dims: [Int], type: hid_t, path: String) throws -> Modality {
        func bad(_ m: String) -> DataError { DataError(file: path, dataset: name, m) }
        var kind: ModalityKind
        if let v = try H5.readAttribute(ds, DataFormat.modalityKindAttribute, file: path, owner: name) {
            guard case .strings(let s) = v, s.count == 1, let k = ModalityKind(rawValue: s[0]) else {
                throw bad("attribute 'kind' must be \"spectrogram\" or \"frames\"")
            }
            kind = k
        } else {
            guard dims.count == 4 || dims.count == 5 else {
                throw bad("has rank \(dims.count) \(dims): expected [N, C, H, W] spectrograms or [N, T, 3, H, W] frames")
            }
            kind = dims.count == 4 ? .spectrogram : .frames
        }
        let expectedRank = kind == .frames ? 5 : 4
        guard dims.count == expectedRank else {
            throw bad("has rank \(dims.count) \(dims) but \(kind.rawValue) need rank \(expectedRank) "
                      + (kind == .frames ? "[N, T, 3, H, W]" : "[N, C, H, W]"))
        }
        if let z = dims.dropFirst().firstIndex(of: 0) { throw bad("has an empty dimension \(z) in \(dims)") }
        let cls = H5Tget_class(type), size = H5Tget_size(type)
        let storage: SampleStorage
        switch kind {
        case .spectrogram:
            guard cls == H5T_FLOAT, size == 4 || size == 2 else {
                throw bad("unsupported dtype \(H5.describe(type: type)) for spectrograms (float32 or float16)")
            }
            storage = size == 4 ? .float32 : .float16
        case .frames:
            guard cls == H5T_INTEGER, size == 1, H5Tget_sign(type) == H5T_SGN_NONE else {
                throw bad("unsupported dtype \(H5.describe(type: type)) for frames (uint8)")
            }
            storage = .uint8
            guard dims[2] == 3 else { throw bad("frames have \(dims[2]) channels, expected 3 (RGB) in [N, T, 3, H, W]") }
        }
        let spec = kind == .frames
            ? ModalitySpec(name: name, kind: .frames, storage: storage, frames: dims[1], channels: 3, height: dims[3], width: dims[4])
            : ModalitySpec(name: name, kind: .spectrogram, storage: storage, frames: 1, channels: dims[1], height: dims[2], width: dims[3])
        guard kind == .frames else { return Modality(spec: spec, mean: [], std: []) }
        func triple(_ attr: String, _ fallback: [Float]) throws -> [Float] {
            guard let v = try H5.readAttribute(ds, attr, file: path, owner: name) else { return fallback }
            guard case .floats(let f) = v, f.count == 3, f.allSatisfy({ $0.isFinite }) else {
                throw bad("attribute '\(attr)' must be 3 finite numbers (R, G, B)")
            }
            return f.map { Float($0) }
        }
        let mean = try triple(DataFormat.meanAttribute, DataFormat.imagenetMean)
        let std = try triple(DataFormat.stdAttribute, DataFormat.imagenetStd)
        guard std.allSatisfy({ $0 > 0 }) else { throw bad("attribute 'std' must be positive") }
        return Modality(spec: spec, mean: mean, std: std)
    }

    /// The sample ids, if stored.
    public func ids() throws -> [String]? {
        guard hasIds else { return nil }
        return try withHDF5 {
            let ds = H5Dopen2(handles.file, DataFormat.idDataset, h5Default)
            guard ds >= 0 else { throw H5.error(path, dataset: DataFormat.idDataset, "cannot open") }
            defer { H5Dclose(ds) }
            let t = H5Dget_type(ds)
            defer { H5Tclose(t) }
            guard let s = H5.readStrings(fileType: t, count: count, read: { H5Dread(ds, $0, h5All, h5All, h5Default, $1) }) else {
                throw H5.error(path, dataset: DataFormat.idDataset, "cannot read ids")
            }
            return s
        }
    }

    /// Reads one stored sample of modality `m` into `buffer` (stored layout and type:
    /// float32, raw float16 bits or uint8). Takes the HDF5 lock.
    private func readStored(_ m: Int, _ i: Int, into buffer: UnsafeMutableRawPointer) throws {
        try withHDF5 {
            let h = handles
            h.starts[m][0] = hsize_t(i)
            let sel = h.starts[m].withUnsafeBufferPointer { st in
                h.sampleDims[m].withUnsafeBufferPointer { H5Sselect_hyperslab(h.fileSpaces[m], H5S_SELECT_SET, st.baseAddress, nil, $0.baseAddress, nil) }
            }
            guard sel >= 0, H5Dread(h.datasets[m], h.memTypes[m], h.memSpaces[m], h.fileSpaces[m], h5Default, buffer) >= 0 else {
                throw H5.error(path, dataset: modalities[m].spec.name, sample: i, "cannot read sample")
            }
        }
    }

    /// One stored sample of modality `m` as floats, without any preprocessing (frames as 0...255).
    public func storedSample(_ i: Int, modality m: Int) throws -> [Float] {
        lock.lock(); defer { lock.unlock() }
        guard i >= 0 && i < count else { throw DataError(file: path, sample: i, "sample index outside [0, \(count))") }
        let spec = modalities[m].spec
        var out = [Float](repeating: 0, count: spec.sampleCount)
        switch spec.storage {
        case .float32:
            try out.withUnsafeMutableBytes { try readStored(m, i, into: $0.baseAddress!) }
        case .float16:
            var h = [UInt16](repeating: 0, count: spec.sampleCount)
            try h.withUnsafeMutableBytes { try readStored(m, i, into: $0.baseAddress!) }
            for j in 0..<h.count { out[j] = Float(Float16(bitPattern: h[j])) }
        case .uint8:
            var b = [UInt8](repeating: 0, count: spec.sampleCount)
            try b.withUnsafeMutableBytes { try readStored(m, i, into: $0.baseAddress!) }
            for j in 0..<b.count { out[j] = Float(b[j]) }
        }
        return out
    }

    public func gather(_ indices: ArraySlice<Int>, into inputs: [Tensor], epoch: Int, training: Bool) throws -> [Int32] {
        lock.lock(); defer { lock.unlock() }
        guard inputs.count == modalities.count else {
            throw DataError(file: path, "gather got \(inputs.count) input tensors for \(modalities.count) modalities")
        }
        for (m, s) in shapes.enumerated() {
            inputs[m].resize([indices.count * s.frames, s.channels, s.height, s.width])
        }
        for (k, i) in indices.enumerated() {
            guard i >= 0 && i < count else { throw DataError(file: path, sample: i, "sample index outside [0, \(count))") }
            for (m, modality) in modalities.enumerated() {
                let spec = modality.spec, n = shapes[m].frames * shapes[m].channels * shapes[m].height * shapes[m].width
                let out = inputs[m].data + k * n
                switch spec.storage {
                case .float32:
                    try readStored(m, i, into: out)
                case .float16:
                    if halves.count < spec.sampleCount { halves = [UInt16](repeating: 0, count: spec.sampleCount) }
                    try halves.withUnsafeMutableBufferPointer { hp in
                        try readStored(m, i, into: hp.baseAddress!)
                        for j in 0..<spec.sampleCount { out[j] = Float(Float16(bitPattern: hp[j])) }
                    }
                case .uint8:
                    if bytes.count < spec.sampleCount { bytes = [UInt8](repeating: 0, count: spec.sampleCount) }
                    try bytes.withUnsafeMutableBufferPointer { try readStored(m, i, into: $0.baseAddress!) }
                    preprocessFrames(m, sample: i, epoch: epoch, training: training, out: out)
                }
                if options.checkFinite && spec.kind == .spectrogram, let j = Self.firstNonFinite(out, count: n) {
                    throw DataError(file: path, dataset: spec.name, sample: i, "non-finite value \(out[j]) at offset \(j)")
                }
            }
        }
        return indices.map { labels[$0] }
    }

    /// The crop and flip `gather` uses for sample `i` of frames modality `m` in training at `epoch`.
    public func augmentation(sample i: Int, modality m: Int, epoch: Int) -> (crop: CropBox, flip: Bool) {
        let spec = modalities[m].spec
        var rng = SeededRandom(seed: options.seed, stream: 0x5350_4943_4543_524F, UInt64(bitPattern: Int64(epoch)), UInt64(i), UInt64(m))
        let crop = ImageOps.randomResizedCrop(height: spec.height, width: spec.width, scale: options.cropScale,
                                              ratio: options.cropRatio, rng: &rng)
        return (crop, rng.uniform() < options.flipProbability)
    }

    /// Crop/flip (training) or plain resize (evaluation) of every frame and channel of the sample in
    /// `bytes`, fused with the normalisation; one crop and flip for all frames of a sample.
    private func preprocessFrames(_ m: Int, sample i: Int, epoch: Int, training: Bool, out: UnsafeMutablePointer<Float>) {
        let modality = modalities[m], spec = modality.spec
        let oh = shapes[m].height, ow = shapes[m].width
        let (box, flip) = training ? augmentation(sample: i, modality: m, epoch: epoch)
                                   : (CropBox(top: 0, left: 0, height: spec.height, width: spec.width), false)
        if rowLo.count < oh { rowLo = [Int32](repeating: 0, count: oh); rowHi = rowLo; rowFrac = [Float](repeating: 0, count: oh) }
        if colLo.count < ow { colLo = [Int32](repeating: 0, count: ow); colHi = colLo; colFrac = [Float](repeating: 0, count: ow) }
        let plane = spec.height * spec.width, outPlane = oh * ow
        bytes.withUnsafeBufferPointer { src in
            rowLo.withUnsafeMutableBufferPointer { rl in rowHi.withUnsafeMutableBufferPointer { rh in rowFrac.withUnsafeMutableBufferPointer { rf in
            colLo.withUnsafeMutableBufferPointer { cl in colHi.withUnsafeMutableBufferPointer { ch in colFrac.withUnsafeMutableBufferPointer { cf in
                ImageOps.axisTaps(outCount: oh, srcStart: box.top, srcCount: box.height, reverse: false,
                                  lo: rl.baseAddress!, hi: rh.baseAddress!, frac: rf.baseAddress!)
                ImageOps.axisTaps(outCount: ow, srcStart: box.left, srcCount: box.width, reverse: flip,
                                  lo: cl.baseAddress!, hi: ch.baseAddress!, frac: cf.baseAddress!)
                for t in 0..<spec.frames {
                    for c in 0..<3 {
                        let p = t * 3 + c
                        let scale = 1 / (255 * modality.std[c]), bias = -modality.mean[c] / modality.std[c]
                        ImageOps.resample(src: src.baseAddress! + p * plane, srcWidth: spec.width, dst: out + p * outPlane,
                                          outHeight: oh, outWidth: ow,
                                          rowLo: rl.baseAddress!, rowHi: rh.baseAddress!, rowFrac: rf.baseAddress!,
                                          colLo: cl.baseAddress!, colHi: ch.baseAddress!, colFrac: cf.baseAddress!,
                                          scale: scale, bias: bias)
                    }
                }
            }}}}}}
        }
    }

    /// Index of the first NaN/Inf in p[0..<n], nil if all finite (vectorised scan, then a search).
    static func firstNonFinite(_ p: UnsafeMutablePointer<Float>, count n: Int) -> Int? {
        var acc = SIMD16<Float>(repeating: 0)
        var j = 0
        let raw = UnsafeRawPointer(p)
        while j + 16 <= n {
            acc += raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) * 0
            j += 16
        }
        var tail: Float = 0
        while j < n { tail += p[j] * 0; j += 1 }
        // x * 0 is 0 for finite x and NaN for NaN/Inf, so any NaN lane means a non-finite value.
        guard (acc.sum() + tail).isNaN else { return nil }
        return (0..<n).first { !p[$0].isFinite }
    }
}

extension HDF5Dataset: SampleMetadata {
    public var annotatorRatings: [Float]? { ratings }
    public var sampleLabels: [Int32] { labels }

    public var kindNames: [String]? {
        guard let kinds else { return nil }
        let names = modalities.map(\.spec.name)
        return kinds.map { DataFormat.kindName(Int($0), modalities: names) }
    }
}
