package dev.vmctl.topology;

import dev.vmctl.model.VmctlException;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A topology file (or spec) that cannot be used. Kind INVALID; the message is the first problem
 * ({@link Problem#format()}), the detail lists every problem, one per line, in file order.
 */
public class TopologyException extends VmctlException {
    private final transient List<Problem> problems;

    public TopologyException(List<Problem> problems) {
        super(Kind.INVALID, problems.getFirst().format(),
                problems.stream().map(Problem::format).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() { return problems; }
}
