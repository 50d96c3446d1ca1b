package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "scenario", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"Scenarios: timed faults (link down, impairment, partition, VM reboot/stop/kill, node stop) and checks",
                "(ping, http, tcp, exec) against a deployed topology, with a verdict and reports. Every fault is reverted",
                "at the end (also on abort, Ctrl-C and a server crash). File format: docs/scenario.md.",
                "  vmctl scenario validate -f failover.yaml",
                "  vmctl scenario run -f failover.yaml --topology shop --junit out.xml --html out.html",
                "  vmctl scenario save -f failover.yaml && vmctl scenario run cache-failover",
                "Exit codes of run and validate: 0 pass/valid, 1 fail/aborted, 2 invalid or not runnable."},
        subcommands = {ScenarioValidateCommand.class, ScenarioRunCommand.class, ScenarioSaveCommand.class, ScenarioListCommand.class,
                ScenarioShowCommand.class, ScenarioRmCommand.class, ScenarioRunsCommand.class, ScenarioReportCommand.class,
                ScenarioAbortCommand.class})
final class ScenarioCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
