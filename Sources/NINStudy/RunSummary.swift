/// How a run ended.
public struct RunSummary: Sendable {
    public var finished: [String] = []
    public var skipped: [String] = []
    public var failed: [(id: String, label: String, reason: String)] = []
    public var interrupted = false
    /// Trials not run: because of an interruption, or because another live process runs them.
    public var notRun: [String] = []
    public var succeeded: Bool { failed.isEmpty && !interrupted && notRun.isEmpty }
}
