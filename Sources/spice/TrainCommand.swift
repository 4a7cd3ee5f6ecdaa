import Foundation
import Tensor
import NN
import Data
import Training

/// `spice train`: for now a single-process run on a generated dataset (the README's default job).
enum TrainCommand {
    static let help = """
    usage: spice train [options]

    Trains the audio-visual model (one ResNet18 encoder per modality, fusion + unimodal heads)
    on a generated dataset and prints one line per epoch.

      --samples N     training samples (default 512; plus N/2 test samples)
      --classes N     classes (default 8)
      --size N        audio 1xNxN and visual 3xNxN inputs (default 32)
      --width N       ResNet18 base width, 64 = standard (default 8)
      --epochs N      epochs (default 4)
      --batch N       batch size (default 32)
      --lr X          learning rate (default 0.05; cosine schedule to 0 over the epochs)
      --seed N        seed for data, initialisation and shuffling (default 0)
      --threads N     BLAS threads (default: all cores)
    """

    static func run(_ argv: [String]) throws {
        let a = try Arguments(argv, options: ["samples", "classes", "size", "width", "epochs", "batch", "lr", "seed", "threads"],
                              switches: ["help"])
        if a.has("help") { print(help); return }
        let samples = try a.int("samples", default: 512, min: 1), classes = try a.int("classes", default: 8, min: 2)
        let size = try a.int("size", default: 32, min: 8), width = try a.int("width", default: 8, min: 1)
        var config = TrainConfig()
        config.epochs = try a.int("epochs", default: 4, min: 1)
        config.batchSize = try a.int("batch", default: 32, min: 1)
        config.learningRate = try a.double("lr", default: 0.05, min: 0)
        config.seed = UInt64(try a.int("seed", default: 0, min: 0))
        config.schedule = .cosine(tMax: config.epochs, etaMin: 0)
        guard config.batchSize <= samples else {
            throw UsageError("--batch \(config.batchSize) is larger than --samples \(samples): no full batch to train on")
        }
        BLASInfo.setThreads(try a.int("threads", default: ProcessInfo.processInfo.activeProcessorCount, min: 1))

        let shapes = [InMemoryDataset.ModalityShape(name: "audio", channels: 1, height: size, width: size),
                      InMemoryDataset.ModalityShape(name: "visual", channels: 3, height: size, width: size)]
        let data = SyntheticDataset.make(count: samples + samples / 2, classes: classes, shapes: shapes, noise: 2.0, seed: config.seed)
        let (train, test) = split(data, trainCount: samples)
        let model = MultimodalModel(modalities: [Modality(name: "audio", channels: 1), Modality(name: "visual", channels: 3)],
                                    classes: classes, width: width)
        model.initialize(seed: config.seed)
        print("spice train: \(samples) synthetic samples, \(classes) classes, audio 1x\(size)x\(size) + visual 3x\(size)x\(size), "
              + "ResNet18 width \(width) (\(model.parameterCount) parameters), \(BLASInfo.summary)")
        let trainer = Trainer(model: model, config: config)
        trainer.run(train: train, test: test) { r in
            print(String(format: "epoch %d  lr %.4f  loss %.4f  train acc %.3f  test acc %.3f  %.1f samples/s",
                         r.epoch + 1, r.learningRate, r.loss, r.trainAccuracy, r.testAccuracy, r.samplesPerSecond))
        }
    }

    static func split(_ d: InMemoryDataset, trainCount: Int) -> (InMemoryDataset, InMemoryDataset) {
        let train = InMemoryDataset(shapes: d.shapes, classes: d.classes), test = InMemoryDataset(shapes: d.shapes, classes: d.classes)
        for i in 0..<d.count {
            let sample = d.shapes.indices.map { m in Array(d.values[m][(i * d.shapes[m].sampleCount)..<((i + 1) * d.shapes[m].sampleCount)]) }
            (i < trainCount ? train : test).append(label: d.labels[i], sample: sample)
        }
        return (train, test)
    }
}
