import XCTest

final class PlaceholderNINStoreTests: XCTestCase {}
