import Foundation
@testable import NINStore
import XCTest

/// Output folders: created with their parents; a file in the way is named, not a Foundation error.
final class OutputFolderTests: XCTestCase {
    func testCreatesParentsAndAcceptsAnExistingFolder() throws {
        let root = try makeTemporaryFolder(self)
        let nested = root.appendingPathComponent("a/b/c")
        try OutputFolder.create(nested)
        try OutputFolder.create(nested)
        var isFolder: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested.path, isDirectory: &isFolder) && isFolder.boolValue)
    }

    func testAFileInTheWayIsNamed() throws {
        let root = try makeTemporaryFolder(self)
        let file = root.appendingPathComponent("report.html")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try OutputFolder.create(file)) { error in
            XCTAssertEqual(error as? OutputFolderError, .notAFolder(path: file.path, requested: file.path))
            XCTAssertEqual("\(error)", "cannot write into \(file.path): it is a file, not a folder (pass a folder)")
        }
        let below = file.appendingPathComponent("x/y")
        XCTAssertThrowsError(try OutputFolder.create(below)) { error in
            XCTAssertEqual(error as? OutputFolderError, .notAFolder(path: file.path, requested: below.path))
            XCTAssertTrue("\(error)".contains("\(file.path) is a file, not a folder"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: file), Data("x".utf8))
    }
}
