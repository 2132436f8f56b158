import XCTest

final class PlaceholderNINRenderTests: XCTestCase {}
