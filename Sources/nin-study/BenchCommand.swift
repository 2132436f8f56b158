import ArgumentParser
import Foundation
import NINEngine

extension GEMMThreading: ExpressibleByArgument {}
extension ConvolutionSelection: ExpressibleByArgument {}
extension GEMMSelection: ExpressibleByArgument {}
extension GEMMPrecision: ExpressibleByArgument {}

extension NINStudyCommand {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure engine throughput on the paper's networks (build with -c release for meaningful figures).",
            discussion: "Compare with ../shared/bench/torch_nin_bench.py run in the same sitting on the same machine; quote ratios.")

        enum Model: String, ExpressibleByArgument, CaseIterable { case cifar10, mnist, both }

        @Option(help: "cifar10, mnist or both.") var model: Model = .both
        @Option(parsing: .unconditional, help: "Mini-batch size.") var batch: Int = 128
        @OptionGroup var threading: ThreadOptions
        var threads: Int { threading.threads }
        @Option(parsing: .unconditional, help: "Timed steps.") var steps: Int = 10
        @Option(parsing: .unconditional, help: "Warm-up steps.") var warmup: Int = 2
        @Flag(help: "Print JSON (one object per model) instead of a table.") var json = false
        @Flag(help: "Also print the per-layer breakdown and each layer's GEMMs at the engine's block shapes with dnnl_sgemm, matmul f32 and matmul bf16, interleaved.") var layers = false
        @Option(help: "The number format of the GEMM inputs: fp32 or bf16 (training.precision); the limit printed is the machine's in that precision.")
        var precision: GEMMPrecision = .fp32
        @Option(help: "Which kernel serves fp32 GEMMs: measured (the per-shape rule), sgemm (dnnl_sgemm) or matmul (oneDNN's matmul primitive); for measuring the rule.")
        var gemm: GEMMSelection = ComputeBackend.gemmSelection
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
            try reportingErrors { try measure() }
        }

        func measure() throws {
            let models: [ModelDescription] = model == .both ? [.ninCIFAR10, .ninMNIST] : model == .cifar10 ? [.ninCIFAR10] : [.ninMNIST]
            ComputeBackend.gemmThreading = gemmThreading
            ComputeBackend.convolutionSelection = convolution
            if precision == .bf16, let reason = ComputeBackend.bf16Unsupported() { throw PrecisionError.bf16Unsupported(reason: reason) }
            let limit = EngineBenchmark.limit(precision: precision, threads: threads)
            ComputeBackend.gemmSelection = gemm
            if !json {
                let sgemm = limit.kernel == "dnnl_sgemm" ? "" : String(format: "; dnnl_sgemm %.1f", limit.sgemmGFLOPS)
                print(String(format: "%@ limit (%d³, %d threads): %.1f GFLOP/s (%@%@) — ", precision.rawValue, limit.size,
                             threads, limit.gflops, limit.kernel, sgemm)
                      + ComputeBackend.provenance(threads: threads).description + "; GEMM kernels: " + ComputeBackend.gemmDescription)
            }
            for m in models {
                let r = try EngineBenchmark.run(model: m, batch: batch, threads: threads, steps: steps, warmup: warmup,
                                                precision: precision, limit: limit, compareKernels: layers)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    print(String(decoding: try encoder.encode(r), as: UTF8.self))
                    continue
                }
                let rss = r.peakRSSBytes.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "n/a"
                let kernels = r.precision == .fp32 ? ", GEMM kernels: " + (r.gemm == .measured ? "the measured rule" : r.gemm.rawValue) : ""
                print("\(r.model): batch \(r.batch), \(r.threads) threads, \(r.precision.rawValue)\(kernels) — "
                      + String(format: "train %.1f img/s (%.1f GFLOP/s, %.0f%% of the %@ limit), eval %.1f img/s (%.1f GFLOP/s, %.0f%%)",
                               r.trainImagesPerSecond, r.trainGFLOPS, 100 * r.trainFractionOfLimit, r.precision.rawValue,
                               r.evalImagesPerSecond, r.evalGFLOPS, 100 * r.evalFractionOfLimit)
                      + ", peak RSS \(rss)")
                if layers { printLayers(r) }
            }
        }

        /// The per-layer breakdown, then each layer's GEMMs with every kernel.
        func printLayers(_ r: BenchmarkResult) {
            for l in r.layers {
                let forward = l.forwardLayers.isEmpty ? "fwd in its mlpconv block"
                    : String(format: "fwd %8.2f ms (%6.1f GFLOP/s)", l.forwardMilliseconds, l.forwardGFLOPS)
                        + (l.forwardLayers.count > 1 ? " for \(l.forwardLayers.count) layers" : "")
                print("  " + l.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                      + (l.algorithm?.rawValue ?? "").padding(toLength: 12, withPad: " ", startingAt: 0)
                      + " " + forward.padding(toLength: 44, withPad: " ", startingAt: 0)
                      + String(format: " bwd %8.2f ms (%6.1f GFLOP/s)", l.backwardMilliseconds, l.backwardGFLOPS))
            }
            if r.kernels.isEmpty { return }
            print("  GEMMs at the engine's block shapes, GFLOP/s of all workers, best of 5 interleaved rounds:")
            print("  layer            pass                M ×     N ×     K  workers    sgemm  matmul f32  matmul bf16  rule")
            for g in r.kernels {
                print("  " + g.layer.padding(toLength: 16, withPad: " ", startingAt: 0) + " "
                      + g.pass.padding(toLength: 15, withPad: " ", startingAt: 0)
                      + String(format: " %6d × %5d × %5d  %7d  %7.1f  %10.1f  %11@  %@", g.m, g.n, g.k, g.workers, g.sgemmGFLOPS,
                               g.matmulGFLOPS, g.bf16GFLOPS.map { String(format: "%.1f", $0) } ?? "-", g.rule.rawValue))
            }
        }
    }
}
