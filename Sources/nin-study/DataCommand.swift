import ArgumentParser
import Foundation
import NINData

extension DatasetName: ExpressibleByArgument {}

extension NINStudyCommand {
    struct DataCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data", abstract: "Find, verify and download the datasets.",
            discussion: "Lookup order: --data-dir, then $NIN_DATA_DIR, then the per-user cache (~/.cache/nin-study/data), then /usr/share/datasets (Debian's dataset packages).",
            subcommands: [Fetch.self, ListData.self, Verify.self])
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a dataset from its official location, verifying checksums (mnist, fashion-mnist, cifar10).")
        @Argument(help: "mnist, fashion-mnist or cifar10.") var dataset: DatasetName
        @Option(help: "Download into this folder (default: the per-user cache).") var dataDir: String?
        @Option(help: "Download from this base URL instead of the official one (a mirror, or file:// for a local copy).")
        var baseURL: String?

        func run() throws {
            try reportingErrors {
                let report = try DatasetFetcher(baseURL: baseURL).fetch(dataset, dataDir: dataDir) { print($0) }
                for f in report.files {
                    print("\(f.alreadyPresent ? "present" : "fetched")  \(f.path)  \(f.bytes) bytes  sha256 \(f.sha256)")
                }
                print("\(dataset.rawValue) is ready in \(report.directory)")
            }
        }
    }

    struct ListData: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Show which datasets are found where, with sizes and SHA-256.")
        @OptionGroup var data: DataDirOptions
        func run() throws { try reportingErrors { print(render(DataLocator().list(dataDir: data.dataDir))) } }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every dataset file against its known checksum and structure; non-zero exit if any is wrong.")
        @OptionGroup var data: DataDirOptions
        @Argument(help: "Datasets to verify (default: all found).") var datasets: [DatasetName] = []
        func run() throws {
            let reports = DataLocator().verify(datasets.isEmpty ? DatasetName.allCases : datasets, dataDir: data.dataDir)
            print(render(reports))
            let requested = reports.filter { datasets.isEmpty ? $0.location != nil : true }
            if requested.contains(where: { !$0.isOK }) { throw ExitCode(1) }
        }
    }
}

/// Human-readable data reports.
func render(_ reports: [DataReport]) -> String {
    var lines: [String] = []
    for r in reports {
        if let loc = r.location {
            let layout: String
            switch loc.layout {
            case .idxFolder: layout = "folder of IDX files"
            case .cifarFolder: layout = "cifar-10-batches-bin folder"
            case .cifarArchive: layout = "cifar-10-binary.tar.gz archive"
            }
            let origin: String
            switch loc.origin {
            case .argument: origin = "--data-dir"
            case .environment: origin = "$NIN_DATA_DIR"
            case .userCache: origin = "the per-user cache"
            case .system: origin = "the system datasets folder"
            }
            lines.append("\(r.dataset.rawValue): \(loc.path) (\(layout), found via \(origin))" + (r.identity.map { ", identity \($0.prefix(16))…" } ?? ""))
            for f in r.files {
                let status: String
                switch f.status {
                case .notChecked: status = "-"
                case .matchesOfficialFile: status = "OK (official file)"
                case .matchesOfficialContent: status = "OK (official content)"
                case .mismatch: status = "MISMATCH"
                case .unknown: status = "no known checksum"
                }
                if f.status == .notChecked {
                    lines.append("  \(f.path)  \(f.bytes) bytes" + (f.detail.isEmpty ? "" : "  (\(f.detail))"))
                } else {
                    lines.append("  \(f.path)  \(f.bytes) bytes  sha256 \(f.sha256 ?? "-")  \(status)" + (f.detail.isEmpty ? "" : "  (\(f.detail))"))
                }
            }
        } else {
            lines.append("\(r.dataset.rawValue): not found")
        }
        var seen = Set<String>()
        for p in r.problems where seen.insert(p).inserted { lines.append("  problem: \(p)") }
    }
    return lines.joined(separator: "\n")
}
