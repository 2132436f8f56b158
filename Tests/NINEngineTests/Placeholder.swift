import XCTest

final class PlaceholderNINEngineTests: XCTestCase {}
