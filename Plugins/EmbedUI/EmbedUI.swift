import Foundation
import PackagePlugin

/// Embeds the web UI in the server binary: every regular file directly in `Resources/ui` of the target becomes
/// an entry of a generated Swift table (name → bytes). The directory is listed on every build, so files the UI
/// adds or removes need no change here.
@main
struct EmbedUI: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        // `directory` (a Path) rather than `directoryURL`, which needs tools version 6.1.
        let directory = URL(fileURLWithPath: target.directory.string).appending(path: "Resources/ui")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { !$0.hasPrefix(".") }
            .sorted()
        let files = names.map { directory.appending(path: $0) }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedUI.swift")
        return [.buildCommand(
            displayName: "Embedding \(files.count) UI file(s)",
            executable: try context.tool(named: "EmbedUIGenerator").url,
            // A file added or removed changes these arguments, which reruns the command.
            arguments: [output.path] + files.map(\.path),
            inputFiles: files,
            outputFiles: [output]
        )]
    }
}
