import Foundation
import NINBuildInfo
import NINData
import NINStudy

/// What both export formats record about the trial (ONNX `metadata_props`, safetensors
/// `__metadata__`; string values, lists and numbers as JSON): the one owner of those keys.
///
/// Keys: `trial_id` (64 hex digits), `studies` (JSON list), `dataset`, `class_names` (JSON list,
/// label order), `nin_study_version`, `nin_study_commit` (`unknown` outside a git checkout),
/// `preprocessing` (`none`, `scale`, `meanstd`, `gcn-zca-s55.0-b0.1`), for `meanstd`
/// `preprocessing_mean` and `preprocessing_std` (JSON lists, per channel, pixel units 0–255), for
/// `gcn-zca` `gcn_scale` and `zca_filter_bias` (the ZCA mean and matrix are tensors, see
/// `preprocessingTensors`), `modules` (`TorchSequential.modulesJSON`), `input` (what the
/// network's first layer takes).
public struct ExportMetadata: Sendable {
    /// `nin-study <version> (<commit>)`, the ONNX producer version.
    public static var producerVersion: String { "\(ninStudyVersion) (\(BuildInfo.gitCommit ?? "unknown commit"))" }

    public var trialId: String
    public var studies: [String]
    public var dataset: String
    public var classNames: [String]
    public var preprocessing: FittedPreprocessing

    public init(trialId: String, studies: [String], dataset: String, classNames: [String], preprocessing: FittedPreprocessing) {
        (self.trialId, self.studies, self.dataset, self.classNames, self.preprocessing) = (trialId, studies, dataset, classNames, preprocessing)
    }

    /// The key-value properties (see the type's documentation).
    public func properties(modulesJSON: String) -> [String: String] {
        var p: [String: String] = [
            "trial_id": trialId, "studies": Self.json(studies), "dataset": dataset, "class_names": Self.json(classNames),
            "nin_study_version": ninStudyVersion, "nin_study_commit": BuildInfo.gitCommit ?? "unknown",
            "preprocessing": preprocessing.preprocessing.key, "modules": modulesJSON,
        ]
        let shape = preprocessing.imageShape
        switch preprocessing.preprocessing {
        case .none:
            p["input"] = "pixels 0-255"
        case .scale:
            p["input"] = "pixels / 255"
        case .meanStd:
            p["preprocessing_mean"] = Self.json(preprocessing.channelMean.map(Double.init))
            p["preprocessing_std"] = Self.json(preprocessing.channelStd.map(Double.init))
            p["input"] = "(pixels 0-255 - preprocessing_mean) / preprocessing_std, per channel"
        case let .gcnZCA(scale, filterBias):
            p["gcn_scale"] = "\(scale)"
            p["zca_filter_bias"] = "\(filterBias)"
            p["input"] = "pixels 0-255 flattened HWC per image, x - mean(x), times gcn_scale / |x| (1 below 1e-8), "
                + "minus preprocessing.zca_mean, times preprocessing.zca_matrix, back to [\(shape.map(String.init).joined(separator: ", "))] HWC"
        }
        return p
    }

    /// The fitted GCN + ZCA parameters as tensors (`preprocessing.zca_mean` `[D]`,
    /// `preprocessing.zca_matrix` `[D, D]`, D = H·W·C in HWC order); none for other preprocessing.
    public var preprocessingTensors: [TorchTensor] {
        guard case .gcnZCA = preprocessing.preprocessing else { return [] }
        let d = preprocessing.zcaMean.count
        return [TorchTensor(name: "preprocessing.zca_mean", shape: [d], values: preprocessing.zcaMean),
                TorchTensor(name: "preprocessing.zca_matrix", shape: [d, d], values: preprocessing.zcaMatrix)]
    }

    static func json(_ value: Any) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) ?? Data("null".utf8), as: UTF8.self)
    }
}
