import ArgumentParser
import Foundation
import NINEngine

extension GEMMThreading: ExpressibleByArgument {}
extension ConvolutionSelection: ExpressibleByArgument {}

extension NINStudyCommand {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure engine throughput on the paper's networks (build with -c release for meaningful figures).",
            discussion: "Compare with ../shared/bench/torch_nin_bench.py run in the same sitting on the same machine; quote ratios.")

        enum Model: String, ExpressibleByArgument, CaseIterable { case cifar10, mnist, both }

        @Option(help: "cifar10, mnist or both.") var model: Model = .both
        @Option(help: "Mini-batch size.") var batch: Int = 128
        @OptionGroup var threading: ThreadOptions
        var threads: Int { threading.threads }
        @Option(help: "Timed steps.") var steps: Int = 10
        @Option(help: "Warm-up steps.") var warmup: Int = 2
        @Flag(help: "Print JSON (one object per model) instead of a table.") var json = false
        @Flag(help: "Also print the per-layer breakdown and standalone GEMM figures.") var layers = false
        @Option(help: "How row-blocked layers share the cores with the GEMM library: workers (one single-threaded worker per thread) or library (multi-threaded GEMMs); for measuring the choice.")
        var gemmThreading: GEMMThreading = ComputeBackend.gemmThreading
        @Option(help: "Which k×k convolutions use oneDNN's convolution primitives: measured (the per-layer rule), im2col-gemm (none) or primitive (all); for measuring the rule.")
        var convolution: ConvolutionSelection = ComputeBackend.convolutionSelection

        func validate() throws {
            guard batch >= 1, steps >= 1, warmup >= 0 else {
                throw ValidationError("--batch and --steps must be ≥ 1 and --warmup ≥ 0")
            }
        }

        func run() throws {
            #if DEBUG
            FileHandle.standardError.write(Data("note: this is a debug build; build with `swift build -c release` for meaningful figures\n".utf8))
            #endif
            let models: [ModelDescription] = model == .both ? [.ninCIFAR10, .ninMNIST] : model == .cifar10 ? [.ninCIFAR10] : [.ninMNIST]
            ComputeBackend.gemmThreading = gemmThreading
            ComputeBackend.convolutionSelection = convolution
            let limit = EngineBenchmark.sgemmLimit(threads: threads)
            if !json {
                print(String(format: "sgemm limit (4096³, %d threads): %.1f GFLOP/s — ", threads, limit)
                      + ComputeBackend.provenance(threads: threads).description)
            }
            for m in models {
                let r = try EngineBenchmark.run(model: m, batch: batch, threads: threads, steps: steps, warmup: warmup,
                                            sgemmLimitGFLOPS: limit)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    print(String(decoding: try encoder.encode(r), as: UTF8.self))
                    continue
                }
                let rss = r.peakRSSBytes.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "n/a"
                print("\(r.model): batch \(r.batch), \(r.threads) threads — "
                      + String(format: "train %.1f img/s (%.1f GFLOP/s, %.0f%% of the limit), eval %.1f img/s (%.1f GFLOP/s, %.0f%%)",
                               r.trainImagesPerSecond, r.trainGFLOPS, 100 * r.trainFractionOfLimit,
                               r.evalImagesPerSecond, r.evalGFLOPS, 100 * r.evalFractionOfLimit)
                      + ", peak RSS \(rss)")
                if layers {
                    for l in r.layers {
                        print("  " + l.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                              + (l.algorithm?.rawValue ?? "").padding(toLength: 12, withPad: " ", startingAt: 0)
                              + String(format: " fwd %8.2f ms (%6.1f GFLOP/s)  bwd %8.2f ms (%6.1f GFLOP/s)",
                                       l.forwardMilliseconds, l.forwardGFLOPS, l.backwardMilliseconds, l.backwardGFLOPS))
                    }
                    for g in r.gemms {
                        print("  GEMM " + g.layer.padding(toLength: 16, withPad: " ", startingAt: 0) + " "
                              + g.pass.padding(toLength: 8, withPad: " ", startingAt: 0)
                              + String(format: " %5d×%5d×%5d %8.2f ms %6.1f GFLOP/s", g.m, g.n, g.k, g.milliseconds, g.gflops))
                    }
                }
            }
        }
    }
}
