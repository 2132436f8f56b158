/// Facts about this binary fixed when it was built (`BuildInfo.gitCommit` is written by the
/// `BuildInfoPlugin` build-tool plugin; see `Plugins/BuildInfoPlugin/plugin.swift`).
public enum BuildInfo {}
