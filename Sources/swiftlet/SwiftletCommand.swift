import ArgumentParser

/// The `swiftlet` command-line tool: one subcommand per file in this folder.
@main
struct SwiftletCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftlet",
        abstract: "A small, native LLM inference engine for CPUs.",
        subcommands: [
            GenerateCommand.self,
            ChatCommand.self,
            BatchCommand.self,
            PerplexityCommand.self,
            BenchCommand.self,
            InspectCommand.self,
            QuantizeCommand.self,
            KernelBenchCommand.self,
            TokenizeCommand.self,
            ServeCommand.self,
        ]
    )
}
