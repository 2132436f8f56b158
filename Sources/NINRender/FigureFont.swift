// Whether the figures' font (DejaVu Sans) is found: without it Cairo falls back to its built-in
// outline font, every PDF font becomes Type 3 and glyphs such as − and × are missing boxes.

import CCairo
import Foundation

/// The check that `Canvas.fontFamily` resolves to a real font file through fontconfig, the font
/// selection Cairo's text uses.
public enum FigureFont {
    /// Why figures cannot be set in DejaVu Sans, or nil when fontconfig finds it.
    ///
    /// - Parameter configFile: a fontconfig configuration file to check instead of the process's
    ///   own (the one `FONTCONFIG_FILE` / `/etc/fonts/fonts.conf` selects); for tests.
    /// - Returns: one sentence naming the font, what fontconfig matched instead, the consequence
    ///   and the fix.
    public static func problem(configFile: String? = nil) -> String? {
        var config: OpaquePointer? = nil
        if let configFile {
            config = FcConfigCreate()
            guard FcConfigParseAndLoad(config, Array(configFile.utf8) + [0], 1) != 0, FcConfigBuildFonts(config) != 0 else {
                FcConfigDestroy(config)
                return "fontconfig cannot read \(configFile)"
            }
        }
        defer { if configFile != nil { FcConfigDestroy(config) } }
        let found = match(Canvas.fontFamily, config: config)
        if let found, found.family.caseInsensitiveCompare(Canvas.fontFamily) == .orderedSame { return nil }
        let instead = found.map { "fontconfig offers \"\($0.family)\" (\($0.file)) instead" } ?? "fontconfig finds no font at all"
        let where_ = configFile ?? ProcessInfo.processInfo.environment["FONTCONFIG_FILE"].map { "FONTCONFIG_FILE=\($0)" } ?? "the system fontconfig"
        return "the figures' font \(Canvas.fontFamily) is not found (\(instead), with \(where_)): their text is drawn in Cairo's built-in fallback font (Type 3 fonts in the PDFs, characters such as − and × missing). Install it (Debian: fonts-dejavu-core) or fix the fontconfig configuration"
    }

    /// The family and file fontconfig picks for `family`, nil when it has none.
    static func match(_ family: String, config: OpaquePointer?) -> (family: String, file: String)? {
        guard let pattern = FcNameParse(Array(family.utf8) + [0]) else { return nil }
        defer { FcPatternDestroy(pattern) }
        guard FcConfigSubstitute(config, pattern, FcMatchPattern) != 0 else { return nil }
        FcDefaultSubstitute(pattern)
        var result = FcResultNoMatch
        guard let font = FcFontMatch(config, pattern, &result), result == FcResultMatch else { return nil }
        defer { FcPatternDestroy(font) }
        func string(_ key: String) -> String? {
            var value: UnsafeMutablePointer<FcChar8>? = nil
            guard FcPatternGetString(font, key, 0, &value) == FcResultMatch, let value else { return nil }
            return String(cString: value)
        }
        guard let name = string("family"), let file = string("file") else { return nil }
        return (name, file)
    }
}
