import NINEngine

extension ResolvedModel {
    /// The engine's description of this network for a dataset's input shape.
    ///
    /// `fc-dropout` puts dropout (rate `fcDropout`) before the final fully connected layer and
    /// after each hidden one (the paper's Table 5, "mlpconv + fully connected + dropout").
    func engineDescription(dataset: ResolvedDataset, name: String = "trial") -> ModelDescription {
        let blocks = self.blocks.map { b in
            MlpconvBlock(channels: b.channels, kernel: b.kernel, stride: b.stride, pad: b.pad, microWidths: b.widths,
                         pool: b.pool.map { MlpconvBlock.Pool(kind: $0.kind, size: $0.size, stride: $0.stride, pad: $0.pad) },
                         dropout: b.dropout.map { Float($0) })
        }
        let head: Head
        switch self.head {
        case .gap: head = .gap(finalReLU: finalReLU)
        case .fc, .fcDropout: head = .fc(hidden: fcHidden, dropout: fcDropout.map { Float($0) }, finalReLU: finalReLU)
        }
        return ModelDescription(name: name, input: InputShape(height: dataset.height, width: dataset.width, channels: dataset.channels),
                                classes: dataset.classes, blocks: blocks, head: head)
    }
}

extension ResolvedTraining {
    /// The engine initialiser for this training configuration.
    var engineInitializer: Initializer {
        switch initializer.kind {
        case .gaussian: return .gaussian(std: Float(initializer.std ?? 0.05))
        case .he: return .he
        }
    }

    /// The engine's per-parameter multipliers.
    var engineMultipliers: LearningRateMultipliers {
        let m = multipliers
        if let factor = m.lastLayer {
            return LearningRateMultipliers(weight: Float(m.weight), bias: Float(m.bias), weightDecay: Float(m.weightDecay),
                                           biasDecay: Float(m.biasDecay), scalingLastLayerBy: Float(factor))
        }
        let last = m.last ?? ResolvedLayerMultipliers(weight: 0.1, bias: 0.1, weightDecay: 1, biasDecay: 0)
        return LearningRateMultipliers(weight: Float(m.weight), bias: Float(m.bias), weightDecay: Float(m.weightDecay),
                                       biasDecay: Float(m.biasDecay), lastWeight: Float(last.weight),
                                       lastBias: Float(last.bias), lastWeightDecay: Float(last.weightDecay),
                                       lastBiasDecay: Float(last.biasDecay))
    }
}
