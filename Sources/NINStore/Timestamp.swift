import Foundation

/// ISO-8601 UTC timestamps with millisecond precision: the one text form every time column uses.
///
/// Format: `2026-11-29T09:19:36.123Z` (RFC 3339; `Z` = UTC). It is the text SQLite itself makes
/// with `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`, so stored times sort and compare as plain text.
public enum Timestamp {
    private static let formatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f
    }()
    private static let wholeSecondFormatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f
    }()
    private static let lock = NSLock()

    /// The text form of `date`, e.g. `2026-11-29T09:19:36.123Z`.
    public static func string(from date: Date) -> String {
        lock.lock(); defer { lock.unlock() }
        return formatter.string(from: date)
    }

    /// Parses a timestamp in the form ``string(from:)`` writes (whole seconds are accepted too);
    /// nil if the text is malformed.
    public static func date(from text: String) -> Date? {
        lock.lock(); defer { lock.unlock() }
        return formatter.date(from: text) ?? wholeSecondFormatter.date(from: text)
    }
}
