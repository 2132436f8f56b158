import XCTest

final class PlaceholderNINDataTests: XCTestCase {}
