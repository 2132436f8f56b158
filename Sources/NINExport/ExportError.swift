/// A failure of `nin-study export`, naming the trial, file or count involved.
public enum ExportError: Error, Equatable, CustomStringConvertible {
    /// The checkpoint holds another number of parameters than the description needs.
    case parameterCount(expected: Int, found: Int)
    /// The trial did not finish, so its checkpoint (if any) is not the trained network.
    case unfinished(trial: String, status: String, epoch: Int?, epochs: Int)
    /// The output path's folder does not exist.
    case missingFolder(path: String, folder: String)
    /// A folder (or another non-regular file) is where the output file should go.
    case notAFile(path: String)
    /// Writing or renaming the output failed.
    case io(path: String, reason: String)
    /// The fitted preprocessing does not fit the network's input.
    case preprocessingShape(expected: [Int], found: [Int])
    /// No ONNX pooling rounding gives the engine's pooled map size.
    case poolingRule(input: [Int], output: [Int], size: Int, stride: Int, pad: Int)
    /// The trial is recorded as finished but its checkpoint file is gone.
    case noCheckpoint(trial: String, path: String)
    /// A safetensors file that does not decode (what is wrong).
    case badSafetensors(String)

    public var description: String {
        switch self {
        case let .parameterCount(e, f):
            return "checkpoint holds \(f) parameters, the trial's network has \(e)"
        case let .unfinished(t, status, epoch, epochs):
            let saved = epoch.map { "its checkpoint (epoch \($0) of \(epochs)) is not the trained network" } ?? "it has no checkpoint"
            return "trial \(t.prefix(10)) is \(status), not finished: \(saved). "
                + "Export a finished trial, or train this one to the end: `nin-study run STUDY --db YOUR.sqlite` "
                + "(into your own database) resumes or retrains it and writes its final checkpoint"
        case let .missingFolder(p, folder): return "--out \(p): the folder \(folder) does not exist (create it first)"
        case let .notAFile(p): return "--out \(p): a folder or other non-regular file is in the way"
        case let .io(p, r): return "\(p): \(r)"
        case let .preprocessingShape(e, f):
            return "preprocessing was fitted on images \(f), the network takes \(e) (H, W, C)"
        case let .noCheckpoint(t, p):
            return "trial \(t.prefix(10)) is finished but has no checkpoint at \(p), so there are no trained weights to export. "
                + "To get one, run its study again into your own database (`nin-study run STUDY --db YOUR.sqlite`), "
                + "which trains the trial and keeps its final checkpoint, then export from that database"
        case let .poolingRule(i, o, k, s, p):
            return "pooling \(k)×\(k) stride \(s) pad \(p) maps \(i) to \(o) in the engine, which neither ONNX ceil_mode gives"
        case let .badSafetensors(reason): return "not a safetensors file of float32 tensors: \(reason)"
        }
    }
}
