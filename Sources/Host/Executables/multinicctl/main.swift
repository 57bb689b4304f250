import ArgumentParser
import MultiNICCLI

// Subcommands with asynchronous work (lab, concheck) are awaited here; the others run as usual.
do {
    var command = try MultinicCtl.parseAsRoot()
    if let asynchronous = command as? any AsyncCommand {
        try await asynchronous.runAsync()
    } else {
        try command.run()
    }
} catch {
    MultinicCtl.exit(withError: error)
}
