import Foundation

/// How long a claim on another machine (or an earlier boot) stays live without a heartbeat, and
/// how often a running trial writes one.
///
/// `NIN_STUDY_STALE_CLAIM_SECONDS` (a positive number of seconds) overrides the 15-minute
/// default: on a cluster whose jobs can be suspended longer, raise it; tests shorten it. Claims
/// on this machine are judged by their process (pid and start time) and do not wait for it.
public enum ClaimTimeout {
    /// The environment variable that overrides ``staleAfter``.
    public static let environmentVariable = "NIN_STUDY_STALE_CLAIM_SECONDS"
    /// The default: 15 minutes.
    public static let defaultStaleAfter: TimeInterval = 15 * 60

    /// Seconds without a heartbeat after which another host's claim is dead: the value of
    /// ``environmentVariable`` when it is a positive number, else ``defaultStaleAfter``.
    public static var staleAfter: TimeInterval {
        guard let text = ProcessInfo.processInfo.environment[environmentVariable],
              let seconds = TimeInterval(text), seconds > 0, seconds.isFinite else { return defaultStaleAfter }
        return seconds
    }

    /// Seconds between a running trial's heartbeats: a minute, or a third of ``staleAfter`` when
    /// that is shorter, so a live claim is never judged stale.
    public static var heartbeatInterval: TimeInterval { min(60, staleAfter / 3) }
}
