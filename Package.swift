// swift-tools-version:6.0
// nin-study: a reproducible benchmark harness for Network In Network (Lin, Chen, Yan, ICLR 2014).
import PackageDescription

let package = Package(
    name: "nin-study",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "nin-study", targets: ["nin-study"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        // The ONNX protobuf encoding of `nin-study export` (runtime library only).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System-library shims (Debian: libdnnl-dev, libopenblas-dev, libpng-dev, zlib1g-dev).
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL",
                       providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG",
                       providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // Cairo 2-D graphics for every figure (text in DejaVu Sans: Debian fonts-dejavu-core).
        .systemLibrary(name: "CCairo", path: "Sources/CCairo",
                       providers: [.apt(["libcairo2-dev", "fonts-dejavu-core"]), .brew(["cairo"])]),

        // bfloat16 rounding of fp32 blocks (AVX-512 where the processor has it, chosen at run time).
        .target(name: "CBF16", path: "Sources/CBF16"),

        // The NIN engine: tensors, the compute backend (oneDNN; OpenBLAS for LAPACK), layers,
        // optimizer, model builder, checkpoints.
        .target(name: "NINEngine",
                dependencies: ["CBF16",
                               .target(name: "CDNNL", condition: .when(platforms: [.linux])),
                               .target(name: "CBLAS", condition: .when(platforms: [.linux]))],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        // Dataset readers, preprocessing, augmentation, mini-batches, fetch.
        .target(name: "NINData",
                dependencies: ["NINEngine", "CZlib",
                               .product(name: "Crypto", package: "swift-crypto")]),
        // SQLite results store.
        .target(name: "NINStore",
                dependencies: [.product(name: "GRDB", package: "GRDB.swift"),
                               .product(name: "Crypto", package: "swift-crypto")]),
        // Figures drawn with Cairo (PNG, PDF, SVG): colour maps, confidence-map sheets, learning
        // curves, error bars; PNG reading and writing through libpng.
        .target(name: "NINRender", dependencies: ["CPNG", "CCairo"]),
        // The git commit of the source tree, recorded at build time (no git call at run time).
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "NINBuildInfo", plugins: ["BuildInfoPlugin"]),
        // Study definitions, sweep expansion, trainer, runner.
        .target(name: "NINStudy",
                dependencies: ["NINEngine", "NINData", "NINStore", "NINRender", "NINBuildInfo",
                               .product(name: "Crypto", package: "swift-crypto")]),
        // `nin-study report`: a study's answer with uncertainty, beside the paper, as HTML,
        // Markdown or text, with figures. It reads each trial's stored configuration with
        // NINStudy's own TrialConfig (NINStudy does not depend on the report).
        .target(name: "NINReport",
                dependencies: ["NINStudy", "NINStore", "NINRender", "NINEngine", "NINData"]),
        // `nin-study export`: a trained network as ONNX (preprocessing in the graph; Swift
        // generated from ONNX's onnx.proto by scripts/generate-onnx-proto) or safetensors under
        // the PyTorch module's names.
        .target(name: "NINExport",
                dependencies: ["NINStudy", "NINStore", "NINEngine", "NINData", "NINBuildInfo",
                               .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // The command-line tool.
        .executableTarget(name: "nin-study",
                          dependencies: ["NINStudy", "NINEngine", "NINData", "NINStore", "NINRender", "NINReport", "NINExport",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "NINEngineTests", dependencies: ["NINEngine", "CBF16"]),
        .testTarget(name: "NINDataTests", dependencies: ["NINData", "NINEngine", "CZlib"]),
        .testTarget(name: "NINStoreTests", dependencies: ["NINStore"]),
        .testTarget(name: "NINRenderTests", dependencies: ["NINRender", "CPNG"]),
        .testTarget(name: "NINStudyTests", dependencies: ["NINStudy", "nin-study"]),
        .testTarget(name: "NINExportTests", dependencies: ["NINExport", "NINStudy", "NINStore", "NINEngine", "NINData", "nin-study",
                                                           .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "NINReportTests", dependencies: ["NINReport", "NINStudy", "NINStore", "NINRender", "nin-study"]),
    ],
    swiftLanguageModes: [.v5]
)
