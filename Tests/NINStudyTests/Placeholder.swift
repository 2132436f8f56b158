import XCTest

final class PlaceholderNINStudyTests: XCTestCase {}
