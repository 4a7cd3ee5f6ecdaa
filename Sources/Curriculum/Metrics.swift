/// Evaluation metrics with scikit-learn semantics (checked against sklearn fixtures).
/// Labels and predictions are class indices; scores are flat row-major [count, classes].
public enum Metrics {
    /// What a class without positive samples contributes to the macro mAP.
    public enum NoPositiveClass: String, Sendable {
        /// AP = 0 and the class stays in the mean (sklearn >= 1.1 `average_precision_score` on
        /// one-hot labels, average='macro', which also warns).
        case zero
        /// The class is left out of the mean (the mean of the classes that have positives).
        case excluded
    }

    /// Which classes macro-F1 averages over.
    public enum F1Classes: String, Sendable {
        /// Classes present in the labels or the predictions (sklearn's default, labels=None).
        case present
        /// All classes 0..<classes (sklearn labels=range(classes)); a class absent from both
        /// gets `zeroDivision`.
        case all
    }

    /// Row-wise argmax; the first maximum wins (numpy's convention).
    public static func argmaxRows(_ scores: [Float], classes: Int) -> [Int32] {
        precondition(classes >= 1 && scores.count % classes == 0, "\(scores.count) values are not rows of \(classes)")
        return stride(from: 0, to: scores.count, by: classes).map { row in
            var best = 0
            for c in 1..<classes where scores[row + c] > scores[row + best] { best = c }
            return Int32(best)
        }
    }

    /// Micro accuracy: the fraction of predictions equal to the label (0 for no samples).
    public static func accuracy(predictions: [Int32], labels: [Int32]) -> Double {
        precondition(predictions.count == labels.count, "\(predictions.count) predictions for \(labels.count) labels")
        guard !labels.isEmpty else { return 0 }
        var hits = 0
        for i in 0..<labels.count where predictions[i] == labels[i] { hits += 1 }
        return Double(hits) / Double(labels.count)
    }

    /// Accuracy of each unimodal head's argmax.
    public static func modalityAccuracy(unimodalScores: [[Float]], labels: [Int32], classes: Int) -> [Double] {
        unimodalScores.map { accuracy(predictions: argmaxRows($0, classes: classes), labels: labels) }
    }

    /// Step-wise average precision, sum over thresholds of (R_n - R_{n-1}) P_n, with tied scores
    /// forming one threshold (sklearn `average_precision_score`). nil when there are no positives.
    public static func averagePrecision(scores: [Float], positives: [Bool]) -> Double? {
        precondition(scores.count == positives.count, "\(scores.count) scores for \(positives.count) labels")
        let total = positives.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard total > 0 else { return nil }
        for s in scores { precondition(!s.isNaN, "NaN score") }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0, fp = 0, i = 0, recallBefore = 0.0, ap = 0.0
        while i < order.count {
            let threshold = scores[order[i]]
            while i < order.count && scores[order[i]] == threshold {
                if positives[order[i]] { tp += 1 } else { fp += 1 }
                i += 1
            }
            let recall = Double(tp) / Double(total)
            ap += (recall - recallBefore) * Double(tp) / Double(tp + fp)
            recallBefore = recall
        }
        return ap
    }

    /// Macro mAP: the mean over classes of one-vs-rest AP of column c of `scores` (pass the
    /// softmax of the summed logits, see `ClassificationReport`).
    public static func meanAveragePrecision(scores: [Float], labels: [Int32], classes: Int,
                                            noPositive: NoPositiveClass = .zero) -> Double {
        precondition(scores.count == labels.count * classes, "\(scores.count) scores for \(labels.count) x \(classes)")
        var sum = 0.0, n = 0
        var column = [Float](repeating: 0, count: labels.count)
        for c in 0..<classes {
            for i in 0..<labels.count { column[i] = scores[i * classes + c] }
            if let ap = averagePrecision(scores: column, positives: labels.map { Int($0) == c }) {
                sum += ap; n += 1
            } else if noPositive == .zero {
                n += 1
            }
        }
        return n > 0 ? sum / Double(n) : 0
    }

    /// Macro F1: the mean over classes of 2 TP / (2 TP + FP + FN); a class with 2 TP + FP + FN = 0
    /// (only possible with `.all`) gets `zeroDivision` (sklearn's zero_division; "warn" acts as 0).
    public static func macroF1(predictions: [Int32], labels: [Int32], classes: Int,
                               over: F1Classes = .present, zeroDivision: Double = 0) -> Double {
        precondition(predictions.count == labels.count, "\(predictions.count) predictions for \(labels.count) labels")
        var tp = [Int](repeating: 0, count: classes), fp = tp, fn = tp
        var present = [Bool](repeating: over == .all, count: classes)
        for i in 0..<labels.count {
            let y = Int(labels[i]), p = Int(predictions[i])
            precondition(y >= 0 && y < classes && p >= 0 && p < classes, "class index outside [0, \(classes))")
            present[y] = true; present[p] = true
            if y == p { tp[y] += 1 } else { fp[p] += 1; fn[y] += 1 }
        }
        var sum = 0.0, n = 0
        for c in 0..<classes where present[c] {
            let den = 2 * tp[c] + fp[c] + fn[c]
            sum += den > 0 ? Double(2 * tp[c]) / Double(den) : zeroDivision
            n += 1
        }
        return n > 0 ? sum / Double(n) : zeroDivision
    }
}

/// The paper's test metrics from the heads' logits: the prediction is argmax of
/// z_multi + sum_m z_m (eq. 18-19); mAP ranks by the softmax of that sum.
public struct ClassificationReport: Sendable, Equatable {
    public let accuracy: Double
    public let meanAveragePrecision: Double
    public let macroF1: Double
    /// Accuracy of each unimodal head alone.
    public let modalityAccuracy: [Double]

    /// Figures computed elsewhere (e.g. received from rank 0).
    public init(accuracy: Double, meanAveragePrecision: Double, macroF1: Double, modalityAccuracy: [Double]) {
        self.accuracy = accuracy; self.meanAveragePrecision = meanAveragePrecision
        self.macroF1 = macroF1; self.modalityAccuracy = modalityAccuracy
    }

    public init(fusedLogits: [Float], unimodalLogits: [[Float]], labels: [Int32], classes: Int,
                noPositive: Metrics.NoPositiveClass = .zero) {
        let summed = sumArrays([fusedLogits] + unimodalLogits)
        let predictions = Metrics.argmaxRows(summed, classes: classes)
        accuracy = Metrics.accuracy(predictions: predictions, labels: labels)
        meanAveragePrecision = Metrics.meanAveragePrecision(scores: softmaxRows(summed, classes: classes), labels: labels,
                                                            classes: classes, noPositive: noPositive)
        macroF1 = Metrics.macroF1(predictions: predictions, labels: labels, classes: classes)
        modalityAccuracy = Metrics.modalityAccuracy(unimodalScores: unimodalLogits, labels: labels, classes: classes)
    }
}
