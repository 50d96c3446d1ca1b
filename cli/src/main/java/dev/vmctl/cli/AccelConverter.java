package dev.vmctl.cli;

import dev.vmctl.model.VmSpec;
import dev.vmctl.model.VmctlException;
import picocli.CommandLine;

import java.util.Iterator;
import java.util.List;

/** {@code --accel auto|kvm|tcg}, checked by the model's own parser so the CLI and server agree. */
final class AccelConverter implements CommandLine.ITypeConverter<VmSpec.Accel> {
    @Override
    public VmSpec.Accel convert(String value) {
        try {
            return VmSpec.Accel.parse("accel", value);
        } catch (VmctlException e) {
            throw new CommandLine.TypeConversionException(e.getMessage() + " (" + e.detail() + ")");
        }
    }

    static final class Candidates implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return List.of("auto", "kvm", "tcg").iterator();
        }
    }
}
