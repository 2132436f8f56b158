// Typed errors thrown by NINRender: PNG input/output failures and inconsistent render inputs.

/// An error thrown by the PNG codec or by a renderer whose inputs do not fit together.
///
/// Every case carries enough context (file path, which input, expected versus found) for the
/// command-line layer to print a useful message.
public enum RenderError: Error, Equatable, CustomStringConvertible {
    /// libpng refused to encode an image (`message` is libpng's own text).
    case encodeFailed(message: String)
    /// Writing or renaming the PNG at `path` failed.
    case writeFailed(path: String, message: String)
    /// Opening or decoding the PNG at `path` failed.
    case readFailed(path: String, message: String)
    /// An input array or count does not have the size implied by the other inputs.
    case shapeMismatch(what: String, expected: String, found: String)
    /// An input value is outside its allowed range.
    case invalidValue(what: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .encodeFailed(message):
            return "PNG encoding failed: \(message)"
        case let .writeFailed(path, message):
            return "cannot write PNG \(path): \(message)"
        case let .readFailed(path, message):
            return "cannot read PNG \(path): \(message)"
        case let .shapeMismatch(what, expected, found):
            return "\(what): expected \(expected), found \(found)"
        case let .invalidValue(what, expected, found):
            return "\(what): expected \(expected), found \(found)"
        }
    }
}
