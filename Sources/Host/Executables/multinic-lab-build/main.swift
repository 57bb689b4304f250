// Build-only: it depends on every module of the lab's three programs, so that the main job (examples/run) compiles
// them all in one build graph, both cores busy throughout, before multinicctl, multi-nicd and multi-nic are linked
// (which then takes seconds). Running it does nothing.
import MultiNICCLI
import MultiNICCNI
import MultiNICDaemon

print("multinic-lab-build only builds the lab's modules; run multinicctl, multi-nicd or multi-nic")
