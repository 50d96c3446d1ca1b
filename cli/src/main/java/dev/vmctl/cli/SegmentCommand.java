package dev.vmctl.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "segment", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"Isolated segments: each is a network namespace of its own with a network named like it (no uplink;"
                + " segments never see each other's traffic and may use the same addresses). VMs on its network run in it;"
                + " `vmctl up -f FILE --segment NAME` puts a whole topology in it.",
                "  vmctl segment create lab1 --subnet 198.18.0.0/24 --ttl 10m --router",
                "  vmctl vm create a --image tiny --nic net=lab1,ip=198.18.0.10 --start",
                "  vmctl segment vpn lab1 --peer PUBKEY > lab1.conf"},
        subcommands = {SegmentCreateCommand.class, SegmentListCommand.class, SegmentShowCommand.class,
                SegmentRemoveCommand.class, SegmentVpnCommand.class})
final class SegmentCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing required subcommand");
    }
}
