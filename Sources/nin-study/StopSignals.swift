import Foundation
import NINStudy

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The signals that stop a run cleanly, all handled alike: SIGINT (Ctrl-C), SIGTERM (`kill`, and
/// Slurm on preemption or at the time limit) and SIGHUP (the terminal closed). The first asks the
/// runner to stop after the current mini-batch (the last end-of-epoch checkpoint stays valid and
/// the trial is marked interrupted); a second one exits at once with status 128 + the signal's
/// number, as the default action would.
///
/// The signals are blocked in the thread that creates this (the main thread, before the run
/// starts any compute thread, so every thread the engine makes inherits the mask) and read by
/// libdispatch's signal sources. Without the mask, libdispatch's handler ran on whichever thread
/// the kernel picked, often the main thread in the middle of a oneDNN JIT kernel, and its signal
/// frame overwrote heap memory there (AddressSanitizer: a heap-buffer-overflow in
/// `_dispatch_muxnote_signal_block_and_raise`): the Ctrl-C that ended in `free(): invalid
/// pointer`. `TrialVerifierTests.testEveryThreadOfATrainingProcessBlocksTheStopSignals` checks the mask.
///
/// The one place that decides what a signal does to a run: keep it the only one.
final class StopSignals {
    static let handled: [(number: Int32, name: String)] = [(SIGINT, "Ctrl-C"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]
    private var sources: [DispatchSourceSignal] = []

    /// Installs the handlers; they set `stop`. `beforeForcedExit` runs before a second signal
    /// exits (`verify` removes its scratch folder there).
    init(_ stop: StopFlag, beforeForcedExit: @escaping @Sendable () -> Void = {}) {
        var blocked = Self.signalSet
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        for (number, name) in Self.handled {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if stop.isSet { beforeForcedExit(); _exit(128 + number) }
                FileHandle.standardError.write(Data("\n\(name): stopping after this mini-batch (a second signal quits at once)…\n".utf8))
                stop.set()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Removes the handlers and restores each signal's default action.
    func cancel() {
        for source in sources { source.cancel() }
        for (number, _) in Self.handled { signal(number, SIG_DFL) }
        var blocked = Self.signalSet
        pthread_sigmask(SIG_UNBLOCK, &blocked, nil)
        sources = []
    }

    /// The handled signals as a set.
    private static var signalSet: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for (number, _) in handled { sigaddset(&set, number) }
        return set
    }
}
