/// How a run ended.
public struct RunSummary: Sendable {
    public var finished: [String] = []
    public var skipped: [String] = []
    public var failed: [(id: String, label: String, reason: String)] = []
    public var interrupted = false
    /// Trials not run: because of an interruption, or because another live process runs them.
    public var notRun: [String] = []
    /// Finished trials not skipped as current because the dataset files found now differ from
    /// those they recorded (one line per differing file); neither skipped silently nor trained again.
    public var datasetChanged: [(id: String, label: String, differences: [String])] = []
    public var succeeded: Bool { failed.isEmpty && !interrupted && notRun.isEmpty && datasetChanged.isEmpty }
}
