package dev.vmctl.scenario;

import dev.vmctl.topology.Problem;
import dev.vmctl.topology.TopologyException;

import java.util.List;

/**
 * A scenario file that cannot be used. Kind INVALID; the message is the first problem
 * ({@link Problem#format()}), the detail lists every problem, one per line, in file order.
 * It extends {@link TopologyException} so that whoever reports a file's problems (the server's error
 * mapper, the CLI) handles both kinds of file the same way.
 */
public class ScenarioException extends TopologyException {
    public ScenarioException(List<Problem> problems) {
        super(problems);
    }
}
